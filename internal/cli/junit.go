package cli

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/greenlang/loadgen/internal/analysis/baseline"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/kit/atomicfile"
	"github.com/greenlang/loadgen/internal/reporting/junit"
	"github.com/greenlang/loadgen/internal/reporting/report"
)

func readBaseline(dir string) (*baseline.Side, error) { return baseline.ReadDir(dir) }

var compareBaseline = baseline.CompareDir

// junitOf builds the JUnit report of the run in dir from its report (nil
// when there is none: the guide gate is then skipped with why) and its
// comparison with a baseline (nil: none given).
func junitOf(dir string, run *runrecord.Run, rep *report.Report, cmp *baseline.Result) *junit.Suites {
	in := junit.Input{Dir: runName(dir), Run: run, Baseline: cmp}
	in.Hostname, _ = os.Hostname()
	switch {
	case rep != nil && rep.Comparison != nil:
		in.Comparison = rep.Comparison
	case len(run.Steps) == 0:
		in.ComparisonErr = "no step was run: nothing to compare with the guide"
	default:
		in.ComparisonErr = "the comparison with the guide could not be made"
	}
	return junit.Build(in)
}

// writeJUnitFile writes the report to path atomically: a reader (a CI
// step) sees the old file or the new one, never a torn one.
func writeJUnitFile(path string, doc *junit.Suites) error {
	err := atomicfile.Write(path, func(w io.Writer) error { return doc.Write(w) })
	if errors.Is(err, fs.ErrNotExist) {
		return usageErr("--junit %s: directory %s does not exist", path, filepath.Dir(path))
	}
	return err
}

// checkJUnitPath fails early, before any load is sent, when --junit names a
// file in a directory that does not exist or a directory.
func checkJUnitPath(path string) error {
	if path == "" {
		return nil
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
		return usageErr("--junit %s: directory %s does not exist", path, filepath.Dir(path))
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return usageErr("--junit %s is a directory: give a file name, e.g. %s", path, filepath.Join(path, "junit.xml"))
	}
	return nil
}

func runName(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return filepath.Base(abs)
	}
	return filepath.Base(filepath.Clean(dir))
}
