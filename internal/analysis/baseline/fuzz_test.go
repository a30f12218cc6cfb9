package baseline_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/greenlang/loadgen/internal/analysis/baseline"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
)

// FuzzLoad: whatever a passing step's seconds file holds, Load returns
// that step's judged window as at most one latency per second of the
// window, each finite with 0 ≤ p50 ≤ p95, and the comparison of the run
// with itself finds no change; or bad input (exit 2) naming the step and
// the file. It never panics.
func FuzzLoad(f *testing.F) {
	for _, p := range []string{
		filepath.Join(template, "step-01.ndjson"),
		filepath.Join(template, "step-02.ndjson"),
		filepath.Join("testdata", "runs", "embedded-f0.28", "step-01.ndjson"),
	} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte(""))
	f.Add([]byte("{}\n"))
	// One run directory per fuzzing process: the template's run.json, and
	// step 1's seconds file (a passing step) rewritten by every input.
	dir := filepath.Join(f.TempDir(), "run")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(template, "run.json"))
	if err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "run.json"), b, 0o644); err != nil {
		f.Fatal(err)
	}
	seconds := filepath.Join(dir, "step-01.ndjson")
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(seconds, b, 0o644); err != nil {
			t.Fatal(err)
		}
		side, err := baseline.Load(dir)
		if err != nil {
			if exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), "step 1: "+seconds+":") {
				t.Fatalf("not bad input naming the step and the file: %v", err)
			}
			return
		}
		st := side.Run.Steps[0]
		secs := side.Seconds[st.Index]
		if n := st.WindowEnd - st.WindowStart + 1; int64(len(secs)) > n {
			t.Fatalf("%d seconds in a window of %d", len(secs), n)
		}
		for i, s := range secs {
			if !(s.P50Ms >= 0 && s.P50Ms <= s.P95Ms) || math.IsInf(s.P95Ms, 0) {
				t.Fatalf("second %d of the window: p50 %v, p95 %v", i, s.P50Ms, s.P95Ms)
			}
		}
		if res := baseline.Compare(side, side); res.Verdict != baseline.NoChange {
			t.Fatalf("a run against itself: %s, %q", res.Verdict, res.Reasons)
		}
	})
}
