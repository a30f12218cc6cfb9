// Package signoff is a release sign-off: a plan (which service, which
// checks, each check's gates), the checks run one after the other in this
// process by the code of their own commands (the campaign session, sweep,
// autoscale, preflight), each in its own run directory inside the sign-off
// directory, every gate judged into a verdict — SIGNED-OFF, REJECTED,
// INCONCLUSIVE or INCOMPLETE — and the report a release manager signs:
// signoff.json, signoff.md, signoff.html and junit.xml. The plan and the
// judging are pure (plan.go, judge.go); run.go runs the checks, report.go
// renders. docs/signoff.md is the manual.
package signoff

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
	"github.com/greenlang/loadgen/internal/kube/hpa"
	"github.com/greenlang/loadgen/internal/session/autoscale"
	"github.com/greenlang/loadgen/internal/session/preflight"
	"github.com/greenlang/loadgen/internal/session/sweep"
	"github.com/greenlang/loadgen/internal/target/reftarget"
	builtin "github.com/greenlang/loadgen/scenarios/signoff"
)

// PlanSchema identifies this version of the plan files.
const PlanSchema = "loadgen/signoff-plan/v1"

// The check kinds (docs/signoff.md), each run by the code of its own
// command: preflight (session/preflight), campaign and soak (the campaign
// session), sweep (session/sweep), autoscale (session/autoscale), and
// regression (analysis/baseline over a previous sign-off).
const (
	KindCampaign   = "campaign"
	KindRegression = "regression"
	KindPreflight  = "preflight"
	KindSweep      = "sweep"
	KindAutoscale  = "autoscale"
	KindSoak       = "soak"
)

// implemented are the kinds, in the order the docs list them.
var implemented = []string{KindPreflight, KindCampaign, KindSweep, KindAutoscale, KindSoak, KindRegression}

// RequiresCluster marks a check that needs a Kubernetes cluster: against
// the embedded target it is skipped, not applicable, and the report says so.
const RequiresCluster = "cluster"

// Plan is a sign-off plan: a YAML file (scenarios/signoff/*.yaml for the
// built-in ones). docs/signoff.md documents every field.
type Plan struct {
	Schema      string `yaml:"schema" json:"schema"`
	Name        string `yaml:"name" json:"name"`
	Service     string `yaml:"service" json:"service"`
	Description string `yaml:"description" json:"description,omitempty"`
	// Replicas is how many pods serve the target under test (the embedded
	// target's size); per-pod figures divide by it. 0: 1.
	Replicas int `yaml:"replicas" json:"replicas"`
	// Defaults are campaign settings (the keys of a campaign file) for
	// every campaign check; Quick those that --quick puts over everything.
	Defaults yaml.Node `yaml:"defaults" json:"-"`
	Quick    yaml.Node `yaml:"quick" json:"-"`
	Checks   []Check   `yaml:"checks" json:"checks"`

	// Source is where the plan was read from ("built-in gl008-release" or a
	// path), Bytes its text as read.
	Source string `yaml:"-" json:"source"`
	Bytes  []byte `yaml:"-" json:"-"`
}

