// Package baseline compares a campaign with an earlier one of the same
// deployment (its baseline): the breaking point's change, judged against the
// runs' resolution, and the latency at the rates both runs held, compared
// with a stated test (Mann–Whitney U on block means of the per-second
// values, internal/analysis/stats: consecutive seconds are autocorrelated). It
// gives a verdict — regression, improvement, no change or inconclusive —
// that `loadgen compare --baseline --gate` and the JUnit report gate on.
//
// Compare is pure (two Sides in, a Result out); Load reads a run directory
// into a Side (run.json and the passing steps' seconds files).
package baseline

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/analysis/stats"
	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
)

// Schema identifies the JSON form of a Result.
const Schema = "loadgen/baseline/v1"

// Verdict is how a run stands against its baseline.
type Verdict string

// The verdicts.
const (
	Regression  Verdict = "regression"
	Improvement Verdict = "improvement"
	NoChange    Verdict = "no change"
	// Inconclusive: the runs cannot be compared (different scenario,
	// endpoint, target kind, replicas or criteria), one of them cannot
	// stand behind its figures (interrupted, aborted, generator-bound), or
	// their figures do not decide.
	Inconclusive Verdict = "inconclusive"
)

// The latency test's settings, stated in every result.
const (
	// Alpha is the family-wise significance level of the latency tests;
	// each of the m tests is run at Alpha/m (Bonferroni).
	Alpha = 0.05
	// MinShiftMedian and MinShiftMedianMs are the smallest change of the
	// per-second medians that counts, however significant: a 3% shift is
	// real with enough seconds, but nobody should fail a build on it; and
	// sub-millisecond shifts on a fast target are timer and scheduler
	// noise.
	MinShiftMedian   = 0.10
	MinShiftMedianMs = 1.0
	// MinShiftP95 and MinShiftP95Ms are the same for the per-second p95s:
	// twice as much, since the tail moves with the host's load between two
	// runs of one build far more than the median does.
	MinShiftP95   = 0.20
	MinShiftP95Ms = 2.0
	// Headroom is the fraction of the lower breaking point (max
	// sustainable) up to which latency is tested: within 10% of a breaking
	// point latency rises steeply with small differences in capacity (a
	// queue near saturation), which the breaking point's comparison judges
	// with its resolution; two runs of one build differ most there.
	Headroom = 0.9
	// MinSeconds is the fewest seconds each run needs at a rate for its
	// latency to be tested: below ~8 the normal approximation of U is poor
	// and no shift could reach significance after the correction anyway.
	MinSeconds = 8
	// MinBlocks is the fewest blocks of B seconds (stats.BlockLength) each
	// run needs at a rate for the test to decide; with fewer it is
	// inconclusive (too few independent blocks), never significant.
	MinBlocks = stats.MinBlocks
)

// TestDescription states the latency test in words.
const TestDescription = "Mann–Whitney U, two-sided, normal approximation with tie and continuity correction, on block means of the per-second values of the judged windows (per-second values are autocorrelated, so a test of the seconds themselves overstates its significance; in simulation of strongly autocorrelated seconds block means kept false positives near α, about 8% at α = 0.05, where the seconds gave about 65%): each step's window is cut into consecutive blocks of B seconds, B = 2K where K is the first lag at which the autocorrelation of both runs' seconds (each step less its own mean) falls below 2/√n, or B = 1 (the seconds themselves) when already the lag-1 autocorrelation does; at least 4 blocks a side, else inconclusive (too few independent blocks); at the rates both runs passed up to 90% of the lower breaking point; Bonferroni over the m tests that decided (each at α/m, α = 0.05); a shift counts only when it is also at least 10% and 1 ms (median) or 20% and 2 ms (p95); effect size: rank-biserial correlation of the block means (+1: every block of the run slower than every block of the baseline); shift: Hodges–Lehmann of the block means"

