package hpa

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/greenlang/loadgen/internal/kit/exitcode"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/internal/kit/texttable"
)

// SimRun is the controller simulated over a metric timeline, as
// `loadgen autoscale simulate` runs it.
type SimRun struct {
	// Name is how the HPA was named (a built-in name or a file).
	Name string
	// Spec is the HPA; Sim the part of it the timeline has metrics for,
	// and Left the metrics it has none for.
	Spec, Sim *Spec
	Left      []string
	Options   SimOptions
	Decisions []Decision
}

// SimulateTimeline reads the metric timeline (CSV, see ParseTimeline; path
// names it in errors) and runs the controller over it. Unless given, the
// initial replica count is the HPA's minReplicas, and the duration runs
// until the last row plus twice the HPA's longest window. Anything wrong
// is bad input.
func SimulateTimeline(name string, spec *Spec, timeline io.Reader, path string, o SimOptions, initialGiven, durationGiven bool) (*SimRun, error) {
	tl, err := ParseTimeline(timeline, spec)
	if err != nil {
		return nil, exitcode.Usage("%s: %v", path, err)
	}
	sim := spec.Only(tl.Keys)
	if !initialGiven {
		o.Initial = spec.Min
	}
	if o.Initial < 0 || o.Sync <= 0 || o.Startup < 0 || o.Duration < 0 {
		return nil, exitcode.Usage("autoscale simulate: --initial ≥ 0, --sync > 0, --startup ≥ 0 and --duration ≥ 0, please")
	}
	if !durationGiven {
		o.Duration = tl.Samples[len(tl.Samples)-1].At + 2*spec.Windows()
	}
	if o.Duration/o.Sync > 100_000 {
		return nil, exitcode.Usage("autoscale simulate: --duration %v is more than 100000 syncs of %v", o.Duration, o.Sync)
	}
	ds, err := Simulate(sim, tl.Samples, o)
	if err != nil {
		return nil, exitcode.Usage("autoscale simulate: %v", err)
	}
	r := &SimRun{Name: name, Spec: spec, Sim: sim, Options: o, Decisions: ds}
	for _, m := range spec.Metrics {
		if _, ok := sim.Metric(m.Key); !ok {
			r.Left = append(r.Left, m.Key)
		}
	}
	return r, nil
}

// WriteJSON writes the simulation as JSON.
func (r *SimRun) WriteJSON(w io.Writer) error {
	name, spec, sim, left, o, ds := r.Name, r.Spec, r.Sim, r.Left, r.Options, r.Decisions
	type metric struct {
		Key    string  `json:"metric"`
		Target string  `json:"target"`
		Value  float64 `json:"value"`
	}
	var ms []metric
	for _, m := range sim.Metrics {
		ms = append(ms, metric{m.Key, string(m.Target), m.TargetValue})
	}
	out := struct {
		HPA         string     `json:"hpa"`
		Spec        string     `json:"spec"`
		Metrics     []metric   `json:"metrics"`
		LeftOut     []string   `json:"metrics_left_out,omitempty"`
		Initial     int32      `json:"initial_replicas"`
		SyncS       float64    `json:"sync_s"`
		StartupS    float64    `json:"startup_s"`
		ColdStart   bool       `json:"cold_start"`
		Syncs       []Decision `json:"syncs"`
		FinalDesire int32      `json:"final_replicas"`
	}{name, spec.Describe(), ms, left, o.Initial, o.Sync.Seconds(), o.Startup.Seconds(), o.ColdStart, ds, ds[len(ds)-1].Desired}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteText writes the simulation as a table of syncs and its scale events.
func (r *SimRun) WriteText(w io.Writer) error {
	name, spec, sim, left, o, ds := r.Name, r.Spec, r.Sim, r.Left, r.Options, r.Decisions
	e := &texttable.Errf{W: w}
	e.P("HPA %s: %s", name, spec.Describe())
	if len(left) > 0 {
		e.P("not in the timeline, left out: %s", strings.Join(left, ", "))
	}
	history := "after a steady run at that count"
	if o.ColdStart {
		history = "cold start (no history)"
	}
	e.P("%d replicas at 0 s, %s; a sync every %v; pods ready %v after they are created\n", o.Initial, history, o.Sync, o.Startup)
	header := []string{"t (s)", "replicas", "ready"}
	for _, m := range sim.Metrics {
		header = append(header, m.Key+" (ratio)")
	}
	header = append(header, "recommended", "set", "reason")
	var rows [][]string
	for _, d := range ds {
		row := []string{numfmt.Num(d.AtS), fmt.Sprint(d.Current), fmt.Sprint(d.Ready)}
		for i := range sim.Metrics {
			cell := "—"
			if i < len(d.Metrics) {
				if r := d.Metrics[i]; r.Error == "" {
					cell = fmt.Sprintf("%s (%.3f)", numfmt.Num(r.Current), r.Ratio)
				} else {
					cell = "missing"
				}
			}
			row = append(row, cell)
		}
		set := fmt.Sprint(d.Desired)
		if d.Desired != d.Current {
			set = fmt.Sprintf("%d → %d", d.Current, d.Desired)
		}
		row = append(row, fmt.Sprint(d.Recommendation), set, d.Reason)
		rows = append(rows, row)
	}
	e.Table(header, rows)
	var ch []string
	for _, d := range ds {
		if d.Desired != d.Current {
			ch = append(ch, fmt.Sprintf("%s s: %d → %d", numfmt.Num(d.AtS), d.Current, d.Desired))
		}
	}
	if len(ch) == 0 {
		ch = []string{"none"}
	}
	e.P("\nscale events: %s", strings.Join(ch, "; "))
	return e.Err
}
