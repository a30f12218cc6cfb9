package cli

import (
	"github.com/greenlang/loadgen/internal/analysis/baseline"
	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/reporting/junit"
	"github.com/greenlang/loadgen/internal/reporting/report"
)

func readBaseline(dir string) (*baseline.Side, error) { return baseline.ReadDir(dir) }

var compareBaseline = baseline.CompareDir

// junitOf builds the JUnit report of the run in dir from its report (nil
// when there is none) and its comparison with a baseline (nil: none given).
func junitOf(dir string, run *runrecord.Run, rep *report.Report, cmp *baseline.Result) *junit.Suites {
	var guide *compare.Result
	if rep != nil {
		guide = rep.Comparison
	}
	return junit.ForRun(dir, run, guide, cmp)
}

var (
	writeJUnitFile = junit.WriteFile
	checkJUnitPath = junit.CheckPath
)
