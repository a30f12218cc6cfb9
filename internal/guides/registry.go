package guides

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/greenlang/loadgen/scenarios/benchmarks"
)

// registered is a service and its built-in benchmarks file.
type registered struct {
	svc Service
	// read returns the file's text; parsed is the file parsed once, for
	// the rules that read the documented figures (OperationOf, the
	// profiles, the stress test).
	read   func() ([]byte, error)
	parsed func() (*Benchmarks, error)
}

// registry holds the services in the order they registered.
var registry []*registered

// register adds a service whose built-in benchmarks file is
// scenarios/benchmarks/KEY.yaml ("gl008.yaml" for GL-008); each service's
// file calls it once, from its init.
func register(s Service) {
	registerWith(s, func() ([]byte, error) { return benchmarks.Builtin(Key(s)) })
}

// registerWith adds a service whose built-in benchmarks file read returns.
func registerWith(s Service, read func() ([]byte, error)) {
	if _, dup := Lookup(s.Name()); dup {
		panic(fmt.Sprintf("guides: service %s registered twice", s.Name()))
	}
	r := &registered{svc: s, read: read}
	r.parsed = sync.OnceValues(func() (*Benchmarks, error) { return parseBuiltin(r) })
	registry = append(registry, r)
}

// entry returns the registration of s.
func entry(s Service) (*registered, bool) {
	for _, r := range registry {
		if r.svc == s {
			return r, true
		}
	}
	return nil, false
}

// Default is the service a campaign drives when it names none (its
// Scenario and first endpoint are campaign.Defaults', at its guide's stress
// test), and the one a run belongs to when no service claims it.
func Default() Service { return GL008 }

// Services lists the registered services: the default first, then the
// others by name.
func Services() []Service {
	out := []Service{Default()}
	for _, r := range registry {
		if r.svc != Default() {
			out = append(out, r.svc)
		}
	}
	slices.SortStableFunc(out[1:], func(a, b Service) int { return cmp.Compare(a.Name(), b.Name()) })
	return out
}

// Lookup returns the service named name: "GL-008", or as the CLI and the
// built-in files spell it, "gl008".
func Lookup(name string) (Service, bool) {
	for _, r := range registry {
		if name == r.svc.Name() || key(name) == Key(r.svc) {
			return r.svc, true
		}
	}
	return nil, false
}

// Keys lists the services as the CLI spells them ("gl008", "gl006").
func Keys() []string {
	var out []string
	for _, s := range Services() {
		out = append(out, Key(s))
	}
	return out
}

// key spells a service as the CLI and the built-in files do: "gl008".
func key(name string) string { return strings.ToLower(strings.ReplaceAll(name, "-", "")) }

// Key is a service's name as built-in files are named ("gl008" for GL-008):
// its benchmarks file, its HPA manifest (internal/kube/hpa) and the prefix
// of its scripts' names.
func Key(svc Service) string { return key(svc.Name()) }

// names lists the services for an error: "GL-008" or "GL-006".
func names() string {
	var q []string
	for _, s := range Services() {
		q = append(q, fmt.Sprintf("%q", s.Name()))
	}
	return strings.Join(q, " or ")
}

// Of says which service a run belongs to: the one its script is named
// after ("gl006-mixed" is GL-006's), else the one that serves its endpoint,
// else the default.
func Of(r Run) Service {
	w := r.Workload()
	script := strings.ToLower(filepath.Base(w.Scenario))
	for _, s := range Services() {
		if strings.HasPrefix(script, Key(s)) {
			return s
		}
	}
	for _, s := range Services() {
		if s.Profile().Serves(w.Endpoint) {
			return s
		}
	}
	return Default()
}

// OperationOf returns the operation a run exercised alone, as its service's
// operations table spells it (GL-006 §8.1: "pinch_analysis"): its endpoint
// when that names an operation, else the script environment's OPERATION.
// It is "" for a mixed workload and for a service whose guide documents no
// operations (GL-008).
func OperationOf(r Run) string {
	w := r.Workload()
	ops := Documented(Of(r)).Operations
	for _, s := range []string{w.Endpoint, w.Env["OPERATION"]} {
		if op, ok := ops.Get(s); ok {
			return op.Operation
		}
	}
	return ""
}

// DefaultTimeout is loadgen's per-request timeout, and the least a
// service's own timeouts give.
const DefaultTimeout = 30 * time.Second

// RequestTimeout is the per-request timeout of a run's requests when none
// is given: its endpoint's in its service's profile, the longest of them
// for the service's mixed scenario, DefaultTimeout otherwise.
func RequestTimeout(r Run) time.Duration {
	w := r.Workload()
	p := Of(r).Profile()
	if t, ok := p.Timeouts[w.Endpoint]; ok {
		return t
	}
	longest := DefaultTimeout
	if p.Mixed != "" && strings.Contains(w.Scenario, p.Mixed) {
		for _, t := range p.Timeouts {
			longest = max(longest, t)
		}
	}
	return longest
}

// DefaultStressTest is the stress test of the default service's guide:
// what `loadgen stress` runs when told nothing. The default service's
// built-in benchmarks document one (TestDefaultStressTest).
func DefaultStressTest() StressTest {
	st, ok := Documented(Default()).StressTest()
	if !ok {
		panic(fmt.Sprintf("guides: the built-in benchmarks of %s document no complete stress test", Default().Name()))
	}
	return st
}

// Documented returns a service's built-in benchmarks, parsed once and
// shared: read them, never change them (Builtin parses a copy of one's
// own). It panics when they cannot be read: the files are part of the
// binary, and the tests parse every one.
func Documented(s Service) *Benchmarks {
	r, ok := entry(s)
	if !ok {
		panic(fmt.Sprintf("guides: service %s is not registered", s.Name()))
	}
	b, err := r.parsed()
	if err != nil {
		panic(fmt.Sprintf("guides: %v", err))
	}
	return b
}

// parseBuiltin reads and parses a registered service's built-in benchmarks.
func parseBuiltin(r *registered) (*Benchmarks, error) {
	name := Key(r.svc)
	data, err := r.read()
	if err != nil {
		return nil, fmt.Errorf("%w: no built-in benchmarks for service %q", ErrBenchmarks, r.svc.Name())
	}
	b, err := Parse(data, name)
	if err != nil {
		return nil, err
	}
	if b.Documents() != r.svc {
		return nil, fmt.Errorf("%w: built-in %s documents %s, not %s", ErrBenchmarks, name, b.Service, r.svc.Name())
	}
	b.Source = "built-in " + name
	return b, nil
}
