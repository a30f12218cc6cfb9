package hpa

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzParse: whatever an HPA file holds, Parse returns a spec the API
// server would have taken and the simulation can run (checkSpec), the same
// each time; or an ErrSpec naming the file. It never panics, and a small
// accepted spec simulates without an error, its replicas within [min, max].
func FuzzParse(f *testing.F) {
	for _, p := range []string{filepath.Join("guides", "gl008.yaml"), filepath.Join("guides", "gl006.yaml"), filepath.Join("testdata", "inflight.yaml")} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, seed := range []string{
		"", "{}", "spec: {maxReplicas: 3}", hpaYAML(cpuMetric), hpaYAML(podMetric),
		hpaYAML(cpuMetric + scaleUp("      tolerance: 0.05\n      selectPolicy: Disabled\n      policies: [{type: Pods, value: 2, periodSeconds: 60}]\n")),
		hpaYAML("  behavior:\n    scaleDown:\n      policies: []\n"),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b, "f.yaml")
		if err != nil {
			if !errors.Is(err, ErrSpec) || !strings.Contains(err.Error(), "f.yaml") {
				t.Fatalf("not an ErrSpec naming the file: %v", err)
			}
			return
		}
		if err := checkSpec(s); err != "" {
			t.Fatalf("accepted %s: %+v", err, s)
		}
		again, err := Parse(b, "f.yaml")
		if err != nil || again.Describe() != s.Describe() {
			t.Fatalf("parsed twice: %v, %q then %q", err, s.Describe(), again.Describe())
		}
		if s.Max > 50 {
			return
		}
		values := map[string]float64{}
		for _, m := range s.Metrics {
			values[m.Key] = 2 * m.TargetValue
		}
		ds, err := Simulate(s, []Sample{{At: 0, Values: values}}, SimOptions{Initial: s.Min, Duration: 2 * time.Minute})
		if err != nil {
			t.Fatalf("simulating an accepted spec: %v", err)
		}
		for _, d := range ds {
			if d.Desired < s.Min || d.Desired > s.Max {
				t.Fatalf("at %v: %d replicas, outside [%d, %d]", d.At, d.Desired, s.Min, s.Max)
			}
		}
	})
}

// checkSpec says what an accepted spec has that the API server would have
// refused or the simulation cannot run, "" when nothing.
func checkSpec(s *Spec) string {
	if s.Min < 1 || s.Max < s.Min {
		return "replicas out of order"
	}
	if len(s.Metrics) == 0 {
		return "no metric"
	}
	keys := map[string]bool{}
	for _, m := range s.Metrics {
		if m.Key == "" || keys[m.Key] || !(m.TargetValue > 0) || math.IsInf(m.TargetValue, 0) ||
			(m.Target != Utilization && m.Target != AverageValue) || (m.Target == Utilization && !m.Resource) {
			return "a bad metric " + m.Key
		}
		keys[m.Key] = true
	}
	if s.Behavior == nil {
		return ""
	}
	for _, r := range []Rules{s.Behavior.ScaleUp, s.Behavior.ScaleDown} {
		if r.Window < 0 || r.Window > time.Hour || !(r.Tolerance >= 0 && r.Tolerance < 1) || len(r.Policies) == 0 {
			return "bad rules"
		}
		switch r.Select {
		case SelectMax, SelectMin, SelectDisabled:
		default:
			return "a bad select policy"
		}
		for _, p := range r.Policies {
			if (p.Type != "Pods" && p.Type != "Percent") || p.Value <= 0 || p.Period < time.Second || p.Period > 30*time.Minute {
				return "a bad policy"
			}
		}
	}
	if s.Windows() > time.Hour {
		return "a window over an hour"
	}
	return ""
}
