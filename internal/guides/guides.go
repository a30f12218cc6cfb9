// Package guides holds what the scaling guides document, as data and as the
// few rules each guide states: the documented figures (scenarios/benchmarks/
// *.yaml, parsed here), which guide a run belongs to, which figure a run of
// an endpoint is judged on, and where a guide disagrees with itself. Each
// guide is one Service (gl008.go, gl006.go), so that its callers ask it
// instead of switching on its name. Nothing here reads files or measures:
// the comparison (internal/analysis/compare) and the forecast (internal/analysis/forecast) do.
package guides

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Service is one scaling guide: what the comparison, the report, the
// forecast and the CLI need to know about it. Its values are GL008 and
// GL006; they are comparable with ==.
type Service interface {
	// Name is the service as the guide and the benchmarks files spell it
	// ("GL-008").
	Name() string
	// Check lists what a benchmarks file of this service lacks (Parse
	// reports it).
	Check(b *Benchmarks) []string
	// Select picks the documented figure a run is judged on, from the
	// endpoint (or operation) it exercised.
	Select(b *Benchmarks, r Run) Selection
	// Lint finds where the guide disagrees with itself.
	Lint(b *Benchmarks) []Disagreement
	// Sizing says how the guide sizes replicas, which is the forecast it
	// gets.
	Sizing() Sizing
}

// Sizing is how a guide sizes replicas.
type Sizing int

// The sizings.
const (
	// GrowthModel: a growth forecast (sites → inspections per day →
	// replicas) and a capacity matrix, which a measured per-pod capacity
	// re-sizes (GL-008's forecast_capacity.py).
	GrowthModel Sizing = iota + 1
	// ReplicaFormula: a formula from request rate, duration and CPU per
	// request, evaluated per operation (GL-006 §8.2).
	ReplicaFormula
)

// The guides.
var (
	GL008 Service = gl008{}
	GL006 Service = gl006{}
)

var all = []Service{GL008, GL006}

// Lookup returns the service named name: "GL-008", or as the CLI and the
// built-in files spell it, "gl008".
func Lookup(name string) (Service, bool) {
	for _, s := range all {
		if name == s.Name() || key(name) == key(s.Name()) {
			return s, true
		}
	}
	return nil, false
}

// Keys lists the services as the CLI spells them ("gl008", "gl006").
func Keys() []string {
	out := make([]string, len(all))
	for i, s := range all {
		out[i] = key(s.Name())
	}
	return out
}

// key spells a service as the CLI and the built-in files do: "gl008".
func key(name string) string { return strings.ToLower(strings.ReplaceAll(name, "-", "")) }

// Key is a service's name as built-in files are named ("gl008" for GL-008).
func Key(svc Service) string { return key(svc.Name()) }

// names lists the services for an error: "GL-008" or "GL-006".
func names() string {
	q := make([]string, len(all))
	for i, s := range all {
		q[i] = fmt.Sprintf("%q", s.Name())
	}
	return strings.Join(q, " or ")
}

// Run is what a guide needs to know of a campaign: what it exercised.
// *runrecord.Run, campaign.Config and Workload are Runs, so that the
// guides depend on nothing of the campaign's and the campaign can ask them.
type Run interface {
	Workload() Workload
}

// Workload is what a campaign exercised: its k6 script, the ENDPOINT the
// script was given and the script's environment.
type Workload struct {
	// Scenario is a script name ("gl008-step") or a path.
	Scenario string
	Endpoint string
	Env      map[string]string
}

// Workload returns w itself: a Workload is a Run.
func (w Workload) Workload() Workload { return w }

// Of says which guide a run belongs to: GL-006 when its scenario is a gl006
// script or its endpoint a GL-006 operation, GL-008 otherwise.
func Of(r Run) Service {
	w := r.Workload()
	if strings.HasPrefix(strings.ToLower(filepath.Base(w.Scenario)), key(GL006.Name())) {
		return GL006
	}
	if isHeatOperation(w.Endpoint) {
		return GL006
	}
	return GL008
}

// Selection is the documented figure a run is judged on, and what else the
// guide says about the same quantity. ID is "" when the guide documents no
// figure for what the run exercised; Used and Notes then say why.
type Selection struct {
	// Operation is the GL-006 operation the run exercised alone ("" for
	// GL-008 or a mixed workload).
	Operation string
	// Used says in words which documented figure the run is judged on.
	Used string
	// Notes are the assumptions behind the choice.
	Notes []string

	// The primary figure: a throughput per pod. Factor converts measured
	// requests per second into Unit.
	ID, Figure, Section, Unit string
	PerPod, Factor            float64
	// TimeScaled: the embedded target's --target-time-scale speeds up what
	// this figure measures, so rates and durations are brought back to
	// real time.
	TimeScaled bool
	// Alternatives are the same quantity per pod derived from other
	// sections of the guide.
	Alternatives []Alternative
	// Latency is a documented p95 to compare at the documented capacity
	// (nil: none); Duration a documented duration to compare with the
	// mean at the lowest passing rate (nil: none).
	Latency  *Point
	Duration *Point
}

// Alternative is another documented per-pod value of a selected figure's
// quantity.
type Alternative struct {
	Source, Section string
	PerPod          float64
	Derived         string
}

// Point is a documented latency or duration. For a latency, PerMs converts
// milliseconds into Unit and Replicas is the cluster the guide states it
// for.
type Point struct {
	ID, Figure, Section, Unit string
	Value, PerMs              float64
	Replicas                  int
}

// Disagreement is a place where a guide disagrees with itself.
type Disagreement struct {
	Topic    string   `json:"topic"`
	Sections []string `json:"sections"`
	Detail   string   `json:"detail"`
	// Relevant marks disagreements about the figure a comparison used; the
	// comparison sets it from Concerns.
	Relevant bool `json:"relevant"`
	// Concerns is the Selection ID of the figure the disagreement is about
	// ("" for none).
	Concerns string `json:"-"`
}

// notes turns the file's remarks into disagreements, after a service's own.
func notes(b *Benchmarks) []Disagreement {
	var out []Disagreement
	for _, n := range b.Notes {
		out = append(out, Disagreement{Topic: "note", Sections: []string{n.Section}, Detail: strings.TrimSpace(n.Text)})
	}
	return out
}

// Replicas evaluates GL-006 §8.2: rate × duration × CPU per request ÷
// (target utilisation × CPU per replica), unrounded. The forecast sizes
// replicas with it; GL-006's lint checks the guide's own numbers with it.
func Replicas(ratePerS, durationS, cpuPerRequestMillis, utilisation, cpuPerReplicaMillis float64) float64 {
	return ratePerS * durationS * cpuPerRequestMillis / (utilisation * cpuPerReplicaMillis)
}

// Lint finds where the guide a benchmarks file documents disagrees with
// itself: its service's checks, then the file's own notes.
func Lint(b *Benchmarks) []Disagreement {
	return append(b.Documents().Lint(b), notes(b)...)
}
