package model

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/greenlang/loadgen/internal/analysis/fit"
	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
)

// estimate fits the knee and the USL.
func (r *Report) estimate() {
	e := &r.Estimates
	e.Knee, e.KneeNote = knee(r.p95ByRate())
	ns, xput, withMean := r.concurrencyPoints()
	e.Concurrency = concurrencyNote(withMean, len(ns))
	u, err := fit.FitUSL(ns, xput)
	switch {
	case errors.Is(err, fit.ErrTooFewPoints):
		e.USLNote = "not enough steps: " + strings.TrimPrefix(err.Error(), fit.ErrTooFewPoints.Error()+": ")
	case err != nil:
		e.USLNote = err.Error()
	default:
		e.USL, e.USLNote = &u, uslNote(u)
	}
}

// p95ByRate is p95 against offered rate over the counted judged steps,
// repeated rates averaged, sorted by rate: the knee's input.
func (r *Report) p95ByRate() (xs, ys []float64) {
	byRate := map[float64][]float64{}
	for _, s := range r.Steps {
		if Judged(s.Verdict) && s.Excluded == "" && s.Requests > 0 {
			byRate[s.OfferedRPS] = append(byRate[s.OfferedRPS], s.LatencyMs.P95)
		}
	}
	for x, v := range byRate {
		sum := 0.0
		for _, y := range v {
			sum += y
		}
		xs, ys = append(xs, x), append(ys, sum/float64(len(v)))
	}
	sort.Sort(pairs{xs, ys})
	return xs, ys
}

// concurrencyPoints are goodput against N = achieved × mean latency over
// the counted judged steps that reached the target (the USL's input), and
// how many had a mean from a seconds file.
func (r *Report) concurrencyPoints() (ns, xput []float64, withMean int) {
	for _, s := range r.Steps {
		if !Judged(s.Verdict) || s.Excluded != "" {
			continue
		}
		if s.Reasons.Has(breakpoint.Unreachable, breakpoint.NoData) {
			continue
		}
		if s.MeanMs > 0 {
			withMean++
		}
		ns, xput = append(ns, s.Concurrency), append(xput, s.GoodputRPS)
	}
	return ns, xput, withMean
}

// concurrencyNote says how N was derived for n steps, withMean of them
// with a mean latency.
func concurrencyNote(withMean, n int) string {
	switch {
	case withMean == 0 && n > 0:
		return "N = achieved req/s × median latency (Little's law; no seconds files, so the median from run.json stands in for the mean)"
	case withMean < n:
		return fmt.Sprintf("N = achieved req/s × latency (Little's law): the mean from the HDR histogram for %d steps, the median from run.json for %d without a seconds file", withMean, n-withMean)
	}
	return "N = achieved req/s × mean latency (Little's law; the mean from each window's HDR histogram)"
}

// uslNote states a USL fit, its peak or asymptote, and how far to trust it.
func uslNote(u fit.USL) string {
	note := fmt.Sprintf("USL fit of goodput X against concurrency N over %d steps: λ = %.4g req/s, σ = %.4g, κ = %.4g, R² = %.3f",
		u.Points, u.Lambda, u.Sigma, u.Kappa, u.R2)
	if u.HasPeak {
		note += fmt.Sprintf("; predicted peak X(N*) = %.1f req/s at N* = %.1f", u.PeakX, u.PeakN)
		if u.PeakN > 2*u.MaxN {
			note += fmt.Sprintf(" (far beyond the measured N ≤ %.1f: an extrapolation)", u.MaxN)
		}
	} else {
		note += fmt.Sprintf("; no peak (κ ≈ 0): throughput approaches λ/σ = %.1f req/s", u.Lambda/math.Max(u.Sigma, 1e-12))
	}
	if u.R2 < 0.9 {
		note += "; the fit is poor (R² < 0.9): treat it with care"
	}
	return note
}

// knee finds the knee of p95 against offered rate (xs sorted, distinct).
// Kneedle assumes a convex rising curve. Past saturation p95 plateaus (a
// bounded queue answers 503 at once, or requests time out), which makes the
// top of the curve concave and would draw the knee to its end; so the curve
// is cut at the first rate whose p95 reaches 95% of the way from the lowest
// to the highest p95.
func knee(xs, ys []float64) (*fit.Knee, string) {
	if len(xs) < 3 {
		return nil, fmt.Sprintf("not enough steps: the knee needs at least 3 distinct judged rates, the run has %d", len(xs))
	}
	lo, hi := ys[0], ys[0]
	for _, y := range ys {
		lo, hi = math.Min(lo, y), math.Max(hi, y)
	}
	if hi-lo <= 0.05*hi {
		return nil, fmt.Sprintf("no knee: p95 stays within 5%% (%s–%s ms) across all %d rates", numfmt.Num(lo), numfmt.Num(hi), len(xs))
	}
	cut := len(xs)
	for i, y := range ys {
		if y >= lo+0.95*(hi-lo) {
			cut = i + 1
			break
		}
	}
	k, err := fit.KneedleConvexIncreasing(xs[:cut], ys[:cut], 1)
	switch {
	case errors.Is(err, fit.ErrTooFewPoints):
		return nil, fmt.Sprintf("not enough steps: p95 rises to its plateau within %d distinct rates (up to %s req/s), the knee needs at least 3", cut, numfmt.Num(xs[cut-1]))
	case err != nil:
		return nil, err.Error()
	case !k.Found:
		return nil, fmt.Sprintf("no knee: p95 does not bend away from a straight line between %s and %s req/s", numfmt.Num(xs[0]), numfmt.Num(xs[cut-1]))
	}
	return &k, fmt.Sprintf("Kneedle (S=1) on p95 against offered rate over the %d distinct rates up to %s req/s, where p95 nears its plateau: the knee is at %s req/s (p95 %s ms)",
		cut, numfmt.Num(xs[cut-1]), numfmt.Num(k.X), numfmt.Num(k.Y))
}

type pairs struct{ x, y []float64 }

func (p pairs) Len() int           { return len(p.x) }
func (p pairs) Less(i, j int) bool { return p.x[i] < p.x[j] }
func (p pairs) Swap(i, j int) {
	p.x[i], p.x[j] = p.x[j], p.x[i]
	p.y[i], p.y[j] = p.y[j], p.y[i]
}
