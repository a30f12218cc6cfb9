package history

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/greenlang/loadgen/internal/analysis/changepoint"
	"github.com/greenlang/loadgen/internal/core/runrecord"
)

// FuzzLoadRunDirs: whatever a run directory's run.json holds, LoadRunDirs
// returns, for the folder of it and two recorded runs, observations of
// completed campaigns only, each with a measured rate (finite, > 0), a
// first failing rate above it when there is one, a start, a scenario and a
// target, and the analysis of them runs; or bad input naming the file. It
// never panics.
func FuzzLoadRunDirs(f *testing.F) {
	var recorded []string
	for _, p := range []string{
		filepath.Join("..", "report", "testdata", "runs", "gl008-1replica"),
		filepath.Join("..", "report", "testdata", "runs", "pipeline-interrupted"),
		filepath.Join("..", "report", "testdata", "runs", "gl008-generator-bound"),
		filepath.Join("..", "..", "core", "runrecord", "testdata", "v1-d4f14ec"),
	} {
		b, err := os.ReadFile(filepath.Join(p, runrecord.FileName))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		recorded = append(recorded, string(b))
	}
	f.Add([]byte(`{"schema":"loadgen/run/v1","status":"completed","started_at":"2026-11-22T06:00:00Z","scenario":"s","target":"t","breakpoint":{"max_sustainable_rps":300,"first_failing_rps":250}}`))
	f.Add([]byte(""))
	// One folder per fuzzing process: two recorded runs beside the fuzzed one.
	root := f.TempDir()
	for i, b := range recorded[:2] {
		dir := filepath.Join(root, []string{"a", "b"}[i])
		if err := os.MkdirAll(dir, 0o755); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, runrecord.FileName), []byte(b), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	fuzzed := filepath.Join(root, "c")
	if err := os.MkdirAll(fuzzed, 0o755); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(fuzzed, runrecord.FileName)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		obs, _, err := LoadRunDirs([]string{root})
		if err != nil {
			if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), path) {
				t.Fatalf("not bad input naming the file: %v", err)
			}
			return
		}
		for _, o := range obs {
			run, err := runrecord.Read(o.Run)
			if err != nil || run.Status != runrecord.Completed {
				t.Fatalf("an observation of a run that is not a completed one: %v, %+v", err, o)
			}
			if !(o.MaxSustainableRPS > 0) || math.IsInf(o.MaxSustainableRPS, 0) || o.FirstFailingRPS != 0 && !(o.FirstFailingRPS > o.MaxSustainableRPS) ||
				o.StartedAt.IsZero() || o.Scenario == "" || o.Target == "" {
				t.Fatalf("an observation that does not count: %+v", o)
			}
		}
		res := Analyze(obs, changepoint.Defaults)
		n := 0
		for _, s := range res.Series {
			n += len(s.Points)
		}
		if n != len(obs) {
			t.Fatalf("%d observations, %d points in the series", len(obs), n)
		}
	})
}
