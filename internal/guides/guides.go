// Package guides holds what the scaling guides document and what loadgen
// knows of the services they document, as data and as the few rules each
// guide states: the documented figures (scenarios/benchmarks/*.yaml, parsed
// here), which service a run belongs to, how its scripts drive it and how
// long its requests may take, which figure a run of an endpoint is judged
// on, and where a guide disagrees with itself. Each service is one Service
// in one file (gl008.go, gl006.go), registered there, so that its callers
// ask it instead of switching on its name: a third service is a third file
// and its benchmarks file. Nothing here reads files beyond the embedded
// benchmarks, or measures: the comparison (internal/analysis/compare) and
// the forecast (internal/analysis/forecast) do.
package guides

import (
	"strings"
	"time"
)

// Service is one scaling guide and the service it documents: what the
// campaign, the comparison, the report, the forecast, the reference target
// and the CLI need to know about it. Each is one file of this package
// (gl008.go, gl006.go) that declares it and registers it; its documented
// figures, and the Deployment it runs as, are its benchmarks file
// (scenarios/benchmarks/KEY.yaml), and its HPA, when its guide has one, is
// internal/kube/hpa/guides/KEY.yaml. Callers ask a Service rather than
// switch on its name. Values are comparable with ==.
type Service interface {
	// Name is the service as the guide and the benchmarks files spell it
	// ("GL-008").
	Name() string
	// Profile is what loadgen knows of the service besides its documented
	// figures.
	Profile() Profile
	// Sizing says how the guide sizes replicas, which is the forecast it
	// gets.
	Sizing() Sizing
	// Check lists what a benchmarks file of this service lacks (Parse
	// reports it).
	Check(b *Benchmarks) []string
	// Select picks the documented figure a run is judged on, from the
	// endpoint (or operation) it exercised.
	Select(b *Benchmarks, r Run) Selection
	// Lint finds where the guide disagrees with itself.
	Lint(b *Benchmarks) []Disagreement
}

// Profile is how loadgen drives a service: its scripts, its endpoints and
// how long their requests may take. A Profile is a copy: changing it
// changes nothing.
type Profile struct {
	// Scenario is the built-in k6 script that drives one endpoint per
	// campaign ("gl008-step"); Mixed, when the service has one, the script
	// that drives all of them at once ("gl006-mixed").
	Scenario, Mixed string
	// Endpoints are the values its scripts take as ENDPOINT, the default
	// first.
	Endpoints []string
	// HealthPath is the request that says whether the service is up
	// ("/v1/steam-trap/health").
	HealthPath string
	// Timeouts are the per-request timeouts of the endpoints whose work the
	// guide gives a duration for (GL-006: 4 × the operation's §8.1
	// duration, at least DefaultTimeout); RequestTimeout applies them.
	Timeouts map[string]time.Duration
	// TimeScaled: the embedded target's --target-time-scale speeds up this
	// service's work, so its measured rates and durations are brought back
	// to real time before they meet the guide's.
	TimeScaled bool
}

// Serves says whether endpoint is one of the profile's ("-" and "_", case
// and surrounding space aside).
func (p Profile) Serves(endpoint string) bool {
	e := NormalizeOperation(endpoint)
	for _, x := range p.Endpoints {
		if e != "" && NormalizeOperation(x) == e {
			return true
		}
	}
	return false
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
