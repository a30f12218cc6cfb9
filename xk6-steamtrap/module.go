package steamtrap

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/grafana/sobek"
	"go.k6.io/k6/v2/js/common"
	"go.k6.io/k6/v2/js/modules"

	"github.com/greenlang/loadgen/xk6-steamtrap/heat"
	"github.com/greenlang/loadgen/xk6-steamtrap/trap"
)

// SeedEnv names the environment variable that sets the default seed when a
// script passes none.
const SeedEnv = "XK6_STEAMTRAP_SEED"

// DefaultSeed is the seed used when neither the script nor SeedEnv sets one,
// so that runs are reproducible by default.
const DefaultSeed = 1

// MaxBatch bounds sensorBatch(n).
const MaxBatch = 10000

// ErrOptions is wrapped by every error about options passed from JS.
var ErrOptions = errors.New("steamtrap")

type (
	// rootModule is created once per k6 process. It shares immutable fleets
	// between VUs, keyed by their configuration.
	rootModule struct {
		mu     sync.Mutex
		fleets map[trap.FleetConfig]*trap.Fleet
	}

	// ModuleInstance is the module as one VU sees it.
	ModuleInstance struct {
		root *rootModule
		vu   modules.VU
		heat map[string]*heat.Generator // per-VU generators keyed by options
	}
)

var (
	_ modules.Module   = (*rootModule)(nil)
	_ modules.Instance = (*ModuleInstance)(nil)
)

func newRootModule() *rootModule {
	return &rootModule{fleets: make(map[trap.FleetConfig]*trap.Fleet)}
}

// NewModuleInstance implements modules.Module.
func (r *rootModule) NewModuleInstance(vu modules.VU) modules.Instance {
	return &ModuleInstance{root: r, vu: vu, heat: make(map[string]*heat.Generator)}
}

func (r *rootModule) fleet(cfg trap.FleetConfig) (*trap.Fleet, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f, ok := r.fleets[cfg]; ok {
		return f, nil
	}
	f, err := trap.NewFleet(cfg)
	if err != nil {
		return nil, err
	}
	r.fleets[cfg] = f
	return f, nil
}

// Exports implements modules.Instance.
func (mi *ModuleInstance) Exports() modules.Exports {
	return modules.Exports{Named: map[string]any{
		"Fleet":           mi.newFleet,
		"heatStreams":     mi.HeatStreams,
		"saturationTempC": trap.SaturationTempC,
		"saturationTempF": trap.SaturationTempF,
		"states":          trap.StateNames(),
		"operations":      heat.OperationNames(),
	}}
}

// stream returns the VU's global id, the stream its generators draw from;
// 0 in the init context. Global: a test split among runners (k6 execution
// segments) gives each runner's VUs their own ids, so runners do not send
// the same payloads; one runner's are its VU ids.
func (mi *ModuleInstance) stream() uint64 {
	if st := mi.vu.State(); st != nil {
		return st.VUIDGlobal
	}
	return 0
}

// defaultSeed reads SeedEnv, falling back to DefaultSeed.
func (mi *ModuleInstance) defaultSeed() (uint64, error) {
	var v string
	var ok bool
	if ie := mi.vu.InitEnv(); ie != nil && ie.LookupEnv != nil {
		v, ok = ie.LookupEnv(SeedEnv)
	}
	if !ok || v == "" {
		return DefaultSeed, nil
	}
	s, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s=%q is not a non-negative integer", ErrOptions, SeedEnv, v)
	}
	return s, nil
}

// Fleet backs the JS object `new steamtrap.Fleet(options)`. The JS object is
// built by hand with native functions (no reflection) because inspection() is
// on every iteration's hot path.
type Fleet struct {
	mi    *ModuleInstance
	fleet *trap.Fleet
	gen   *trap.Generator
	vu    uint64
	buf   []byte
	// views are the JS views of inspections still to hand out, allocated
	// trap.BodyBatch at a time.
	views []inspectionObject
	// ids holds each trap's identity as JS values, built with the fleet.
	ids []trapValues
}

type trapValues struct{ id, site, state sobek.Value }

// Batch is what fleet.sensorBatch(n) returns.
type Batch struct {
	Body  string `js:"body"`
	Count int    `js:"count"`
}

// TrapInfo describes one trap of a fleet (fleet.trap(i)).
type TrapInfo struct {
	ID           string  `js:"id"`
	SiteID       string  `js:"siteId"`
	Type         string  `js:"type"`
	State        string  `js:"state"`
	PressurePsig float64 `js:"pressurePsig"`
	ReturnPsig   float64 `js:"returnPsig"`
	OrificeIn    float64 `js:"orificeIn"`
	SaturationC  float64 `js:"saturationC"`
}