// CapacityRule states how the breaking point's change is judged.
const CapacityRule = "each run's capacity lies in [max sustainable, first failing); the change is the difference of the intervals' midpoints (of the known bound for an open interval); it is a regression only when the run failed a rate the baseline sustained (its interval lies wholly below) and the change is at least the resolution — the wider of the two intervals, and of each campaign's own resolution (adaptive: --resolution × max sustainable; linear: --step); an improvement likewise the other way; anything smaller is no change; overlapping intervals of which one is open are inconclusive"

// Second is the latency of one second of a step's judged window, ms.
type Second struct {
	P50Ms float64
	P95Ms float64
}

// Side is one of the two runs: its run.json and, by step index, the
// per-second latency of its passing steps' judged windows.
type Side struct {
	// Name is how the run is named in the result (its directory's name).
	Name    string
	Run     *runrecord.Run
	Seconds map[int][]Second
	// Warnings are what could not be read (a missing seconds file).
	Warnings []string
}

// RunInfo identifies one of the runs in the result.
type RunInfo struct {
	Dir        string `json:"dir"`
	Scenario   string `json:"scenario"`
	Endpoint   string `json:"endpoint"`
	Target     string `json:"target"`
	TargetKind string `json:"target_kind"` // embedded or external
	Replicas   int    `json:"replicas"`
	Status     string `json:"status"`
	StartedAt  string `json:"started_at"`
	GitCommit  string `json:"git_commit,omitempty"`
}

// Bounds is a run's capacity interval [lo, hi), req/s. HiRPS is nil when no
// step failed (the interval is open above).
type Bounds struct {
	MaxSustainableRPS float64  `json:"max_sustainable_rps"`
	FirstFailingRPS   *float64 `json:"first_failing_rps"`
	Interval          string   `json:"interval"`
	// ResolutionRPS is the campaign's resolution at its breaking point:
	// the interval's width, or its own search resolution if wider.
	ResolutionRPS float64 `json:"resolution_rps"`
}

// Capacity is the breaking point's change.
type Capacity struct {
	Verdict  Verdict `json:"verdict"`
	Run      Bounds  `json:"run"`
	Baseline Bounds  `json:"baseline"`
	// ChangeRPS is the run's estimate minus the baseline's (the intervals'
	// midpoints), and ChangePct it relative to the baseline's.
	ChangeRPS float64 `json:"change_rps"`
	ChangePct float64 `json:"change_pct"`
	// ResolutionRPS is the larger of the two runs' resolutions: a change
	// smaller than it is no change.
	ResolutionRPS float64 `json:"resolution_rps"`
	Why           string  `json:"why"`
	Rule          string  `json:"rule"`
}

// Metric compares one latency figure at one rate: the per-second values of
// the run against the baseline's, by their block means.
type Metric struct {
	Verdict string `json:"verdict"` // worse, better, same, inconclusive (too few blocks), not tested
	// BaselineMs and RunMs are the median of each run's per-second values.
	BaselineMs float64 `json:"baseline_ms"`
	RunMs      float64 `json:"run_ms"`
	ChangePct  float64 `json:"change_pct"`
	// ShiftMs is the Hodges–Lehmann estimate of the shift (run −
	// baseline) of the block means.
	ShiftMs float64 `json:"shift_ms"`
	// NBaseline and NRun are the seconds of each run.
	NBaseline int `json:"n_baseline"`
	NRun      int `json:"n_run"`
	// Method is the test in words: on what (per-second values or B-s
	// block means), how many blocks a side, and why (the seconds'
	// autocorrelation); empty when not tested.
	Method string `json:"method,omitempty"`
	// BlockSeconds is B, BlocksBaseline and BlocksRun the blocks of each
	// run that were tested; Lag1Autocorrelation is r₁ of both runs'
	// seconds, AutocorrelationBound the 2/√n it was held against.
	BlockSeconds         int     `json:"block_seconds,omitempty"`
	BlocksBaseline       int     `json:"blocks_baseline,omitempty"`
	BlocksRun            int     `json:"blocks_run,omitempty"`
	Lag1Autocorrelation  float64 `json:"lag1_autocorrelation,omitempty"`
	AutocorrelationBound float64 `json:"autocorrelation_bound,omitempty"`
	// U, Z and PValue are the test's, of the block means.
	U      float64 `json:"u"`
	Z      float64 `json:"z"`
	PValue float64 `json:"p_value"`
	// EffectSize is the rank-biserial correlation 2U/(n₁n₂) − 1 of the
	// block means (n₁, n₂: blocks).
	EffectSize float64 `json:"effect_size"`
	// MinShiftPct and MinShiftMs are how large a significant change must
	// also be to count (MinShiftMedian…, MinShiftP95…).
	MinShiftPct float64 `json:"min_shift_pct"`
	MinShiftMs  float64 `json:"min_shift_ms"`
	Why         string  `json:"why"`
}

