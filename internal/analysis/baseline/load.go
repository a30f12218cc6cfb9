package baseline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// Load reads the run directory dir into a Side: its run.json and the
// per-second latency of its passing steps' judged windows. A seconds file
// that is missing, or whose last line was cut short, is a warning (that
// step's latency is not compared, or only what was read before it); a
// run.json that cannot be read is an error, and so is a seconds file that
// holds what no writer writes (measure.ErrSchema, measure.ErrInvalid, a
// line that is not JSON): bad input (exit 2) naming the file, the line and
// the field, never a comparison that quietly leaves the step out.
func Load(dir string) (Side, error) {
	run, err := runrecord.Read(dir)
	if err != nil {
		return Side{}, err
	}
	return LoadRun(dir, run)
}

// LoadRun is Load of a run already read from dir.
func LoadRun(dir string, run *runrecord.Run) (Side, error) {
	s := Side{Name: name(dir), Run: run, Seconds: map[int][]Second{}}
	for _, st := range run.Steps {
		if st.Verdict != breakpoint.Pass || st.Excluded != "" {
			continue
		}
		if st.SecondsFile == "" {
			s.Warnings = append(s.Warnings, fmt.Sprintf("step %d has no seconds file: its latency is not compared", st.Index))
			continue
		}
		secs, err := measure.ReadFile(filepath.Join(dir, st.SecondsFile))
		switch {
		case errors.Is(err, os.ErrNotExist):
			s.Warnings = append(s.Warnings, fmt.Sprintf("step %d: %s is missing: its latency is not compared", st.Index, st.SecondsFile))
			continue
		case errors.Is(err, measure.ErrTruncated), errors.As(err, new(*fs.PathError)): // cut short, or unreadable
			s.Warnings = append(s.Warnings, fmt.Sprintf("step %d: %v (using what was read before it)", st.Index, err))
		case err != nil:
			return Side{}, exitcode.Usage("%s: step %d: %v", s.Name, st.Index, err)
		}
		s.Seconds[st.Index] = WindowSeconds(secs, st)
	}
	return s, nil
}

// WindowSeconds returns the latency of each second of the step's judged
// window that completed a request: the median and p95 of its successful
// requests (what the latency limits judge), or of all of them for records
// written before successes were kept apart.
func WindowSeconds(secs []measure.Second, st runrecord.Step) []Second {
	var out []Second
	for _, sec := range measure.FoldLate(secs) {
		if !st.InWindow(sec.StartUnix) {
			continue
		}
		h := sec.LatencyOK
		if h == nil {
			h = sec.Latency
		}
		if h == nil || h.Count() == 0 {
			continue
		}
		out = append(out, Second{P50Ms: h.PercentileMillis(50), P95Ms: h.PercentileMillis(95)})
	}
	return out
}

func name(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return filepath.Base(abs)
	}
	return filepath.Base(filepath.Clean(dir))
}

// ReadDir reads the baseline run directory a user named (--baseline DIR);
// anything wrong with it is bad input (exit 2).
func ReadDir(dir string) (*Side, error) {
	run, err := runrecord.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("--baseline: %w", err)
	}
	side, err := LoadRun(dir, run)
	if err != nil {
		return nil, fmt.Errorf("--baseline: %w", err)
	}
	return &side, nil
}

// CompareDir compares the run in dir with base; nil without a baseline.
// A seconds file of the run that holds what no writer writes is bad input
// (LoadRun).
func CompareDir(dir string, run *runrecord.Run, base *Side) (*Result, error) {
	if base == nil {
		return nil, nil
	}
	side, err := LoadRun(dir, run)
	if err != nil {
		return nil, err
	}
	return Compare(side, *base), nil
}