func (mi *ModuleInstance) newFleet(call sobek.ConstructorCall) *sobek.Object {
	rt := mi.vu.Runtime()
	cfg, err := mi.fleetConfig(call.Argument(0))
	if err != nil {
		common.Throw(rt, err)
	}
	tf, err := mi.root.fleet(cfg)
	if err != nil {
		common.Throw(rt, err)
	}
	f := &Fleet{mi: mi, fleet: tf, ids: make([]trapValues, tf.Len())}
	// Every trap's identity as JS values, built now rather than on first
	// use: filled lazily, each VU's cache grew for the half hour it takes
	// to meet all its traps, and k6's memory with it.
	for i := range f.ids {
		t := tf.Trap(i)
		f.ids[i] = trapValues{id: rt.ToValue(t.ID), site: rt.ToValue(t.SiteID), state: rt.ToValue(t.State.String())}
	}
	obj := rt.NewObject()
	must := func(err error) {
		if err != nil {
			common.Throw(rt, err)
		}
	}
	must(obj.Set("size", tf.Len()))
	must(obj.Set("seed", cfg.Seed))
	must(obj.Set("inspection", func(sobek.FunctionCall) sobek.Value { return f.nextInspection(rt) }))
	must(obj.Set("sensorBatch", f.SensorBatch))
	must(obj.Set("trap", f.Trap))
	must(obj.Set("counts", f.Counts))
	return obj
}

// generator returns the generator of the current VU, created on first use so
// that a fleet built in the init context draws from its VU's own stream.
func (f *Fleet) generator() *trap.Generator {
	if s := f.mi.stream(); f.gen == nil || s != f.vu {
		f.gen, f.vu = f.fleet.NewGenerator(s), s
	}
	return f.gen
}

// nextInspection returns fleet.inspection()'s result: the next GL-008
// inspection body of this VU and, beside it, the identity and true state of
// the inspected trap (never inside the body).
func (f *Fleet) nextInspection(rt *sobek.Runtime) sobek.Value {
	body, t := f.generator().NextBody()
	if len(f.views) == 0 {
		f.views = make([]inspectionObject, trap.BodyBatch)
	}
	o := &f.views[0]
	f.views = f.views[1:]
	*o = inspectionObject{trapValues: &f.ids[t.Index()], body: rt.ToValue(body)}
	return rt.NewDynamicObject(o)
}

// inspectionObject is the JS view of one inspection: four read-only fields
// served without a property map. With the views and the bodies made in
// batches, one inspection costs three small allocations: sobek's object, its
// dynamic wrapper and the body's string value.
type inspectionObject struct {
	*trapValues
	body sobek.Value
}

var inspectionKeys = []string{"trapId", "siteId", "state", "body"}

var _ sobek.DynamicObject = (*inspectionObject)(nil)

// Get implements sobek.DynamicObject.
func (o *inspectionObject) Get(key string) sobek.Value {
	switch key {
	case "trapId":
		return o.id
	case "siteId":
		return o.site
	case "state":
		return o.state
	case "body":
		return o.body
	}
	return nil
}

// Set implements sobek.DynamicObject; the fields are read-only.
func (o *inspectionObject) Set(string, sobek.Value) bool { return false }

// Has implements sobek.DynamicObject.
func (o *inspectionObject) Has(key string) bool { return o.Get(key) != nil }

// Delete implements sobek.DynamicObject; nothing can be deleted.
func (o *inspectionObject) Delete(string) bool { return false }

// Keys implements sobek.DynamicObject.
func (o *inspectionObject) Keys() []string { return inspectionKeys }

// SensorBatch returns the next sensor-gateway batch of n readings.
func (f *Fleet) SensorBatch(n int) (*Batch, error) {
	if n < 1 || n > MaxBatch {
		return nil, fmt.Errorf("%w: sensorBatch(%d): n must be 1–%d", ErrOptions, n, MaxBatch)
	}
	f.buf = f.generator().AppendBatch(f.buf[:0], n, nil)
	return &Batch{Body: string(f.buf), Count: n}, nil
}