// Rate is the latency at one rate both runs passed.
type Rate struct {
	OfferedRPS    float64 `json:"offered_rps"`
	RunSteps      []int   `json:"run_steps"`
	BaselineSteps []int   `json:"baseline_steps"`
	Median        Metric  `json:"median"`
	P95           Metric  `json:"p95"`
}

// Latency is the latency comparison at the rates both runs held.
type Latency struct {
	Verdict Verdict `json:"verdict"`
	Test    string  `json:"test"`
	Alpha   float64 `json:"alpha"`
	// Tests is m, the number of tests run; each is judged at AlphaPerTest.
	Tests        int     `json:"tests"`
	AlphaPerTest float64 `json:"alpha_per_test"`
	MinSeconds   int     `json:"min_seconds"`
	// MinBlocks is the fewest blocks a side for a test to decide;
	// Inconclusive counts the tests with fewer (not among the m).
	MinBlocks    int `json:"min_blocks,omitempty"`
	Inconclusive int `json:"inconclusive,omitempty"`
	// TestedUpToRPS is Headroom × the lower of the runs' max sustainable
	// rates: rates above it are listed, not tested; 0 when neither run
	// found a breaking point (no limit).
	TestedUpToRPS float64 `json:"tested_up_to_rps,omitempty"`
	Rates         []Rate  `json:"rates"`
	Why           string  `json:"why"`
}

// Result is a run compared with its baseline.
type Result struct {
	Schema   string  `json:"schema"`
	Run      RunInfo `json:"run"`
	Baseline RunInfo `json:"baseline"`
	Verdict  Verdict `json:"verdict"`
	// Reasons say what decided the verdict.
	Reasons []string `json:"reasons"`
	// NotComparable lists why the runs cannot be compared (then the
	// verdict is inconclusive); empty when they can.
	NotComparable []string `json:"not_comparable"`
	Capacity      Capacity `json:"capacity"`
	Latency       Latency  `json:"latency"`
	Notes         []string `json:"notes"`
	Warnings      []string `json:"warnings"`
}

// Compare sets run beside its baseline.
func Compare(run, base Side) *Result {
	res := &Result{Schema: Schema, Run: info(run), Baseline: info(base), Reasons: []string{}, NotComparable: []string{},
		Notes: []string{}, Warnings: []string{}}
	for _, w := range run.Warnings {
		res.Warnings = append(res.Warnings, "run: "+w)
	}
	for _, w := range base.Warnings {
		res.Warnings = append(res.Warnings, "baseline: "+w)
	}
	res.NotComparable = comparability(run.Run, base.Run)
	res.Notes = append(res.Notes, notes(run.Run, base.Run)...)
	unfit := append(standing("run", run.Run), standing("baseline", base.Run)...)
	res.Capacity = capacity(run.Run, base.Run)
	res.Latency = latency(run, base)

	switch {
	case len(res.NotComparable) > 0:
		res.Verdict = Inconclusive
		for _, w := range res.NotComparable {
			res.Reasons = append(res.Reasons, "not comparable: "+w)
		}
		res.Reasons = append(res.Reasons, unfit...)
	case len(unfit) > 0:
		res.Verdict = Inconclusive
		res.Reasons = append(res.Reasons, unfit...)
	default:
		res.verdict()
	}
	return res
}

