// Package history follows a capacity over time: campaigns' results grouped
// into series (one per scenario, endpoint, target and replica count),
// ordered by when each started, and the change points of each series'
// max sustainable rate found by internal/analysis/changepoint — the nights capacity
// stepped down or up and stayed there.
//
// The core (Analyze) takes plain observations, whatever they were read
// from: LoadRunDirs reads them from run directories, Merge adds those read
// back from Prometheus (internal/reporting/promseries), and Config runs
// `loadgen history` over both. The renderers (text, JSON, HTML) only
// format a Result.
package history

import (
	"cmp"
	"encoding/json"
	"io"
	"slices"
	"sort"
	"time"

	"github.com/greenlang/loadgen/internal/analysis/changepoint"
	"github.com/greenlang/loadgen/internal/analysis/stats"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
)

// Observation is one campaign's result, from wherever it was read.
type Observation struct {
	Scenario, Endpoint, Target string
	Replicas                   int
	// Run names the campaign: its run directory, or another source's id.
	Run       string
	StartedAt time.Time
	// MaxSustainableRPS is the campaign's breaking point's max sustainable
	// rate, req/s (run.json breakpoint.max_sustainable_rps).
	MaxSustainableRPS float64
	// FirstFailingRPS is the lowest rate that failed, req/s; 0 when unknown
	// (or none failed). With it, the campaign's resolution is known, and a
	// change smaller than the series' typical resolution is no change.
	FirstFailingRPS float64
}

// Key is what a series has in common.
type Key struct {
	Scenario string `json:"scenario"`
	Endpoint string `json:"endpoint"`
	Target   string `json:"target"`
	Replicas int    `json:"replicas"`
}

// Key is the series the observation belongs to.
func (o Observation) Key() Key {
	return Key{Scenario: o.Scenario, Endpoint: o.Endpoint, Target: o.Target, Replicas: o.Replicas}
}

// Point is one campaign of a series.
type Point struct {
	Run               string    `json:"run"`
	StartedAt         time.Time `json:"started_at"`
	MaxSustainableRPS float64   `json:"max_sustainable_rps"`
}

// ChangePoint is a lasting change of a series' max sustainable rate.
type ChangePoint struct {
	// Index is the position in Points of the first run after the change;
	// Run is that run.
	Index int    `json:"index"`
	Run   string `json:"run"`
	// Before and After are the mean max sustainable rates (req/s) of the
	// segments either side, each up to the neighbouring change point or the
	// end of the series.
	Before float64 `json:"before"`
	After  float64 `json:"after"`
	// ChangePct is (After − Before) / Before × 100.
	ChangePct float64 `json:"change_pct"`
	// PValue is Welch's two-sided p-value between the two segments: below
	// the significance level (and Student's pooled test's below a tenth of
	// it; see internal/analysis/changepoint).
	PValue float64 `json:"p_value"`
}

// Down says the change lowered capacity.
func (c ChangePoint) Down() bool { return c.After < c.Before }

// Series is one scenario, endpoint, target and replica count over time.
type Series struct {
	Key
	// Points are ordered by StartedAt (then Run).
	Points       []Point       `json:"points"`
	ChangePoints []ChangePoint `json:"change_points"`
	// MinChange is the smallest relative change this series counted (the
	// option, or the campaigns' typical resolution when that is coarser).
	MinChange float64 `json:"-"`
}

// Result is every series found, ordered by key.
type Result struct {
	Series []Series `json:"series"`
	// Options are those the change points were found with.
	Options changepoint.Options `json:"-"`
}

// Analyze groups the observations into series, orders each by start time,
// and finds its change points. Observations without a positive, finite
// max sustainable rate are left out. A change smaller than o.MinRelChange, or
// than the median resolution of the series' campaigns ((first failing −
// max sustainable) / max sustainable, where known), is no change. o must
// validate.
func Analyze(obs []Observation, o changepoint.Options) Result {
	groups := map[Key][]Observation{}
	for _, ob := range obs {
		if !measured(ob.MaxSustainableRPS) {
			continue // nothing measured: no step passed, or not a number
		}
		groups[ob.Key()] = append(groups[ob.Key()], ob)
	}
	res := Result{Series: []Series{}, Options: o}
	for k, g := range groups {
		sort.SliceStable(g, func(i, j int) bool {
			if !g[i].StartedAt.Equal(g[j].StartedAt) {
				return g[i].StartedAt.Before(g[j].StartedAt)
			}
			return g[i].Run < g[j].Run
		})
		s := Series{Key: k, Points: make([]Point, len(g)), ChangePoints: []ChangePoint{}}
		x := make([]float64, len(g))
		for i, ob := range g {
			s.Points[i] = Point{Run: ob.Run, StartedAt: ob.StartedAt.UTC(), MaxSustainableRPS: ob.MaxSustainableRPS}
			x[i] = ob.MaxSustainableRPS
		}
		so := o
		so.MinRelChange = max(o.MinRelChange, medianResolution(g))
		s.MinChange = so.MinRelChange
		for _, c := range changepoint.Detect(x, so) {
			s.ChangePoints = append(s.ChangePoints, ChangePoint{
				Index: c.Index, Run: s.Points[c.Index].Run,
				Before: numfmt.Round(c.Before, 2), After: numfmt.Round(c.After, 2),
				ChangePct: numfmt.Round(c.RelChange()*100, 2), PValue: c.PValue,
			})
		}
		res.Series = append(res.Series, s)
	}
	slices.SortFunc(res.Series, func(a, b Series) int {
		return cmp.Or(cmp.Compare(a.Scenario, b.Scenario), cmp.Compare(a.Endpoint, b.Endpoint),
			cmp.Compare(a.Target, b.Target), cmp.Compare(a.Replicas, b.Replicas))
	})
	return res
}

// medianResolution is the median relative width of the campaigns' breaking
// point intervals, 0 when none is known.
func medianResolution(g []Observation) float64 {
	var r []float64
	for _, ob := range g {
		if ob.MaxSustainableRPS > 0 && ob.FirstFailingRPS > ob.MaxSustainableRPS {
			r = append(r, (ob.FirstFailingRPS-ob.MaxSustainableRPS)/ob.MaxSustainableRPS)
		}
	}
	if len(r) == 0 {
		return 0
	}
	return stats.Median(r)
}

// Regression is a series whose newest change point lowered capacity.
type Regression struct {
	Key
	ChangePoint
}

// Regressions are the series whose newest change point lowered capacity:
// what --gate fails on. A series whose capacity dropped and later
// recovered is not one.
func (r Result) Regressions() []Regression {
	var out []Regression
	for _, s := range r.Series {
		if n := len(s.ChangePoints); n > 0 && s.ChangePoints[n-1].Down() {
			out = append(out, Regression{Key: s.Key, ChangePoint: s.ChangePoints[n-1]})
		}
	}
	return out
}

// WriteJSON writes the result as
// {"series":[{scenario, endpoint, target, replicas, points, change_points}]}.
func (r Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