// Trap describes the i-th trap of the fleet.
func (f *Fleet) Trap(i int) (*TrapInfo, error) {
	if i < 0 || i >= f.fleet.Len() {
		return nil, fmt.Errorf("%w: trap(%d): index out of range 0–%d", ErrOptions, i, f.fleet.Len()-1)
	}
	t := f.fleet.Trap(i)
	return &TrapInfo{ID: t.ID, SiteID: t.SiteID, Type: t.Type.String(), State: t.State.String(),
		PressurePsig: t.Pressure, ReturnPsig: t.Return, OrificeIn: t.OrificeIn, SaturationC: t.SaturationC()}, nil
}

// Counts returns the number of traps in each state.
func (f *Fleet) Counts() map[string]int {
	c := f.fleet.Counts()
	out := make(map[string]int, len(c))
	for i, n := range c {
		out[trap.State(i).String()] = n
	}
	return out
}

// HeatRequest is what steamtrap.heatStreams() returns.
type HeatRequest struct {
	Operation string `js:"operation"`
	Body      string `js:"body"`
}

// HeatStreams returns the next GL-006 request of this VU's sequence for the
// given options: calls with equal options in one VU continue one sequence.
func (mi *ModuleInstance) HeatStreams(v sobek.Value) (*HeatRequest, error) {
	cfg, key, err := mi.heatConfig(v)
	if err != nil {
		return nil, err
	}
	stream := mi.stream()
	key += "|" + strconv.FormatUint(stream, 10)
	g, ok := mi.heat[key]
	if !ok {
		if g, err = heat.NewGenerator(cfg, stream); err != nil {
			return nil, fmt.Errorf("%w: heatStreams: %w", ErrOptions, err)
		}
		mi.heat[key] = g
	}
	req := g.Next()
	return &HeatRequest{Operation: string(req.Operation), Body: string(req.AppendJSON(nil))}, nil
}

// options is a JS options object exported to Go, read key by key so that
// unknown keys and wrong types are reported.
type options struct {
	fn   string
	m    map[string]any
	errs []error
}

func (mi *ModuleInstance) options(fn string, v sobek.Value, known ...string) *options {
	o := &options{fn: fn, m: map[string]any{}}
	if v == nil || sobek.IsUndefined(v) || sobek.IsNull(v) {
		return o
	}
	m, ok := v.Export().(map[string]any)
	if !ok {
		o.fail("", "options must be an object, got %s", v.String())
		return o
	}
	o.m = m
	for k := range m {
		if !slices.Contains(known, k) {
			o.fail(k, "unknown option (known: %s)", strings.Join(known, ", "))
		}
	}
	return o
}

func (o *options) fail(key, format string, args ...any) {
	where := o.fn
	if key != "" {
		where += ": " + key
	}
	o.errs = append(o.errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...)))
}

func (o *options) err() error {
	if len(o.errs) == 0 {
		return nil
	}
	sort.Slice(o.errs, func(i, j int) bool { return o.errs[i].Error() < o.errs[j].Error() })
	return fmt.Errorf("%w: %w", ErrOptions, errors.Join(o.errs...))
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	return 0, false
}

func (o *options) float(key string) (float64, bool) {
	v, ok := o.m[key]
	if !ok {
		return 0, false
	}
	f, ok := toFloat(v)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		o.fail(key, "want a finite number, got %v", v)
		return 0, false
	}
	return f, true
}

// count reads a non-negative integer; zero is allowed only when zeroOK.
func (o *options) count(key string, zeroOK bool) int {
	f, ok := o.float(key)
	if !ok {
		return 0
	}
	if f != math.Trunc(f) || f < 0 || (f == 0 && !zeroOK) || f > math.MaxInt32 {
		want := "a positive integer"
		if zeroOK {
			want = "a non-negative integer"
		}
		o.fail(key, "want %s, got %v", want, f)
		return 0
	}
	return int(f)
}

func (o *options) seed(mi *ModuleInstance) uint64 {
	f, ok := o.float("seed")
	if !ok {
		s, err := mi.defaultSeed()
		if err != nil {
			o.errs = append(o.errs, err)
		}
		return s
	}
	if f != math.Trunc(f) || f < 0 || f > 1<<53 {
		o.fail("seed", "want a non-negative integer, got %v", f)
		return 0
	}
	return uint64(f)
}