// verdict combines the capacity and latency verdicts of comparable runs: a
// regression of either is a regression (an improvement elsewhere does not
// excuse it); else an improvement of either; else no change, unless the
// capacity could not be compared or no latency test could decide.
func (res *Result) verdict() {
	c, l := res.Capacity, res.Latency
	capReason := "capacity: " + c.Why
	switch {
	case c.Verdict == Regression || l.Verdict == Regression:
		res.Verdict = Regression
	case c.Verdict == Improvement || l.Verdict == Improvement:
		res.Verdict = Improvement
	case c.Verdict == Inconclusive || l.Verdict == Inconclusive:
		res.Verdict = Inconclusive
	default:
		res.Verdict = NoChange
	}
	switch res.Verdict {
	case Regression, Improvement:
		if c.Verdict == res.Verdict {
			res.Reasons = append(res.Reasons, capReason)
		}
		want := "worse"
		if res.Verdict == Improvement {
			want = "better"
		}
		for _, r := range l.Rates {
			for _, m := range []Metric{r.Median, r.P95} {
				if m.Verdict == want {
					res.Reasons = append(res.Reasons, "latency: "+m.Why)
				}
			}
		}
	default:
		res.Reasons = append(res.Reasons, capReason, "latency: "+l.Why)
	}
}

func info(s Side) RunInfo {
	r := s.Run
	i := RunInfo{Dir: s.Name, Scenario: scenario(r), Endpoint: r.Config.Endpoint, Target: r.Target, TargetKind: targetKind(r),
		Replicas: max(r.Config.Replicas, 1), Status: string(r.Status), StartedAt: r.StartedAt.UTC().Format("2006-01-02T15:04:05Z"),
		GitCommit: r.Versions.GitCommit}
	if i.Target == "" {
		i.Target = r.Config.Target
	}
	return i
}

func scenario(r *runrecord.Run) string {
	if r.Scenario != "" {
		return r.Scenario
	}
	return r.Config.Scenario
}

func targetKind(r *runrecord.Run) string {
	if r.Config.Target == campaign.EmbeddedTarget || r.Target == campaign.EmbeddedTarget {
		return "embedded"
	}
	return "external"
}

// comparability lists what makes the runs' figures mean different things.
func comparability(a, b *runrecord.Run) []string {
	out := []string{}
	diff := func(what, x, y string) {
		if x != y {
			out = append(out, fmt.Sprintf("different %s: %s (run) vs %s (baseline)", what, x, y))
		}
	}
	diff("scenario", scenario(a), scenario(b))
	diff("endpoint", a.Config.Endpoint, b.Config.Endpoint)
	diff("target kind", targetKind(a), targetKind(b))
	diff("replicas", fmt.Sprint(max(a.Config.Replicas, 1)), fmt.Sprint(max(b.Config.Replicas, 1)))
	if targetKind(a) == "embedded" && targetKind(b) == "embedded" {
		ts := func(r *runrecord.Run) string { return numfmt.Num(cmpOr(r.Config.TargetTimeScale, 1)) }
		diff("embedded target time scale", ts(a), ts(b))
	}
	ca, cb := a.Config, b.Config
	if ca.P95Ms != cb.P95Ms || ca.P99Ms != cb.P99Ms || ca.MaxErrorRate != cb.MaxErrorRate || ca.MaxErrors != cb.MaxErrors {
		out = append(out, fmt.Sprintf("different pass/fail criteria: %s (run) vs %s (baseline)", criteria(ca), criteria(cb)))
	}
	return out
}

