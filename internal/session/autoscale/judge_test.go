package autoscale

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/kube/hpa"
)

func gl008(t *testing.T) *hpa.Spec {
	t.Helper()
	s, err := hpa.Builtin("gl008")
	require.NoError(t, err)
	return s
}

// observed is a GL-008 run on the HPA's own clock (exact syncs every
// 15 s): base 0–120 s, surge 120–600 s, drop 600–1200 s; recommendations
// 3 in the base, 8 in the surge (from 4, then 16 from 8…), 2 after the drop.
func observed(t *testing.T, events []Event) Observed {
	o := Observed{Spec: gl008(t), Sync: 15 * time.Second, Exact: true, Initial: 4, TimeScale: 1,
		P95LimitMs: 2000, MaxErrorRate: 0.01, RecoverySeconds: 5, GeneratorReason: "k6 used 10% of the CPU it may use",
		Spans: []Span{{Name: "base", StartS: 0, EndS: 120, WallEndS: 120}, {Name: "surge", StartS: 120, EndS: 600, WallStartS: 120, WallEndS: 600},
			{Name: "drop", StartS: 600, EndS: 1200, WallStartS: 600, WallEndS: 1200}}}
	o.Events = events
	for ts := 0.0; ts <= 1200; ts += 15 {
		r := int32(3)
		switch {
		case ts >= 120 && ts < 600:
			r = 2 * o.replicasAt(ts-1) // twice what ran before this sync
		case ts >= 600:
			r = 2
		}
		o.Recs = append(o.Recs, Rec{T: ts, Replicas: r})
	}
	for s := 0; s < 1200; s++ {
		sec := Second{T: float64(s), HPAT: float64(s), OK: 100, P95Ms: 50}
		if s >= 120 && s < 180 { // the surge hurts until the new pods serve
			sec.P95Ms, sec.Errors = 3000, 20
		}
		o.Seconds = append(o.Seconds, sec)
	}
	return o
}

// As the simulation gives it for a surge that doubles the CPU: 4 → 8 at
// 45 s after the surge (120 + 45 = 165), 8 → 16 at 225, 16 → 20 at 285;
// down after the drop: the last 40 recommended at 585 leaves the 300 s
// window at 885: 20 → 18, then −2 per 60 s.
var good = []Event{{165, 4, 8}, {225, 8, 16}, {285, 16, 20}, {885, 20, 18}, {945, 18, 16}, {1005, 16, 14}}

func byName(cs []Check) map[string]Check {
	m := map[string]Check{}
	for _, c := range cs {
		m[c.Name] = c
	}
	return m
}

func TestJudgePasses(t *testing.T) {
	cs, v := Judge(observed(t, good))
	m := byName(cs)
	for _, c := range cs {
		assert.Equal(t, Pass, c.Verdict, "%s: %s", c.Name, c.Detail)
	}
	assert.Equal(t, Pass, v)
	require.NotNil(t, m["first_scale_up"].ValueS)
	assert.InDelta(t, 45, *m["first_scale_up"].ValueS, 1e-9)
	assert.InDelta(t, 285, *m["no_early_scale_down"].ValueS, 1e-9)
	assert.InDelta(t, 60, *m["p95_recovery"].ValueS, 1e-9) // 120 s of surge start + 60 s of trouble
}

func TestJudgeEarlyScaleUp(t *testing.T) {
	ev := append([]Event{{135, 4, 8}}, good[1:]...) // 15 s after the surge: inside the 60 s window
	cs, v := Judge(observed(t, ev))
	m := byName(cs)
	assert.Equal(t, Fail, v)
	assert.Equal(t, Fail, m["first_scale_up"].Verdict)
	assert.Contains(t, m["first_scale_up"].Detail, "earlier than the 60 s scale-up stabilization window")
	assert.Equal(t, Fail, m["stabilization"].Verdict)
}

func TestJudgeTooFast(t *testing.T) {
	// 4 → 12 at once: max(+100%, +4) from 4 allows 8.
	ev := []Event{{165, 4, 12}}
	cs, _ := Judge(observed(t, ev))
	m := byName(cs)
	assert.Equal(t, Fail, m["policy_rate"].Verdict)
	assert.Contains(t, m["policy_rate"].Detail, "allow at most 8")
	// 8 → 16 only 15 s after 4 → 8: the 30 s period still holds the +4.
	ev = []Event{{165, 4, 8}, {180, 8, 16}}
	cs, _ = Judge(observed(t, ev))
	assert.Equal(t, Fail, byName(cs)["policy_rate"].Verdict)
	// Down by 4 at once: min(−50%, −2) allows −2.
	ev = append(append([]Event{}, good[:3]...), Event{885, 20, 16})
	cs, _ = Judge(observed(t, ev))
	assert.Equal(t, Fail, byName(cs)["policy_rate"].Verdict)
}

func TestJudgeEarlyScaleDown(t *testing.T) {
	ev := append(append([]Event{}, good[:3]...), Event{700, 20, 18}) // 100 s after the drop
	cs, v := Judge(observed(t, ev))
	m := byName(cs)
	assert.Equal(t, Fail, v)
	assert.Equal(t, Fail, m["no_early_scale_down"].Verdict)
	assert.Contains(t, m["no_early_scale_down"].Detail, "only 115 s after the metrics last asked for more than 18") // 700 − 585
	assert.Equal(t, Fail, m["stabilization"].Verdict, m["stabilization"].Detail)
}

