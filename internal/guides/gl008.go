package guides

import (
	"fmt"
	"math"
	"strings"

	"github.com/greenlang/loadgen/internal/kit/numfmt"
)

// GL008 is the SteamTrapInspector guide.
var GL008 Service = gl008{}

func init() { register(GL008) }

// gl008 is the SteamTrapInspector guide.
type gl008 struct{}

func (gl008) Name() string   { return "GL-008" }
func (gl008) Sizing() Sizing { return GrowthModel }

// Profile: gl008-step.js drives one endpoint of the table below per
// campaign, with loadgen's own timeout.
func (gl008) Profile() Profile {
	p := Profile{Scenario: "gl008-step", HealthPath: "/v1/steam-trap/health"}
	for _, ep := range endpoints {
		p.Endpoints = append(p.Endpoints, ep.name)
	}
	return p
}

// endpoint is what GL-008 documents for one endpoint of gl008-step.js.
type endpoint struct {
	name   string
	figure string  // the single-pod figure's id ("": none)
	what   string  // the figure, per pod
	factor float64 // measured req/s × factor = the figure's unit
	// components are the rows of the component table whose max throughput
	// is the same quantity; note qualifies one ("if a job is an
	// inspection").
	components []struct{ name, note string }
	latency    string  // the cluster's p95 figure at the documented load
	perMs      float64 // ms → the latency figure's unit
	// assumption says how a request counts towards the figure; without a
	// figure, why there is none.
	assumption string
}

// endpoints are gl008-step.js's endpoints (the default first) with GL-008's
// figures, in the order the lint reports them.
var endpoints = []endpoint{
	{name: "inspection", figure: "api_requests_per_s", what: "API requests/second per pod", factor: 1,
		components: []struct{ name, note string }{{"api-gateway", ""}},
		latency:    "api_latency_p95_ms", perMs: 1,
		assumption: "endpoint inspection (POST /v1/steam-trap/inspection) is one API request per iteration: compared with the single-pod API requests/second"},
	{name: "predictions", figure: "ml_predictions_per_s", what: "ML predictions/second per pod", factor: 1,
		components: []struct{ name, note string }{{"ml-service", ""}},
		assumption: "endpoint predictions (POST /v1/steam-trap/predictions) sends one inspection per request, so requests/s = predictions/s"},
	{name: "pipeline", figure: "inspections_per_min", what: "Inspections/minute per pod", factor: 60,
		components: []struct{ name, note string }{{"steam-trap-inspector", ""}, {"worker", " (if a job is an inspection)"}},
		latency:    "e2e_inspection_latency_p95_s", perMs: 0.001,
		assumption: "endpoint pipeline (POST /v1/steam-trap/inspection/full) is one full inspection per request: inspections/min = req/s × 60"},
	{name: "sensor-batch",
		assumption: "sensor-gateway's documented 5000 sensors (Scaling Overview) is a count of sensors, not a rate: a sensor-batch campaign has no documented figure to meet"},
}

// replicaComponent is the component whose pods the growth forecast calls
// replicas.
const replicaComponent = "steam-trap-inspector"

func (gl008) Check(b *Benchmarks) []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if b.Performance == nil || b.Performance.SinglePod == nil || b.Performance.Cluster == nil {
		bad("performance_benchmarks.single_pod and .cluster are required for %s", GL008.Name())
	} else {
		for _, ep := range endpoints {
			if _, ok := b.Performance.SinglePod.Get(ep.figure); ep.figure != "" && !ok {
				bad("performance_benchmarks.single_pod: figure %q is missing", ep.figure)
			}
		}
	}
	if b.Components == nil || len(b.Components.Rows) == 0 {
		bad("components.rows is required for %s", GL008.Name())
	}
	if b.CapacityMatrix == nil || len(b.CapacityMatrix.Rows) == 0 {
		bad("capacity_matrix.rows is required for %s", GL008.Name())
	}
	return errs
}