func criteria(c campaign.Config) string {
	return fmt.Sprintf("p95 ≤ %s ms, p99 ≤ %s ms, error rate ≤ %s, errors ≤ %d (0: not checked)",
		numfmt.Num(c.P95Ms), numfmt.Num(c.P99Ms), numfmt.Num(c.MaxErrorRate), c.MaxErrors)
}

func cmpOr(x, d float64) float64 {
	if x == 0 {
		return d
	}
	return x
}

// notes are differences worth knowing that do not prevent the comparison.
func notes(a, b *runrecord.Run) []string {
	var out []string
	if targetKind(a) == "external" && a.Target != b.Target {
		out = append(out, fmt.Sprintf("the runs loaded different URLs: %s (run) vs %s (baseline)", a.Target, b.Target))
	}
	if a.Config.StepDuration != b.Config.StepDuration || a.Config.Warmup != b.Config.Warmup {
		out = append(out, fmt.Sprintf("different step durations: %s with %s warm-up (run) vs %s with %s warm-up (baseline): longer steps find queues that shorter ones miss",
			a.Config.StepDuration, a.Config.Warmup, b.Config.StepDuration, b.Config.Warmup))
	}
	if ga, gb := a.Generator, b.Generator; (ga != nil && ga.NearCeiling) || (gb != nil && gb.NearCeiling) {
		out = append(out, "a breaking point near the load generator's ceiling may be the generator's: see each run's report")
	}
	if a.StartedAt.Before(b.StartedAt) {
		out = append(out, "the baseline started after the run: the comparison reads as the run against a later one")
	}
	return out
}

// standing says why a run cannot stand behind its figures: it did not
// complete, the load generator gave out, or nothing was judged.
func standing(which string, r *runrecord.Run) []string {
	var out []string
	switch {
	case r.Status == runrecord.Inconclusive || (r.Generator != nil && r.Generator.Bound):
		out = append(out, fmt.Sprintf("the %s is inconclusive: %s", which, r.Generator.Headline()))
	case r.Status != runrecord.Completed:
		s := fmt.Sprintf("the %s is %s, not completed", which, r.Status)
		if r.AbortReason != "" {
			s += " (" + r.AbortReason + ")"
		}
		out = append(out, s)
	}
	judged := 0
	for _, s := range r.Steps {
		if s.Excluded == "" && (s.Verdict == breakpoint.Pass || s.Verdict == breakpoint.Fail) {
			judged++
		}
	}
	if judged == 0 {
		out = append(out, fmt.Sprintf("the %s has no judged step", which))
	}
	return out
}

// estimate is a capacity interval's midpoint, or its known bound when it
// is open.
func estimate(iv compare.Interval) float64 {
	switch {
	case math.IsInf(iv.Hi, 1):
		return iv.Lo
	case iv.Lo <= 0:
		return iv.Hi
	}
	return (iv.Lo + iv.Hi) / 2
}

// resolution is what the run's search could tell apart at its breaking
// point: the interval's width when it is closed, and at least the
// campaign's own resolution.
func resolution(r *runrecord.Run, iv compare.Interval) float64 {
	w := 0.0
	if !iv.Open() {
		w = iv.Hi - iv.Lo
	}
	switch r.Config.Search {
	case campaign.Adaptive:
		w = math.Max(w, r.Config.Resolution*iv.Lo)
	case campaign.Linear:
		w = math.Max(w, float64(r.Config.Step))
	}
	return w
}

func bounds(r *runrecord.Run, iv compare.Interval) Bounds {
	b := Bounds{MaxSustainableRPS: iv.Lo, Interval: iv.String(), ResolutionRPS: numfmt.Round(resolution(r, iv), 2)}
	if !math.IsInf(iv.Hi, 1) {
		hi := iv.Hi
		b.FirstFailingRPS = &hi
	}
	return b
}