// A scale-down soon after the drop is fine when the metrics stopped asking
// for more long before it (the surge over-provisioned): the window runs
// from the last higher recommendation, not from the drop.
func TestJudgeScaleDownWindowFromLastHighRecommendation(t *testing.T) {
	o := observed(t, append(append([]Event{}, good[:3]...), Event{700, 20, 18}))
	for i := range o.Recs {
		if o.Recs[i].T >= 345 && o.Recs[i].T < 600 {
			o.Recs[i].Replicas = 12 // 20 pods were more than the surge needed
		}
	}
	cs, _ := Judge(o)
	m := byName(cs)
	assert.Equal(t, Pass, m["no_early_scale_down"].Verdict, m["no_early_scale_down"].Detail)
	assert.Contains(t, m["no_early_scale_down"].Detail, "370 s after the metrics last asked for more than 18") // 700 − 330
	assert.Equal(t, Pass, m["stabilization"].Verdict, m["stabilization"].Detail)
}

func TestJudgeNoScaleUp(t *testing.T) {
	cs, v := Judge(observed(t, nil))
	m := byName(cs)
	assert.Equal(t, Fail, v)
	assert.Contains(t, m["first_scale_up"].Detail, "no scale-up during")

	// Metrics that never asked for more: inconclusive, not a failure.
	o := observed(t, nil)
	for i := range o.Recs {
		o.Recs[i].Replicas = 4
	}
	cs, v = Judge(o)
	assert.Equal(t, Inconclusive, byName(cs)["first_scale_up"].Verdict)
	assert.Equal(t, Inconclusive, v)
}

func TestJudgeP95NeverRecovers(t *testing.T) {
	o := observed(t, good)
	for i := range o.Seconds {
		if o.Seconds[i].T >= 120 && o.Seconds[i].T < 600 && int(o.Seconds[i].T)%4 == 0 {
			o.Seconds[i].P95Ms = 2500
		}
	}
	cs, v := Judge(o)
	assert.Equal(t, Fail, v)
	assert.Equal(t, Fail, byName(cs)["p95_recovery"].Verdict)
}

func TestJudgeGeneratorBoundIsInconclusive(t *testing.T) {
	o := observed(t, good)
	o.GeneratorBound, o.GeneratorReason = true, "k6 used 97% of the CPU it may use"
	cs, v := Judge(o)
	assert.Equal(t, Inconclusive, v)
	assert.Equal(t, Inconclusive, byName(cs)["generator"].Verdict)
}

// Sampled (a cluster): a scale-up seen 1 s after the sync that made it is
// still judged against the window with the slack.
func TestJudgeSampledSlack(t *testing.T) {
	o := observed(t, []Event{{166, 4, 8}, {226, 8, 16}})
	o.Exact, o.Slack = false, 1
	cs, _ := Judge(o)
	m := byName(cs)
	assert.Equal(t, Pass, m["first_scale_up"].Verdict, m["first_scale_up"].Detail)
	assert.Equal(t, Pass, m["policy_rate"].Verdict, m["policy_rate"].Detail)
	assert.Equal(t, Pass, m["stabilization"].Verdict, m["stabilization"].Detail)
}

func TestParsePhases(t *testing.T) {
	ps, err := ParsePhases(DefaultPhases)
	require.NoError(t, err)
	r := Resolve(ps, 1000)
	require.Len(t, r, 3)
	assert.Equal(t, []string{"base", "surge", "drop"}, []string{r[0].Name, r[1].Name, r[2].Name})
	assert.Equal(t, []float64{500, 1500, 500}, []float64{r[0].RPS, r[1].RPS, r[2].RPS})
	assert.Equal(t, "500:120,1500:360,500:480", Env(r))
	assert.Equal(t, 16*time.Minute, Total(r))

	ps, err = ParsePhases("200:10s,600:30s")
	require.NoError(t, err)
	assert.False(t, NeedsCapacity(ps))
	for _, bad := range []string{"150%", "150%:0s", "abc:1m", "100:1m", "0:1m,5:1m", "-5%:1m,10%:1m"} {
		_, err := ParsePhases(bad)
		assert.ErrorIs(t, err, ErrProfile, bad)
	}
}

// The policy's bound beside the replicas: GL-008 from 4, scale-up events
// 4 → 8 at 165 and 8 → 16 at 225. Before 165 the policies allow
// max(4 × 2, 4 + 4) = 8; from 165 to 195 the +4 still counts (start 4):
// 8; from 195: 16; after 225 within 30 s: start 8 → 16; from 255: 32 → max 20.
// Down (min(−50%, −2) per 60 s: the larger count) starts from the count
// before the scale-ups of the last 60 s: at 195 from 4 (max(2, 2) → min 4),
// at 230 and 255 from 8 (max(4, 6) = 6), at 285 from 16 (max(8, 14) = 14).
func TestBounds(t *testing.T) {
	secs := make([]Second, 300)
	for i := range secs {
		secs[i] = Second{HPAT: float64(i), Known: true, Desired: 4}
		if i >= 165 {
			secs[i].Desired = 8
		}
		if i >= 225 {
			secs[i].Desired = 16
		}
	}
	Bounds(gl008(t), []Event{{165, 4, 8}, {225, 8, 16}}, secs, 0)
	for _, c := range []struct {
		t      int
		up, dn int32
	}{{100, 8, 4}, {170, 8, 4}, {195, 16, 4}, {230, 16, 6}, {255, 20, 6}, {285, 20, 14}} {
		assert.Equal(t, c.up, secs[c.t].PolicyUp, "up at %d", c.t)
		assert.Equal(t, c.dn, secs[c.t].PolicyDown, "down at %d", c.t)
	}
}