func (gl008) Select(b *Benchmarks, r Run) Selection {
	given := r.Workload().Endpoint
	name := strings.ToLower(given)
	if name == "" {
		name = endpoints[0].name
	}
	var ep *endpoint
	for i := range endpoints {
		if endpoints[i].name == name {
			ep = &endpoints[i]
		}
	}
	if ep == nil || ep.figure == "" {
		s := Selection{Used: fmt.Sprintf("none: the guide documents no throughput for endpoint %q", given)}
		if ep != nil {
			s.Notes = append(s.Notes, ep.assumption)
		}
		return s
	}
	sp, cl := b.Performance.SinglePod, b.Performance.Cluster
	f, _ := sp.Get(ep.figure)
	s := Selection{Used: fmt.Sprintf("%s = %s %s per pod (%s)", f.What, numfmt.Num(f.Value), f.Unit, sp.Section),
		Notes: []string{ep.assumption}, ID: "single_pod." + ep.figure, Figure: ep.what, Section: sp.Section, Unit: f.Unit,
		PerPod: f.Value, Factor: ep.factor}
	if c, ok := cl.Get(ep.figure); ok && cl.Replicas > 0 {
		s.Alternatives = append(s.Alternatives, Alternative{Source: "cluster " + c.What, Section: cl.Section, PerPod: c.Value / float64(cl.Replicas),
			Derived: fmt.Sprintf("%s %s ÷ %d replicas", numfmt.Num(c.Value), c.Unit, cl.Replicas)})
	}
	for _, cn := range ep.components {
		if c, ok := b.Components.Get(cn.name); ok && c.Replicas > 0 {
			s.Alternatives = append(s.Alternatives, Alternative{Source: c.Component + " max throughput" + cn.note, Section: b.Components.Section,
				PerPod: c.MaxThroughput / float64(c.Replicas), Derived: fmt.Sprintf("%s %s ÷ %d replicas", numfmt.Num(c.MaxThroughput), c.MaxThroughputUnit, c.Replicas)})
		}
	}
	if lf, ok := cl.Get(ep.latency); ok && ep.latency != "" {
		s.Latency = &Point{ID: "cluster." + ep.latency, Figure: lf.What, Section: cl.Section, Unit: lf.Unit, Value: lf.Value, PerMs: ep.perMs, Replicas: cl.Replicas}
	}
	return s
}

// Lint checks GL-008's per-pod figures against its component table and its
// cluster figures, the component table against its totals, and the
// capacity matrix and the resources per replica against the growth
// forecast script.
func (gl008) Lint(b *Benchmarks) []Disagreement {
	var out []Disagreement
	add := func(d Disagreement) { out = append(out, d) }
	num := numfmt.Num
	sp, cl := b.Performance.SinglePod, b.Performance.Cluster
	for _, ep := range endpoints {
		for _, cn := range ep.components {
			f, ok1 := sp.Get(ep.figure)
			c, ok2 := b.Components.Get(cn.name)
			if !ok1 || !ok2 || c.Replicas == 0 {
				continue
			}
			per := c.MaxThroughput / float64(c.Replicas)
			if math.Abs(per/f.Value-1) > 0.005 {
				add(Disagreement{Topic: c.Component + " throughput per pod", Sections: []string{b.Components.Section, sp.Section},
					Detail: fmt.Sprintf("%s: %s %s on %d replicas = %s %s per pod, but a single pod is documented at %s %s (%s)",
						c.Component, num(c.MaxThroughput), c.MaxThroughputUnit, c.Replicas, num(per), c.MaxThroughputUnit, num(f.Value), f.Unit, f.What),
					Concerns: "single_pod." + ep.figure})
			}
		}
	}
	for _, f := range sp.Figures {
		c, ok := cl.Get(f.ID)
		if !ok || cl.Replicas == 0 {
			continue
		}
		if math.Abs(c.Value/(f.Value*float64(cl.Replicas))-1) > 0.005 {
			add(Disagreement{Topic: f.What + " cluster vs single pod", Sections: []string{cl.Section, sp.Section},
				Detail:   fmt.Sprintf("cluster %s %s on %d replicas vs %d × %s %s", num(c.Value), c.Unit, cl.Replicas, cl.Replicas, num(f.Value), f.Unit),
				Concerns: "single_pod." + f.ID})
		}
	}
	for _, c := range b.Components.Rows {
		if !strings.Contains(c.MaxThroughputUnit, "/") {
			add(Disagreement{Topic: c.Component + " capacity is not a rate", Sections: []string{b.Components.Section},
				Detail: fmt.Sprintf("%s's max throughput is given as %s %s (a count, not a rate per time): no throughput can be compared with it", c.Component, num(c.MaxThroughput), c.MaxThroughputUnit)})
		}
	}
	out = append(out, lintTotals(b.Components)...)
	if g := b.GrowthForecast; g != nil && b.CapacityMatrix != nil {
		out = append(out, lintForecast(b, g)...)
	}
	return out
}

// lintTotals checks the component table's rows against its totals.
func lintTotals(cs *Components) []Disagreement {
	var out []Disagreement
	num := numfmt.Num
	var cpu, mem float64
	pods := 0
	for _, r := range cs.Rows {
		cpu += float64(r.Replicas*r.CPUPerPodMillis) / 1000
		mem += float64(r.Replicas) * r.MemoryPerPodGi
		pods += r.Replicas
	}
	t := cs.Totals
	if t.CPUCores > 0 && math.Abs(cpu-t.CPUCores) > 1e-9 {
		out = append(out, Disagreement{Topic: "total CPU", Sections: []string{t.Section, cs.Section},
			Detail: fmt.Sprintf("the rows add up to %s cores (replicas × CPU per pod); the total says %s", num(cpu), num(t.CPUCores))})
	}
	if t.MemoryGB > 0 && math.Abs(mem-t.MemoryGB) > 1e-9 {
		out = append(out, Disagreement{Topic: "total memory", Sections: []string{t.Section, cs.Section},
			Detail: fmt.Sprintf("the rows add up to %s Gi (%.1f GB); the total says %s GB", num(mem), mem*1.073741824, num(t.MemoryGB))})
	}
	if t.Pods > 0 && pods != t.Pods {
		out = append(out, Disagreement{Topic: "total pods", Sections: []string{t.Section, cs.Section},
			Detail: fmt.Sprintf("the rows add up to %d pods; the total says %d", pods, t.Pods)})
	}
	return out
}