// Check is one check of a plan.
type Check struct {
	Name string `yaml:"name" json:"name"`
	Kind string `yaml:"kind" json:"kind"`
	// Requires is "" or "cluster".
	Requires string `yaml:"requires" json:"requires,omitempty"`
	// Endpoint is a campaign's ENDPOINT (one of the service's).
	Endpoint string `yaml:"endpoint" json:"endpoint,omitempty"`
	// Replicas overrides the plan's for this campaign (0: the plan's).
	Replicas int `yaml:"replicas" json:"replicas,omitempty"`
	// Settings and Quick are campaign settings of this check, over the
	// plan's (Quick only with --quick).
	Settings yaml.Node `yaml:"settings" json:"-"`
	QuickSet yaml.Node `yaml:"quick" json:"-"`
	Gates    Gates     `yaml:"gates" json:"gates"`
	// Skip are preflight checks not run, accepted as not needed (as
	// `loadgen preflight --skip`).
	Skip []string `yaml:"skip" json:"skip,omitempty"`
	// Counts are a sweep's replica counts, in the order run (the first is
	// the base its efficiency is relative to).
	Counts []int `yaml:"counts" json:"counts,omitempty"`
	// Autoscale: the HPA spec (a built-in name or a file; default the
	// service's), the load profile (default autoscale.DefaultPhases) and
	// the embedded target's HPA clock (time_scale), each with its --quick
	// value; KubeHPA is a real service's HPA, read through --kubeconfig.
	HPA            string  `yaml:"hpa" json:"hpa,omitempty"`
	Phases         string  `yaml:"phases" json:"phases,omitempty"`
	QuickPhases    string  `yaml:"quick_phases" json:"quick_phases,omitempty"`
	TimeScale      float64 `yaml:"time_scale" json:"time_scale,omitempty"`
	QuickTimeScale float64 `yaml:"quick_time_scale" json:"quick_time_scale,omitempty"`
	KubeHPA        string  `yaml:"kube_hpa" json:"kube_hpa,omitempty"`
}

// Gates are a check's gates. A campaign has BreakingPoint and may have
// P95Ms and P99Ms; a regression check has none (it gates every campaign
// of the baseline).
type Gates struct {
	BreakingPoint *Capacity `yaml:"breaking_point" json:"breaking_point,omitempty"`
	// Rate is a soak's rate: the documented capacity per pod it holds
	// (benchmark or value, as BreakingPoint; its tolerance is unused).
	Rate *Capacity `yaml:"rate" json:"rate,omitempty"`
	// Efficiency is a sweep's scaling efficiency: a documented cluster
	// figure (its per-pod value ÷ the single-pod one) or a literal
	// fraction, within −Tolerance.
	Efficiency *Capacity `yaml:"efficiency" json:"efficiency,omitempty"`
	P95Ms      *Limit    `yaml:"p95_ms" json:"p95_ms,omitempty"`
	P99Ms      *Limit    `yaml:"p99_ms" json:"p99_ms,omitempty"`
}

// Capacity is a breaking-point gate: the capacity per pod against a
// documented figure (Benchmark, resolved through internal/guides) or a
// literal Value in req/s per pod, within ±Tolerance (0: compare's 10%).
type Capacity struct {
	Benchmark string  `yaml:"benchmark" json:"benchmark,omitempty"`
	Value     float64 `yaml:"value" json:"value,omitempty"`
	Tolerance float64 `yaml:"tolerance" json:"tolerance,omitempty"`
}

// Limit is a latency limit in ms: a documented figure (Benchmark) or a
// literal Value.
type Limit struct {
	Benchmark string  `yaml:"benchmark" json:"benchmark,omitempty"`
	Value     float64 `yaml:"value" json:"value,omitempty"`
}

// ErrPlan is wrapped by every problem of a plan (bad input, exit 2).
var ErrPlan = errors.New("bad sign-off plan")

// Names lists the built-in plans.
func Names() []string { return builtin.Names() }

// Read finds a plan by name ("gl008-release": the built-in one) or path,
// and parses and validates it.
func Read(nameOrPath string) (*Plan, error) {
	b, src, err := find(nameOrPath)
	if err != nil {
		return nil, err
	}
	return Parse(b, src)
}

func find(nameOrPath string) ([]byte, string, error) {
	if strings.ContainsRune(nameOrPath, os.PathSeparator) || strings.HasSuffix(nameOrPath, ".yaml") || strings.HasSuffix(nameOrPath, ".yml") {
		b, err := os.ReadFile(nameOrPath)
		if err != nil {
			return nil, "", exitcode.Usage("--plan: %v", err)
		}
		return b, filepath.Base(nameOrPath), nil
	}
	b, err := builtin.Builtin(nameOrPath)
	if err != nil {
		return nil, "", exitcode.Usage("--plan %q: no such built-in plan (built in: %s), and not a path to a .yaml file", nameOrPath, strings.Join(Names(), ", "))
	}
	return b, nameOrPath + ".yaml", nil
}