// capacity judges the breaking point's change by CapacityRule.
func capacity(run, base *runrecord.Run) Capacity {
	a, b := compare.Capacity(run.Breakpoint), compare.Capacity(base.Breakpoint)
	c := Capacity{Run: bounds(run, a), Baseline: bounds(base, b), Rule: CapacityRule}
	res := math.Max(resolution(run, a), resolution(base, b))
	change := estimate(a) - estimate(b)
	c.ResolutionRPS, c.ChangeRPS = numfmt.Round(res, 2), numfmt.Round(change, 2)
	if e := estimate(b); e > 0 {
		c.ChangePct = numfmt.Round(change/e*100, 2)
	}
	num := numfmt.Num
	desc := fmt.Sprintf("%s req/s (run) vs %s req/s (baseline), change %s req/s (%s%%), resolution %s req/s",
		a, b, signed(change), signed(c.ChangePct), num(c.ResolutionRPS))
	below, above := a.Hi <= b.Lo, a.Lo >= b.Hi
	switch {
	case below && -change >= res && change < 0:
		c.Verdict = Regression
		c.Why = fmt.Sprintf("%s: the run failed %s req/s, which the baseline sustained, and the drop is not smaller than the resolution", desc, num(a.Hi))
	case above && change >= res && change > 0:
		c.Verdict = Improvement
		c.Why = fmt.Sprintf("%s: the run sustained %s req/s, which the baseline failed, and the rise is not smaller than the resolution", desc, num(a.Lo))
	case below || above:
		c.Verdict = NoChange
		c.Why = desc + ": the intervals do not overlap, but the change is smaller than the resolution"
	case a.Open() || b.Open():
		c.Verdict = Inconclusive
		c.Why = desc + ": the intervals overlap and one is open, so the change cannot be bounded; run the open campaign further (a higher --max, or a lower --start)"
	default:
		c.Verdict = NoChange
		c.Why = desc + ": the intervals overlap"
	}
	return c
}

func signed(x float64) string {
	if x > 0 {
		return "+" + numfmt.Num(x)
	}
	return numfmt.Num(x)
}

// passing groups a run's counted, passing steps by offered rate.
func passing(r *runrecord.Run) map[float64][]int {
	out := map[float64][]int{}
	for _, s := range r.Steps {
		if s.Verdict == breakpoint.Pass && s.Excluded == "" {
			out[s.OfferedRPS] = append(out[s.OfferedRPS], s.Index)
		}
	}
	return out
}

// sameRate says whether two offered rates are the same step of the search
// (rates are whole req/s; 0.5% allows for a rate rounded differently).
func sameRate(a, b float64) bool { return math.Abs(a-b) <= 0.005*math.Max(a, b) }

// test is one latency figure at one rate, waiting for m to be known.
type test struct {
	m       *Metric
	what    string
	offered float64
	bt      stats.BlockTest // x: the run, y: the baseline
}