func (mi *ModuleInstance) fleetConfig(v sobek.Value) (trap.FleetConfig, error) {
	o := mi.options("Fleet", v, "seed", "sites", "trapsPerSite", "mix", "pressurePsig")
	cfg := trap.FleetConfig{Seed: o.seed(mi)}
	if _, ok := o.m["sites"]; ok {
		if cfg.Sites = o.count("sites", false); cfg.Sites == 0 {
			cfg.Sites = -1 // reported already; keep the default from hiding it
		}
	}
	if _, ok := o.m["trapsPerSite"]; ok {
		if cfg.TrapsPerSite = o.count("trapsPerSite", false); cfg.TrapsPerSite == 0 {
			cfg.TrapsPerSite = -1
		}
	}
	if raw, ok := o.m["mix"]; ok {
		m, ok := raw.(map[string]any)
		if !ok {
			o.fail("mix", "want an object of state → fraction, got %v", raw)
		} else {
			fr := make(map[string]float64, len(m))
			for k, x := range m {
				f, ok := toFloat(x)
				if !ok {
					o.fail("mix", "fraction for %q is %v, want a number", k, x)
					continue
				}
				fr[k] = f
			}
			mix, err := trap.ParseMix(fr)
			if err != nil {
				o.fail("mix", "%v", err)
			}
			cfg.Mix = mix
		}
	}
	if raw, ok := o.m["pressurePsig"]; ok {
		switch x := raw.(type) {
		case []any:
			lo, ok1 := toFloat(x[0])
			hi, ok2 := 0.0, false
			if len(x) == 2 {
				hi, ok2 = toFloat(x[1])
			}
			if !ok1 || !ok2 {
				o.fail("pressurePsig", "want a number or [min, max], got %v", raw)
			}
			cfg.PressureMinPsig, cfg.PressureMaxPsig = lo, hi
		default:
			p, ok := toFloat(raw)
			if !ok {
				o.fail("pressurePsig", "want a number or [min, max], got %v", raw)
			}
			cfg.PressureMinPsig, cfg.PressureMaxPsig = p, p
		}
		if cfg.PressureMinPsig < trap.MinPressurePsig || cfg.PressureMaxPsig < trap.MinPressurePsig {
			o.fail("pressurePsig", "%v–%v psig is outside the documented line pressures %d–%d psig",
				cfg.PressureMinPsig, cfg.PressureMaxPsig, trap.MinPressurePsig, trap.MaxPressurePsig)
		}
	}
	if err := o.err(); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("%w: Fleet: %w", ErrOptions, err)
	}
	return cfg, nil
}

func (mi *ModuleInstance) heatConfig(v sobek.Value) (heat.GenConfig, string, error) {
	o := mi.options("heatStreams", v, "seed", "hot", "cold", "dtMin", "operation")
	cfg := heat.DefaultGenConfig(o.seed(mi))
	if _, ok := o.m["hot"]; ok {
		cfg.Hot = o.count("hot", true)
	}
	if _, ok := o.m["cold"]; ok {
		cfg.Cold = o.count("cold", true)
	}
	if cfg.Hot == 0 || cfg.Cold == 0 {
		o.fail("", "zero streams (hot=%d, cold=%d): want at least one hot and one cold stream", cfg.Hot, cfg.Cold)
	}
	if d, ok := o.float("dtMin"); ok {
		if !(d > 0 && d <= heat.MaxDTMinK) {
			o.fail("dtMin", "want a number of kelvin in (0, %d], got %v", heat.MaxDTMinK, d)
		}
		cfg.DTMinK = d
	}
	switch op := o.m["operation"].(type) {
	case nil:
	case string:
		if _, err := heat.ParseOperation(op); err != nil {
			o.fail("operation", "%v", err)
		}
		cfg.Weights = map[heat.Operation]float64{heat.Operation(op): 1}
	case map[string]any:
		cfg.Weights = make(map[heat.Operation]float64, len(op))
		for k, x := range op {
			f, ok := toFloat(x)
			if _, err := heat.ParseOperation(k); err != nil {
				o.fail("operation", "%v", err)
			} else if !ok || !(f >= 0) {
				o.fail("operation", "weight of %s is %v, want a number ≥ 0", k, x)
			}
			cfg.Weights[heat.Operation(k)] = f
		}
	default:
		o.fail("operation", "want an operation name or an object of operation → weight, got %v", op)
	}
	if err := o.err(); err != nil {
		return cfg, "", err
	}
	var key strings.Builder
	fmt.Fprintf(&key, "%d|%d|%d|%g", cfg.Seed, cfg.Hot, cfg.Cold, cfg.DTMinK)
	for _, op := range heat.Operations() {
		if w, ok := cfg.Weights[op]; ok {
			fmt.Fprintf(&key, "|%s=%g", op, w)
		}
	}
	return cfg, key.String(), nil
}