// Parse decodes a plan strictly (unknown keys are errors) and validates
// it; name is the file's name in errors ("plan gl008-release.yaml: …").
// Every problem is bad input (exit 2) wrapping ErrPlan.
func Parse(b []byte, name string) (*Plan, error) {
	p := &Plan{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(p); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, planErr(name, "the plan is empty: want schema, name, service and checks (see docs/signoff.md)")
		}
		return nil, planErr(name, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	p.Source, p.Bytes = name, b
	if probs := p.validate(); len(probs) > 0 {
		return nil, planErr(name, "%s", strings.Join(probs, "; "))
	}
	return p, nil
}

func planErr(name, format string, args ...any) error {
	return exitcode.New(exitcode.BadInput, planError("plan "+name+": "+fmt.Sprintf(format, args...)))
}

// planError is a problem of a plan: its message alone, and ErrPlan.
type planError string

func (e planError) Error() string        { return string(e) }
func (e planError) Is(target error) bool { return target == ErrPlan }

// reserved are the campaign keys a plan's settings may not set: the
// sign-off sets them (the target, the service's script, the check's
// endpoint, the plan's replicas) or gates on them itself.
var reserved = []string{"target", "scenario", "endpoint", "replicas", "min_rps", "target_capacity_factor"}

// validate lists every problem, each naming its field path and what was
// expected.
func (p *Plan) validate() []string {
	var probs []string
	bad := func(path, format string, args ...any) {
		probs = append(probs, path+": "+fmt.Sprintf(format, args...))
	}
	if p.Schema != PlanSchema {
		bad("schema", "%q: want %q", p.Schema, PlanSchema)
	}
	if strings.TrimSpace(p.Name) == "" {
		bad("name", "must not be empty")
	}
	svc, ok := guides.Lookup(p.Service)
	if !ok {
		bad("service", "%q: want one of %s", p.Service, strings.Join(serviceNames(), ", "))
	}
	if p.Replicas < 0 || p.Replicas > 64 {
		bad("replicas", "%d: want 1–64 (0: 1)", p.Replicas)
	}
	for _, n := range []struct {
		path string
		node *yaml.Node
	}{{"defaults", &p.Defaults}, {"quick", &p.Quick}} {
		if msg := settingsProblem(n.node); msg != "" {
			bad(n.path, "%s", msg)
		}
	}
	if len(p.Checks) == 0 {
		bad("checks", "must list at least one check")
	}
	seen := map[string]bool{}
	for i := range p.Checks {
		c := &p.Checks[i]
		at := fmt.Sprintf("checks[%d]", i)
		switch {
		case c.Name == "":
			bad(at+".name", "must not be empty")
		case !validName(c.Name):
			bad(at+".name", "%q: want letters, digits, '-' and '_' only (it names the check's directory and its gates)", c.Name)
		case seen[c.Name]:
			bad(at+".name", "%q: another check has this name", c.Name)
		}
		seen[c.Name] = true
		if c.Replicas < 0 || c.Replicas > 64 {
			bad(at+".replicas", "%d: want 1–64 (0: the plan's)", c.Replicas)
		}
		if c.Requires != "" && c.Requires != RequiresCluster {
			bad(at+".requires", "%q: want %q or nothing", c.Requires, RequiresCluster)
		}
		switch {
		case slices.Contains(implemented, c.Kind):
		default:
			bad(at+".kind", "%q: want one of %s", c.Kind, strings.Join(implemented, ", "))
			continue
		}
		if !ok {
			continue
		}
		switch c.Kind {
		case KindCampaign, KindSoak:
			probs = append(probs, p.validateCampaign(svc, c, at)...)
		case KindSweep:
			probs = append(probs, p.validateSweep(svc, c, at)...)
		case KindAutoscale:
			probs = append(probs, p.validateAutoscale(svc, c, at)...)
		case KindRegression:
			if c.Endpoint != "" || c.Replicas != 0 || !c.Settings.IsZero() || !c.QuickSet.IsZero() || c.Gates != (Gates{}) || len(c.Skip) > 0 {
				bad(at, "a regression check takes only name, kind and requires (it gates every campaign of the baseline sign-off)")
			}
		case KindPreflight:
			if c.Endpoint != "" || c.Replicas != 0 || !c.Settings.IsZero() || !c.QuickSet.IsZero() || c.Gates != (Gates{}) {
				bad(at, "a preflight check takes only name, kind, requires and skip (its gates are the checklist's items)")
			}
			for k, id := range c.Skip {
				if !slices.Contains(preflight.IDs, id) {
					bad(fmt.Sprintf("%s.skip[%d]", at, k), "%q: want one of %s", id, strings.Join(preflight.IDs, ", "))
				}
			}
		}
	}
	lastCampaign := -1
	for i, c := range p.Checks {
		if c.Kind == KindCampaign {
			lastCampaign = i
		}
	}
	for i, c := range p.Checks {
		if c.Kind == KindRegression && i < lastCampaign {
			bad(fmt.Sprintf("checks[%d]", i), "a regression check must come after every campaign check (it compares their breaking points with the baseline's)")
		}
	}
	if len(probs) == 0 {
		// Every campaign's settings must make a campaign, with and
		// without --quick: a bad plan runs nothing.
		for _, quick := range []bool{false, true} {
			for i := range p.Checks {
				if k := p.Checks[i].Kind; k != KindCampaign && k != KindSoak && k != KindSweep {
					continue
				}
				cfg, err := p.CampaignConfig(i, quick, campaign.EmbeddedTarget)
				if err == nil {
					err = cfg.Validate()
				}
				for _, n := range p.Checks[i].Counts {
					if err == nil {
						err = sweep.PerReplica(cfg, n).Validate()
					}
				}
				if err != nil {
					mode := ""
					if quick {
						mode = " (with --quick)"
					}
					bad(fmt.Sprintf("checks[%d]", i), "its campaign%s: %v", mode, err)
				}
			}
			if len(probs) > 0 {
				break
			}
		}
	}
	return probs
}

func (p *Plan) validateCampaign(svc guides.Service, c *Check, at string) []string {
	var probs []string
	bad := func(path, format string, args ...any) {
		probs = append(probs, path+": "+fmt.Sprintf(format, args...))
	}
	prof := svc.Profile()
	if !prof.Serves(c.Endpoint) {
		bad(at+".endpoint", "%q: want one of %s's: %s", c.Endpoint, svc.Name(), strings.Join(prof.Endpoints, ", "))
		return probs
	}
	for _, n := range []struct {
		path string
		node *yaml.Node
	}{{".settings", &c.Settings}, {".quick", &c.QuickSet}} {
		if msg := settingsProblem(n.node); msg != "" {
			bad(at+n.path, "%s", msg)
		}
	}
	bp, gate := c.Gates.BreakingPoint, ".gates.breaking_point"
	if c.Kind == KindSoak {
		if bp != nil {
			bad(at+".gates.breaking_point", "a soak holds one rate and finds no breaking point: give gates.rate")
		}
		bp, gate = c.Gates.Rate, ".gates.rate"
	} else if c.Gates.Rate != nil {
		bad(at+".gates.rate", "only a soak holds a rate: a campaign's gate is gates.breaking_point")
	}
	if bp == nil {
		bad(at+gate, "is required for a %s (benchmark: ID or value: req/s per pod)", c.Kind)
		return probs
	}
	b := guides.Documented(svc)
	if b == nil {
		bad(at, "no built-in benchmarks for %s", svc.Name())
		return probs
	}
	sel := svc.Select(b, guides.Workload{Scenario: prof.Scenario, Endpoint: c.Endpoint})
	switch {
	case (bp.Benchmark == "") == (bp.Value == 0):
		bad(at+gate, "want exactly one of benchmark (a documented figure's id) and value (req/s per pod)")
	case bp.Benchmark != "" && sel.ID == "":
		bad(at+gate+".benchmark", "%q: the guide documents no throughput for endpoint %q (%s)", bp.Benchmark, c.Endpoint, sel.Used)
	case bp.Benchmark != "" && bp.Benchmark != sel.ID:
		bad(at+gate+".benchmark", "%q: endpoint %q is judged on %q (%s)", bp.Benchmark, c.Endpoint, sel.ID, sel.Used)
	case bp.Value < 0 || math.IsNaN(bp.Value) || math.IsInf(bp.Value, 0):
		bad(at+gate+".value", "must be > 0")
	}
	if bp.Tolerance != 0 && !(bp.Tolerance > 0 && bp.Tolerance < 1) {
		bad(at+gate+".tolerance", "%v: want a fraction in (0, 1), e.g. 0.10 (0: %v)", bp.Tolerance, compare.DefaultTolerance)
	}
	for _, l := range []struct {
		name string
		lim  *Limit
	}{{"p95_ms", c.Gates.P95Ms}, {"p99_ms", c.Gates.P99Ms}} {
		if l.lim == nil {
			continue
		}
		path := at + ".gates." + l.name
		switch {
		case (l.lim.Benchmark == "") == (l.lim.Value == 0):
			bad(path, "want exactly one of benchmark (a documented latency's id) and value (ms)")
		case l.lim.Benchmark != "":
			if _, err := LatencyLimitMs(b, sel, l.lim.Benchmark); err != nil {
				bad(path+".benchmark", "%v", err)
			}
		case !(l.lim.Value > 0) || math.IsInf(l.lim.Value, 0):
			bad(path, "must be > 0")
		}
	}
	return probs
}

// settingsProblem says what is wrong with a settings node: not a mapping,
// or a reserved key.
func settingsProblem(n *yaml.Node) string {
	if n.IsZero() {
		return ""
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Sprintf("line %d: want a mapping of campaign settings (the keys of a campaign file)", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; slices.Contains(reserved, k) {
			return fmt.Sprintf("line %d: %s is set by the sign-off (--target, the plan's service, the check's endpoint, the plan's replicas, the gates), not by settings", n.Content[i].Line, k)
		}
	}
	return ""
}

func validName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func serviceNames() []string {
	var out []string
	for _, s := range guides.Services() {
		out = append(out, s.Name())
	}
	return out
}

// Svc returns the plan's service (Parse checked it).
func (p *Plan) Svc() guides.Service {
	s, _ := guides.Lookup(p.Service)
	return s
}

// ReplicaCount is the plan's replicas (0 means 1).
func (p *Plan) ReplicaCount() int { return max(p.Replicas, 1) }

// CheckReplicas is check i's replicas: its own, else the plan's.
func (p *Plan) CheckReplicas(i int) int {
	if n := p.Checks[i].Replicas; n > 0 {
		return n
	}
	return p.ReplicaCount()
}

// CampaignConfig is check i's campaign: the defaults, the plan's
// defaults, the check's settings, and with quick the plan's and the
// check's quick settings; then the service's script, the check's
// endpoint, the plan's replicas and target.
func (p *Plan) CampaignConfig(i int, quick bool, target string) (campaign.Config, error) {
	c := p.Checks[i]
	cfg := campaign.Defaults()
	type layer struct {
		path string
		node *yaml.Node
	}
	layers := []layer{{"defaults", &p.Defaults}, {fmt.Sprintf("checks[%d].settings", i), &c.Settings}}
	if quick {
		layers = append(layers, layer{"quick", &p.Quick}, layer{fmt.Sprintf("checks[%d].quick", i), &c.QuickSet})
	}
	for _, l := range layers {
		if l.node.IsZero() {
			continue
		}
		b, err := yaml.Marshal(l.node)
		if err != nil {
			return cfg, err
		}
		if err := cfg.Load(b, l.path); err != nil {
			return cfg, err
		}
	}
	svc := p.Svc()
	cfg.Scenario = svc.Profile().Scenario
	cfg.Endpoint = c.Endpoint
	cfg.Replicas = p.CheckReplicas(i)
	if c.Kind == KindSweep {
		cfg.Replicas = 1 // one replica's campaign: each count multiplies its rates (sweep.PerReplica)
	}
	cfg.Target = target
	if c.Kind == KindSoak {
		// One step, held at the documented rate for the step's duration.
		r, err := p.Resolve(i)
		if err != nil {
			return cfg, err
		}
		rate := int(math.Round(r.DocumentedRPS(cfg.Replicas)))
		cfg.Search, cfg.Start, cfg.Max = campaign.Linear, rate, rate
	}
	return cfg, nil
}

// LatencyLimitMs resolves a latency figure's id to a limit in ms: the
// latency or duration the guide documents for the check's endpoint (sel),
// or a figure of GL-008's performance benchmarks ("load_test.threshold_p95_ms")
// in ms or s.
func LatencyLimitMs(b *guides.Benchmarks, sel guides.Selection, id string) (float64, error) {
	if l := sel.Latency; l != nil && l.ID == id && l.PerMs > 0 {
		return l.Value / l.PerMs, nil
	}
	if d := sel.Duration; d != nil && d.ID == id && d.Unit == "s" {
		return d.Value * 1000, nil
	}
	group, fig, ok := strings.Cut(id, ".")
	if ok && b.Performance != nil {
		groups := map[string]*guides.FigureGroup{"single_pod": b.Performance.SinglePod, "cluster": b.Performance.Cluster,
			"load_test": b.Performance.LoadTest, "stress_test": b.Performance.StressTest}
		if f, found := groups[group].Get(fig); found {
			switch f.Unit {
			case "ms":
				return f.Value, nil
			case "s":
				return f.Value * 1000, nil
			}
			return 0, fmt.Errorf("%q is in %s, not a latency (ms or s)", id, f.Unit)
		}
	}
	return 0, fmt.Errorf("%q: no such documented latency (e.g. cluster.api_latency_p95_ms, load_test.threshold_p95_ms, stress_test.break_p95_ms, or the endpoint's own: %s)", id, latencyIDs(sel))
}

func latencyIDs(sel guides.Selection) string {
	var ids []string
	if sel.Latency != nil {
		ids = append(ids, sel.Latency.ID)
	}
	if sel.Duration != nil {
		ids = append(ids, sel.Duration.ID)
	}
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}

// Resolved is what a campaign check is judged on, its references
// resolved through the guide.
type Resolved struct {
	// Documented is the per-pod figure in Unit, Factor converts req/s
	// into it (1 for a literal, in req/s); Figure names it.
	Documented     float64 `json:"documented"`
	Unit           string  `json:"unit"`
	Factor         float64 `json:"factor"`
	Figure         string  `json:"figure"`
	Tolerance      float64 `json:"tolerance"`
	P95Ms, P99Ms   float64 `json:"-"`
	P95Fig, P99Fig string  `json:"-"`
}

// Resolve resolves check i's references (a campaign).
func (p *Plan) Resolve(i int) (Resolved, error) {
	c := p.Checks[i]
	bp := c.Gates.BreakingPoint
	if c.Kind == KindSoak {
		bp = c.Gates.Rate
	}
	if bp == nil {
		return Resolved{}, fmt.Errorf("check %s is not a campaign or a soak", c.Name)
	}
	svc := p.Svc()
	b := guides.Documented(svc)
	sel := svc.Select(b, guides.Workload{Scenario: svc.Profile().Scenario, Endpoint: c.Endpoint})
	r := Resolved{Tolerance: bp.Tolerance}
	if r.Tolerance == 0 {
		r.Tolerance = compare.DefaultTolerance
	}
	if bp.Benchmark != "" {
		r.Documented, r.Unit, r.Factor, r.Figure = sel.PerPod, sel.Unit, sel.Factor, fmt.Sprintf("%s (%s)", sel.ID, sel.Used)
	} else {
		r.Documented, r.Unit, r.Factor, r.Figure = bp.Value, "req/s", 1, "the plan's literal value"
	}
	lim := func(l *Limit) (float64, string, error) {
		if l == nil {
			return 0, "", nil
		}
		if l.Benchmark == "" {
			return l.Value, "the plan's literal value", nil
		}
		v, err := LatencyLimitMs(b, sel, l.Benchmark)
		return v, l.Benchmark, err
	}
	var err error
	if r.P95Ms, r.P95Fig, err = lim(c.Gates.P95Ms); err != nil {
		return r, err
	}
	r.P99Ms, r.P99Fig, err = lim(c.Gates.P99Ms)
	return r, err
}

// DocumentedRPS is the rate the latency gates are judged at: the
// documented capacity per pod, as req/s offered to the plan's replicas.
func (r Resolved) DocumentedRPS(replicas int) float64 {
	return r.Documented / r.Factor * float64(replicas)
}

func (p *Plan) validateSweep(svc guides.Service, c *Check, at string) []string {
	var probs []string
	bad := func(path, format string, args ...any) {
		probs = append(probs, path+": "+fmt.Sprintf(format, args...))
	}
	if !svc.Profile().Serves(c.Endpoint) {
		bad(at+".endpoint", "%q: want one of %s's: %s", c.Endpoint, svc.Name(), strings.Join(svc.Profile().Endpoints, ", "))
	}
	if c.Replicas != 0 {
		bad(at+".replicas", "a sweep's replica counts are its counts")
	}
	if len(c.Counts) < 2 {
		bad(at+".counts", "want at least two replica counts, the base first (e.g. [1, 4])")
	}
	seen := map[int]bool{}
	for k, n := range c.Counts {
		if n < 1 || n > 64 || seen[n] {
			bad(fmt.Sprintf("%s.counts[%d]", at, k), "%d: want distinct counts in 1–64", n)
		}
		seen[n] = true
	}
	for _, n := range []struct {
		path string
		node *yaml.Node
	}{{".settings", &c.Settings}, {".quick", &c.QuickSet}} {
		if msg := settingsProblem(n.node); msg != "" {
			bad(at+n.path, "%s", msg)
		}
	}
	if c.Gates.BreakingPoint != nil || c.Gates.Rate != nil || c.Gates.P95Ms != nil || c.Gates.P99Ms != nil {
		bad(at+".gates", "a sweep's only gate is efficiency")
	}
	e := c.Gates.Efficiency
	switch {
	case e == nil:
		bad(at+".gates.efficiency", "is required for a sweep (benchmark: a cluster figure, or value: a fraction)")
	case (e.Benchmark == "") == (e.Value == 0):
		bad(at+".gates.efficiency", "want exactly one of benchmark (a documented cluster figure) and value (a fraction, e.g. 0.9)")
	case e.Benchmark != "":
		if _, n, err := DocumentedEfficiency(guides.Documented(svc), e.Benchmark); err != nil {
			bad(at+".gates.efficiency.benchmark", "%v", err)
		} else if !slices.Contains(c.Counts, n) {
			bad(at+".counts", "%v: want the %d replicas %s is documented for among them", c.Counts, n, e.Benchmark)
		}
	case !(e.Value > 0 && e.Value <= 1):
		bad(at+".gates.efficiency.value", "%v: want a fraction in (0, 1]", e.Value)
	}
	if e != nil && e.Tolerance != 0 && !(e.Tolerance > 0 && e.Tolerance < 1) {
		bad(at+".gates.efficiency.tolerance", "%v: want a fraction in (0, 1), e.g. 0.10 (0: %v)", e.Tolerance, compare.DefaultTolerance)
	}
	return probs
}

// DocumentedEfficiency is the scaling efficiency a documented cluster
// figure implies ("cluster.api_requests_per_s"): its value ÷ (the
// cluster's replicas × the single-pod figure of the same id), and the
// replica count it is stated for.
func DocumentedEfficiency(b *guides.Benchmarks, id string) (float64, int, error) {
	group, fig, ok := strings.Cut(id, ".")
	want := fmt.Errorf("%q: want a documented cluster figure with a single-pod one of the same id (e.g. cluster.api_requests_per_s)", id)
	if !ok || group != "cluster" || b.Performance == nil || b.Performance.Cluster == nil || b.Performance.SinglePod == nil {
		return 0, 0, want
	}
	cl, ok1 := b.Performance.Cluster.Get(fig)
	sp, ok2 := b.Performance.SinglePod.Get(fig)
	n := b.Performance.Cluster.Replicas
	if !ok1 || !ok2 || n < 1 || sp.Value <= 0 {
		return 0, 0, want
	}
	return cl.Value / (float64(n) * sp.Value), n, nil
}

func (p *Plan) validateAutoscale(svc guides.Service, c *Check, at string) []string {
	var probs []string
	bad := func(path, format string, args ...any) {
		probs = append(probs, path+": "+fmt.Sprintf(format, args...))
	}
	if c.Endpoint != "" && !svc.Profile().Serves(c.Endpoint) {
		bad(at+".endpoint", "%q: want one of %s's: %s", c.Endpoint, svc.Name(), strings.Join(svc.Profile().Endpoints, ", "))
	}
	if c.Replicas != 0 || !c.Settings.IsZero() || !c.QuickSet.IsZero() || len(c.Counts) > 0 || len(c.Skip) > 0 {
		bad(at, "an autoscale check takes endpoint, hpa, phases, quick_phases, time_scale, quick_time_scale, kube_hpa and gates.p95_ms")
	}
	if c.Gates.BreakingPoint != nil || c.Gates.Rate != nil || c.Gates.Efficiency != nil || c.Gates.P99Ms != nil {
		bad(at+".gates", "an autoscale check's gates are its HPA checks; only p95_ms (the limit p95_recovery waits for) may be set")
	}
	if l := c.Gates.P95Ms; l != nil && (l.Benchmark != "" || !(l.Value > 0)) {
		if l.Benchmark == "" {
			bad(at+".gates.p95_ms", "must be > 0")
		} else if _, err := LatencyLimitMs(guides.Documented(svc), guides.Selection{}, l.Benchmark); err != nil {
			bad(at+".gates.p95_ms.benchmark", "%v", err)
		}
	}
	for _, ph := range []struct{ path, v string }{{".phases", c.Phases}, {".quick_phases", c.QuickPhases}} {
		if ph.v == "" {
			continue
		}
		if _, err := autoscale.ParsePhases(ph.v); err != nil {
			bad(at+ph.path, "%q: %v", ph.v, err)
		}
	}
	for _, ts := range []struct {
		path string
		v    float64
	}{{".time_scale", c.TimeScale}, {".quick_time_scale", c.QuickTimeScale}} {
		if ts.v < 0 || ts.v > reftarget.MaxTimeScale {
			bad(at+ts.path, "%v: want > 0 and ≤ %d (0: 1)", ts.v, reftarget.MaxTimeScale)
		}
	}
	if c.HPA != "" {
		if _, err := hpa.LoadFlag(c.HPA); err != nil {
			bad(at+".hpa", "%v", err)
		}
	}
	return probs
}
