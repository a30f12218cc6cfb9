// Package autoscale drives a load profile meant to trigger a Horizontal Pod
// Autoscaler and judges what it did against its spec: the profile (pure),
// the per-second record, the judgement (pure), the report, and the sources
// of replica counts (the reference target's admin API, or Kubernetes
// through client-go).
package autoscale

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrProfile is wrapped by every error about a load profile.
var ErrProfile = errors.New("load profile")

// DefaultPhases is the default profile: hold at 50% of the current
// capacity, jump to 150%, hold, drop back to 50%.
const DefaultPhases = "50%:2m,150%:6m,50%:8m"

// Phase is one constant-rate part of the profile.
type Phase struct {
	Name string
	// Percent of the capacity measured before the run, or RPS when
	// Percent is 0.
	Percent  float64
	RPS      float64
	Duration time.Duration
}

// ParsePhases parses "50%:2m,150%:6m,300:1m": a rate (percent of the
// capacity, or req/s) and a duration per phase, in order.
func ParsePhases(s string) ([]Phase, error) {
	var out []Phase
	var problems []string
	for i, part := range strings.Split(s, ",") {
		rate, dur, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			problems = append(problems, fmt.Sprintf("phase %d %q: want RATE:DURATION, e.g. 150%%:5m or 400:2m", i+1, part))
			continue
		}
		p := Phase{}
		d, err := time.ParseDuration(strings.TrimSpace(dur))
		if err != nil || d < time.Second || d > 24*time.Hour {
			problems = append(problems, fmt.Sprintf("phase %d: duration %q: want 1s–24h", i+1, dur))
		}
		p.Duration = d.Truncate(time.Second)
		rate = strings.TrimSpace(rate)
		if pct, isPct := strings.CutSuffix(rate, "%"); isPct {
			v, err := strconv.ParseFloat(pct, 64)
			if err != nil || !(v > 0 && v <= 10000) {
				problems = append(problems, fmt.Sprintf("phase %d: rate %q: want a percent > 0", i+1, rate))
			}
			p.Percent = v
		} else {
			v, err := strconv.ParseFloat(rate, 64)
			if err != nil || !(v >= 1 && v <= 1e6) || v != math.Trunc(v) {
				problems = append(problems, fmt.Sprintf("phase %d: rate %q: want whole req/s ≥ 1 or a percent such as 150%%", i+1, rate))
			}
			p.RPS = v
		}
		out = append(out, p)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrProfile, strings.Join(problems, "; "))
	}
	if len(out) < 2 {
		return nil, fmt.Errorf("%w: %q: want at least two phases (a base and a surge)", ErrProfile, s)
	}
	return out, nil
}

// NeedsCapacity says some phase is a percent of the capacity.
func NeedsCapacity(ps []Phase) bool {
	for _, p := range ps {
		if p.Percent > 0 {
			return true
		}
	}
	return false
}

// Resolve turns percents into whole req/s of capacity and names the
// phases: the first is "base", the first higher than the one before
// "surge", the first lower after the surge "drop", others "hold-N".
func Resolve(ps []Phase, capacity float64) []Phase {
	out := make([]Phase, len(ps))
	surge, drop := -1, -1
	for i, p := range ps {
		if p.Percent > 0 {
			p.RPS = math.Max(1, math.Round(p.Percent/100*capacity))
		}
		out[i] = p
		switch {
		case i > 0 && surge < 0 && p.RPS > out[i-1].RPS:
			surge = i
		case surge >= 0 && drop < 0 && p.RPS < out[i-1].RPS:
			drop = i
		}
	}
	for i := range out {
		switch i {
		case 0:
			out[i].Name = "base"
		case surge:
			out[i].Name = "surge"
		case drop:
			out[i].Name = "drop"
		default:
			out[i].Name = fmt.Sprintf("hold-%d", i+1)
		}
	}
	return out
}

// Total is the profile's length.
func Total(ps []Phase) time.Duration {
	var d time.Duration
	for _, p := range ps {
		d += p.Duration
	}
	return d
}

// Env is the profile as the k6 script takes it: PHASES=rate:seconds,…
func Env(ps []Phase) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = fmt.Sprintf("%d:%d", int(p.RPS), int(p.Duration.Seconds()))
	}
	return strings.Join(parts, ",")
}

// At returns the phase at offset t from the start (the last one after the
// end).
func At(ps []Phase, t time.Duration) (int, Phase) {
	var start time.Duration
	for i, p := range ps {
		if t < start+p.Duration {
			return i, p
		}
		start += p.Duration
	}
	return len(ps) - 1, ps[len(ps)-1]
}
