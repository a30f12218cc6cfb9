package runrecord

import (
	"cmp"

	"github.com/greenlang/loadgen/internal/guides"
)

// Workload is what the run exercised, as the guides attribute it
// (guides.Run): its configuration's, with the scenario run.json names when
// the configuration has none.
func (r *Run) Workload() guides.Workload {
	w := r.Config.Workload()
	w.Scenario = cmp.Or(w.Scenario, r.Scenario)
	return w
}
