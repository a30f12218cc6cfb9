package history

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/greenlang/loadgen/internal/reporting/live"
	"github.com/greenlang/loadgen/internal/reporting/promseries"
)

// Merge adds the runs read from Prometheus to those read from run
// directories. With both, a run directory's target is put in the pushed
// label's form (live.TargetLabel) so that one series from both sources is one
// series, and a run present in both (same series, run name and start, to the
// millisecond the push keeps) counts once. Pushed runs that do not count
// (Uncounted) are left out with a note each, as run directories are.
func Merge(dirs []Observation, prom []promseries.Observation, both bool) (obs []Observation, notes []string) {
	type id struct {
		k   Key
		run string
		at  int64
	}
	seen := map[id]bool{}
	out := make([]Observation, 0, len(dirs)+len(prom))
	for _, o := range dirs {
		if both {
			o.Target = live.TargetLabel(o.Target)
		}
		seen[id{o.Key(), filepath.Base(o.Run), o.StartedAt.Round(time.Millisecond).UnixMilli()}] = true
		out = append(out, o)
	}
	for _, p := range prom {
		o := Observation{Scenario: p.Scenario, Endpoint: p.Endpoint, Target: p.Target, Replicas: p.Replicas,
			Run: p.Run, StartedAt: p.StartedAt, MaxSustainableRPS: p.MaxSustainableRPS}
		if seen[id{o.Key(), o.Run, o.StartedAt.Round(time.Millisecond).UnixMilli()}] {
			continue
		}
		if why := Uncounted(p.Completed, "not completed", p.MaxSustainableRPS); why != "" {
			notes = append(notes, fmt.Sprintf("skipped run %s of %s (from Prometheus): %s", o.Run, o.Key(), why))
			continue
		}
		out = append(out, o)
	}
	return out, notes
}