// lintForecast checks the capacity matrix and the resources per replica
// against the growth forecast script's rule and constants.
func lintForecast(b *Benchmarks, g *GrowthForecast) []Disagreement {
	var out []Disagreement
	add := func(d Disagreement) { out = append(out, d) }
	num := numfmt.Num
	var diffs, dbDiffs []string
	for _, r := range b.CapacityMatrix.Rows {
		rule := max(g.MinReplicas, int(float64(r.InspectionsPerDay)/g.InspectionsPerDayPerBlock)*g.ReplicasPerBlock)
		if rule != r.Replicas {
			diffs = append(diffs, fmt.Sprintf("%s/day: %d vs %d", num(float64(r.InspectionsPerDay)), r.Replicas, rule))
		}
		if db := float64(r.Traps * g.DBGBPerTrap); db != r.DBSizeGB {
			dbDiffs = append(dbDiffs, fmt.Sprintf("%s traps: %s GB vs %s GB", num(float64(r.Traps)), num(r.DBSizeGB), num(db)))
		}
		if r.CPUCores != float64(r.Replicas)*g.CPUCoresPerReplica || r.MemoryGB != float64(r.Replicas*g.MemoryGBPerReplica) {
			add(Disagreement{Topic: "capacity matrix resources per replica", Sections: []string{b.CapacityMatrix.Section, g.Section},
				Detail: fmt.Sprintf("%d replicas → %s cores, %s GB in the matrix; the script's %g cores and %d GB per replica give %s and %d",
					r.Replicas, num(r.CPUCores), num(r.MemoryGB), g.CPUCoresPerReplica, g.MemoryGBPerReplica, num(float64(r.Replicas)*g.CPUCoresPerReplica), r.Replicas*g.MemoryGBPerReplica)})
		}
	}
	if len(diffs) > 0 {
		add(Disagreement{Topic: "capacity matrix replicas vs the forecast script's rule", Sections: []string{b.CapacityMatrix.Section, g.Section},
			Detail: fmt.Sprintf("matrix vs max(%d, int(inspections/day ÷ %s) × %d): %s", g.MinReplicas, num(g.InspectionsPerDayPerBlock), g.ReplicasPerBlock, strings.Join(diffs, "; "))})
	}
	if len(dbDiffs) > 0 {
		add(Disagreement{Topic: "database size", Sections: []string{b.CapacityMatrix.Section, g.Section},
			Detail: fmt.Sprintf("matrix vs the script's traps × %d GB (its comment says %d GB per 1000 traps, which would be 1000× less): %s",
				g.DBGBPerTrap, g.DBGBPerTrap, strings.Join(dbDiffs, "; "))})
	}
	sp := b.Performance.SinglePod
	if c, ok := b.Components.Get(replicaComponent); ok {
		add(Disagreement{Topic: "resources per replica", Sections: []string{g.Section, b.Components.Section, sp.Section},
			Detail: fmt.Sprintf("the forecast sizes %g cores and %d GB per replica; the component table gives %s pods %sm CPU and %s Gi; a single pod is documented to use %s cores and %s GB",
				g.CPUCoresPerReplica, g.MemoryGBPerReplica, c.Component, num(float64(c.CPUPerPodMillis)), num(c.MemoryPerPodGi), figure(sp, "cpu_cores_avg"), figure(sp, "memory_gb_avg"))})
	}
	if g.HoursPerMonth > 0 && g.HoursPerMonth < 100 {
		add(Disagreement{Topic: "monthly cost", Sections: []string{g.Section},
			Detail: fmt.Sprintf("the cost model multiplies per-hour prices ($%g per core-hour, $%g per GB-hour) by %s, not by the ~730 hours of a month: compute and memory cost is understated about %d×",
				g.CoreHourUSD, g.GBHourUSD, num(g.HoursPerMonth), int(math.Round(730/g.HoursPerMonth)))})
	}
	return out
}

// figure formats a figure of g, or "?" when g lacks it.
func figure(g *FigureGroup, id string) string {
	if f, ok := g.Get(id); ok {
		return numfmt.Num(f.Value)
	}
	return "?"
}