// latency compares the per-second latency at every rate both runs passed.
func latency(run, base Side) Latency {
	l := Latency{Test: TestDescription, Alpha: Alpha, MinSeconds: MinSeconds, MinBlocks: MinBlocks, Rates: []Rate{}}
	pr, pb := passing(run.Run), passing(base.Run)
	rates := make([]float64, 0, len(pr))
	for r := range pr {
		rates = append(rates, r)
	}
	sort.Float64s(rates)
	for _, r := range rates {
		var bsteps []int
		for br, idx := range pb {
			if sameRate(r, br) {
				bsteps = append(bsteps, idx...)
			}
		}
		if len(bsteps) > 0 {
			slices.Sort(bsteps)
			l.Rates = append(l.Rates, Rate{OfferedRPS: r, RunSteps: pr[r], BaselineSteps: bsteps})
		}
	}
	edge := math.Inf(1)
	for _, r := range []*runrecord.Run{run.Run, base.Run} {
		if bp := r.Breakpoint; bp.Found && bp.MaxSustainableRPS > 0 {
			edge = math.Min(edge, bp.MaxSustainableRPS)
		}
	}
	if !math.IsInf(edge, 1) {
		l.TestedUpToRPS = numfmt.Round(Headroom*edge, 2)
	}
	var tests []test
	for i := range l.Rates {
		rate := &l.Rates[i]
		runSecs, baseSecs := gather(run, rate.RunSteps), gather(base, rate.BaselineSteps)
		nearEdge := l.TestedUpToRPS > 0 && rate.OfferedRPS > l.TestedUpToRPS*(1+1e-9)
		for _, f := range []struct {
			what      string
			get       func(Second) float64
			m         *Metric
			pct, msec float64
		}{{"median", func(s Second) float64 { return s.P50Ms }, &rate.Median, MinShiftMedian, MinShiftMedianMs},
			{"p95", func(s Second) float64 { return s.P95Ms }, &rate.P95, MinShiftP95, MinShiftP95Ms}} {
			xs, ys := values(runSecs, f.get), values(baseSecs, f.get)
			x, y := slices.Concat(xs...), slices.Concat(ys...)
			*f.m = Metric{NRun: len(x), NBaseline: len(y), RunMs: round3(nanToZero(stats.Median(x))), BaselineMs: round3(nanToZero(stats.Median(y))),
				MinShiftPct: f.pct * 100, MinShiftMs: f.msec}
			if nearEdge {
				f.m.Verdict = "not tested"
				f.m.Why = fmt.Sprintf("%s at %s req/s: within 10%% of the lower breaking point (%s req/s), where latency rises steeply with small differences in capacity; the breaking point's comparison judges it",
					f.what, numfmt.Num(rate.OfferedRPS), numfmt.Num(edge))
				continue
			}
			if len(x) < MinSeconds || len(y) < MinSeconds {
				f.m.Verdict = "not tested"
				f.m.Why = fmt.Sprintf("%s at %s req/s: %d seconds in the run and %d in the baseline, fewer than %d on a side",
					f.what, numfmt.Num(rate.OfferedRPS), len(x), len(y), MinSeconds)
				continue
			}
			t := test{m: f.m, what: f.what, offered: rate.OfferedRPS, bt: stats.BlockMannWhitneyU(xs, ys)}
			if !t.bt.Decided {
				t.undecided()
				l.Inconclusive++
				continue
			}
			tests = append(tests, t)
		}
	}
	l.Tests = len(tests)
	if l.Tests == 0 {
		l.Verdict = NoChange
		l.Why = "no rate passed in both runs below 90% of the lower breaking point with enough seconds to test (not tested)"
		if len(l.Rates) == 0 {
			l.Why = "no rate passed in both runs: nothing to compare (not tested)"
		}
		if l.Inconclusive > 0 {
			l.Verdict = Inconclusive
			l.Why = fmt.Sprintf("no test could decide: %d with too few independent blocks (fewer than %d blocks a side; the per-second values are autocorrelated)",
				l.Inconclusive, MinBlocks)
		}
		return l
	}
	l.AlphaPerTest = Alpha / float64(l.Tests)
	worse, better := 0, 0
	for _, t := range tests {
		if t.judge(l.AlphaPerTest) {
			switch t.m.Verdict {
			case "worse":
				worse++
			case "better":
				better++
			}
		}
	}
	switch {
	case worse > 0:
		l.Verdict = Regression
		l.Why = fmt.Sprintf("%d of %d tests slower", worse, l.Tests)
	case better > 0:
		l.Verdict = Improvement
		l.Why = fmt.Sprintf("%d of %d tests faster, none slower", better, l.Tests)
	default:
		l.Verdict = NoChange
		l.Why = fmt.Sprintf("no significant shift large enough to count in %d tests at %d shared rates", l.Tests, len(l.Rates))
	}
	if l.Inconclusive > 0 {
		l.Why += fmt.Sprintf("; %d more inconclusive (too few independent blocks)", l.Inconclusive)
	}
	return l
}

// blocks records how the test cut the seconds into blocks.
func (t test) blocks() {
	m, bt := t.m, t.bt
	m.Method, m.BlockSeconds, m.BlocksRun, m.BlocksBaseline = bt.Method(), bt.Seconds, bt.BlocksX, bt.BlocksY
	m.Lag1Autocorrelation, m.AutocorrelationBound = round4(bt.R1), round4(bt.Threshold)
	change := m.RunMs - m.BaselineMs
	if m.BaselineMs > 0 {
		m.ChangePct = numfmt.Round(change/m.BaselineMs*100, 2)
	}
}

// undecided sets the metric of a test with too few blocks: inconclusive,
// whatever the medians say.
func (t test) undecided() {
	t.blocks()
	m := t.m
	m.Verdict, m.PValue = "inconclusive", 1
	m.Why = fmt.Sprintf("%s at %s req/s %s → %s ms (%s%%), %s: too few independent blocks (fewer than %d a side) to tell a shift from the seconds' own wandering; inconclusive",
		t.what, numfmt.Num(t.offered), numfmt.Num(m.BaselineMs), numfmt.Num(m.RunMs), signed(m.ChangePct), m.Method, MinBlocks)
}

// judge runs the test at level alpha and sets its metric; it reports
// whether the shift counts (worse or better).
func (t test) judge(alpha float64) bool {
	t.blocks()
	m, mw := t.m, t.bt.MannWhitney
	m.U, m.Z, m.PValue, m.EffectSize = mw.U, round4(mw.Z), mw.P, round4(mw.RankBiserial)
	m.ShiftMs = round3(stats.HodgesLehmann(t.bt.X, t.bt.Y))
	change := m.RunMs - m.BaselineMs
	big := math.Abs(change) >= m.MinShiftMs && m.BaselineMs > 0 && math.Abs(change)/m.BaselineMs*100 >= m.MinShiftPct
	sig := mw.P < alpha
	rel := "≥"
	if sig {
		rel = "<"
	}
	desc := fmt.Sprintf("%s at %s req/s %s → %s ms (%s%%; shift %s ms), %s: p = %s %s α/m = %s, effect %s, n = %d/%d s",
		t.what, numfmt.Num(t.offered), numfmt.Num(m.BaselineMs), numfmt.Num(m.RunMs), signed(m.ChangePct), signed(m.ShiftMs),
		m.Method, pval(mw.P), rel, pval(alpha), signed(m.EffectSize), m.NRun, m.NBaseline)
	switch {
	case sig && big && change > 0 && mw.Z > 0:
		m.Verdict, m.Why = "worse", desc+": slower"
	case sig && big && change < 0 && mw.Z < 0:
		m.Verdict, m.Why = "better", desc+": faster"
	case sig:
		m.Verdict, m.Why = "same", desc+fmt.Sprintf(": significant, but smaller than %s%% or %s ms", numfmt.Num(m.MinShiftPct), numfmt.Num(m.MinShiftMs))
	default:
		m.Verdict, m.Why = "same", desc+": not significant"
	}
	return m.Verdict == "worse" || m.Verdict == "better"
}

// gather returns the seconds of the steps, one segment a step: blocks of
// consecutive seconds never span two steps.
func gather(s Side, steps []int) [][]Second {
	var out [][]Second
	for _, i := range steps {
		if len(s.Seconds[i]) > 0 {
			out = append(out, s.Seconds[i])
		}
	}
	return out
}

func values(segs [][]Second, get func(Second) float64) [][]float64 {
	out := make([][]float64, 0, len(segs))
	for _, secs := range segs {
		v := make([]float64, 0, len(secs))
		for _, s := range secs {
			v = append(v, get(s))
		}
		out = append(out, v)
	}
	return out
}

func round3(x float64) float64 { return numfmt.Round(x, 3) }
func round4(x float64) float64 { return numfmt.Round(x, 4) }

func nanToZero(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return x
}

// pval prints a p-value with two significant digits.
func pval(p float64) string {
	if p >= 0.01 {
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", p), "0"), ".")
	}
	return fmt.Sprintf("%.2g", p)
}
