package recovery

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/xk6-steamtrap/heat"
)

func hot(id string, supply, target, cp float64) heat.Stream {
	return heat.Stream{ID: id, Kind: heat.Hot, SupplyC: supply, TargetC: target, CPkWK: cp}
}

func cold(id string, supply, target, cp float64) heat.Stream {
	return heat.Stream{ID: id, Kind: heat.Cold, SupplyC: supply, TargetC: target, CPkWK: cp}
}

// kemp is the four-stream problem of Kemp, Pinch Analysis and Process
// Integration, 2nd ed., p. 4 (ΔTmin 10: QHmin 20, QCmin 60, pinch 90/80).
var kemp = []heat.Stream{
	cold("C1", 20, 135, 2), hot("H1", 170, 60, 3), cold("C2", 80, 140, 4), hot("H2", 150, 30, 1.5),
}

func TestAnalyzeStreams(t *testing.T) {
	t.Parallel()
	a := AnalyzeStreams(kemp, 10)
	require.Len(t, a.Streams, 4)
	assert.Equal(t, 2, a.HotCount)
	assert.Equal(t, 2, a.ColdCount)
	assert.InDelta(t, 330+180, a.HotDutyKW, 1e-9) // 110×3 + 120×1.5
	assert.InDelta(t, 230+240, a.ColdDutyKW, 1e-9)
	assert.InDelta(t, 40, a.NetSurplusKW, 1e-9)
	assert.Equal(t, 170.0, a.HottestC)
	assert.Equal(t, 20.0, a.ColdestC)
	c1 := a.Streams[0]
	assert.Equal(t, 25.0, c1.ShiftedSupplyC) // cold shifted up by ΔTmin/2
	assert.Equal(t, 140.0, c1.ShiftedTargetC)
	assert.Equal(t, 165.0, a.Streams[1].ShiftedSupplyC) // hot shifted down
}

// TestSynthesizeKemp checks the design by hand. Above the pinch (hot 90,
// cold 80) the pinch matches go by ascending hot CP: H2 (CP 1.5) takes the
// smallest cold CP ≥ 1.5, C1 (CP 2), and gives its 90 kW (C1 80→125, a
// heater finishes it: 20 kW = QHmin); H1 (CP 3) may only meet C2 (CP 4) and
// takes all 240 kW of both. Below, H1 (CP 3 ≥ C1's 2) takes C1 from
// 80 down to 35 (90 kW); H2 then heats C1 20→35 (30 kW, ΔT 55/50) and a
// cooler takes its last 60 kW (= QCmin).
func TestSynthesizeKemp(t *testing.T) {
	t.Parallel()
	p := heat.Pinch(kemp, 10)
	n := Synthesize(kemp, p)
	want := []Match{
		{Hot: "H2", Cold: "C1", Side: Above, LoadKW: 90, HotInC: 150, HotOutC: 90, ColdInC: 80, ColdOutC: 125},
		{Hot: "H1", Cold: "C2", Side: Above, LoadKW: 240, HotInC: 170, HotOutC: 90, ColdInC: 80, ColdOutC: 140},
		{Hot: "H1", Cold: "C1", Side: Below, LoadKW: 90, HotInC: 90, HotOutC: 60, ColdInC: 35, ColdOutC: 80},
		{Hot: "H2", Cold: "C1", Side: Below, LoadKW: 30, HotInC: 90, HotOutC: 70, ColdInC: 20, ColdOutC: 35},
	}
	require.Len(t, n.Matches, len(want))
	for i, m := range n.Matches {
		assert.Equal(t, want[i].Hot, m.Hot, "match %d", i)
		assert.Equal(t, want[i].Cold, m.Cold, "match %d", i)
		assert.Equal(t, want[i].Side, m.Side, "match %d", i)
		for _, f := range [][2]float64{{want[i].LoadKW, m.LoadKW}, {want[i].HotInC, m.HotInC}, {want[i].HotOutC, m.HotOutC},
			{want[i].ColdInC, m.ColdInC}, {want[i].ColdOutC, m.ColdOutC}} {
			assert.InDelta(t, f[0], f[1], 1e-9, "match %d: %+v", i, m)
		}
	}
	require.Len(t, n.Heaters, 1)
	assert.Equal(t, UtilityUnit{Stream: "C1", Side: Above, LoadKW: 20, InC: 125, OutC: 135}, roundUnit(n.Heaters[0]))
	require.Len(t, n.Coolers, 1)
	assert.Equal(t, UtilityUnit{Stream: "H2", Side: Below, LoadKW: 60, InC: 70, OutC: 30}, roundUnit(n.Coolers[0]))
	assert.True(t, n.MeetsTarget)
	assert.InDelta(t, 450, n.RecoveredKW, 1e-9)
	assert.Equal(t, 6, n.Units)
	checkNetwork(t, kemp, 10, n)
}

func roundUnit(u UtilityUnit) UtilityUnit {
	r := func(x float64) float64 { return math.Round(x*1e6) / 1e6 }
	u.LoadKW, u.InC, u.OutC = r(u.LoadKW), r(u.InC), r(u.OutC)
	return u
}

// TestSynthesizeThresholds: a problem without a pinch is designed from its
// utility-free end, and still reaches the targets in these simple cases.
func TestSynthesizeThresholds(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		streams []heat.Stream
		dtMin   float64
	}{
		// QH 0, QC 140: the hot stream heats the cold one fully (60 kW).
		{"no hot utility", []heat.Stream{hot("H", 200, 100, 2), cold("C", 20, 80, 1)}, 10},
		// QH 200, QC 0: the hot stream gives all its 100 kW.
		{"no cold utility", []heat.Stream{hot("H", 150, 50, 1), cold("C", 30, 180, 2)}, 10},
		{"Smith four-stream", []heat.Stream{hot("1", 250, 40, 0.15), hot("2", 200, 80, 0.25), cold("3", 20, 180, 0.2), cold("4", 140, 230, 0.3)}, 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := heat.Pinch(tt.streams, tt.dtMin)
			n := Synthesize(tt.streams, p)
			assert.True(t, n.MeetsTarget, "%+v", n)
			checkNetwork(t, tt.streams, tt.dtMin, n)
		})
	}
}

// TestSynthesizeGenerated checks the invariants of every design on the
// extension's generated requests; most should reach the pinch targets.
func TestSynthesizeGenerated(t *testing.T) {
	t.Parallel()
	for _, size := range []int{2, 3, 6, 20} {
		g, err := heat.NewGenerator(heat.GenConfig{Seed: 7, Hot: size, Cold: size, DTMinK: 10}, 1)
		require.NoError(t, err)
		met := 0
		const n = 200
		for range n {
			r := g.Next()
			require.NoError(t, r.Validate())
			p := heat.Pinch(r.Streams, r.DTMinK)
			net := Synthesize(r.Streams, p)
			checkNetwork(t, r.Streams, r.DTMinK, net)
			if net.MeetsTarget {
				met++
			}
			roi := ComputeROI(AnalyzeStreams(r.Streams, r.DTMinK), net, heat.DefaultEconomics)
			assert.True(t, roi.Feasible, roi.Note)
		}
		t.Logf("%d+%d streams: %d of %d designs reach the pinch targets", size, size, met, n)
		if size <= 3 {
			assert.Greater(t, met, n/2, "small problems mostly reach the targets")
		}
	}
}

// checkNetwork checks what holds for any design: every stream's duty is
// placed exactly once, each exchanger is counter-current with ΔT ≥ ΔTmin at
// both ends and stays inside its streams' ranges, the utilities balance the
// first law, and no design uses less utility than the pinch target.
func checkNetwork(t *testing.T, streams []heat.Stream, dtMin float64, n Network) {
	t.Helper()
	byID := map[string]heat.Stream{}
	placed := map[string]float64{}
	var hotDuty, coldDuty float64
	for _, s := range streams {
		byID[s.ID] = s
		if s.Kind == heat.Hot {
			hotDuty += s.DutyKW()
		} else {
			coldDuty += s.DutyKW()
		}
	}
	tol := 1e-6 * max(hotDuty+coldDuty, 1)
	for _, m := range n.Matches {
		h, c := byID[m.Hot], byID[m.Cold]
		assert.Greater(t, m.LoadKW, 0.0)
		assert.InDelta(t, m.LoadKW, (m.HotInC-m.HotOutC)*h.CPkWK, tol, "hot side of %+v", m)
		assert.InDelta(t, m.LoadKW, (m.ColdOutC-m.ColdInC)*c.CPkWK, tol, "cold side of %+v", m)
		assert.GreaterOrEqual(t, m.HotInC-m.ColdOutC, dtMin-1e-6, "hot end of %+v", m)
		assert.GreaterOrEqual(t, m.HotOutC-m.ColdInC, dtMin-1e-6, "cold end of %+v", m)
		assert.LessOrEqual(t, m.HotInC, h.SupplyC+1e-9)
		assert.GreaterOrEqual(t, m.HotOutC, h.TargetC-1e-9)
		assert.GreaterOrEqual(t, m.ColdInC, c.SupplyC-1e-9)
		assert.LessOrEqual(t, m.ColdOutC, c.TargetC+1e-9)
		placed[m.Hot] += m.LoadKW
		placed[m.Cold] += m.LoadKW
	}
	for _, u := range n.Heaters {
		assert.Equal(t, heat.Cold, byID[u.Stream].Kind)
		placed[u.Stream] += u.LoadKW
	}
	for _, u := range n.Coolers {
		assert.Equal(t, heat.Hot, byID[u.Stream].Kind)
		placed[u.Stream] += u.LoadKW
	}
	for _, s := range streams {
		assert.InDelta(t, s.DutyKW(), placed[s.ID], tol, "duty of %s placed", s.ID)
	}
	assert.InDelta(t, coldDuty-hotDuty, n.HotUtilityKW-n.ColdUtilityKW, tol, "first law")
	assert.GreaterOrEqual(t, n.HotUtilityKW, n.TargetHotUtilityKW-tol)
	assert.GreaterOrEqual(t, n.ColdUtilityKW, n.TargetColdUtilityKW-tol)
}

// TestROIKemp prices the Kemp design by hand with DefaultEconomics (U 0.5
// kW/m²K, $10,000 + $800/m² per exchanger, 8% over 10 years, hot utility
// $120 and cold $20 per kW-year).
func TestROIKemp(t *testing.T) {
	t.Parallel()
	p := heat.Pinch(kemp, 10)
	n := Synthesize(kemp, p)
	r := ComputeROI(AnalyzeStreams(kemp, 10), n, heat.DefaultEconomics)
	require.True(t, r.Feasible, r.Note)
	assert.Equal(t, 470.0, r.BaselineHotUtilityKW)
	assert.Equal(t, 510.0, r.BaselineColdUtilityKW)
	// (470−20)×120 + (510−60)×20
	assert.InDelta(t, 63000, r.AnnualSavingsUSD, 1e-6)
	lm := func(a, b float64) float64 { return (a - b) / math.Log(a/b) }
	// End differences of the four exchangers of TestSynthesizeKemp.
	area := 240/(0.5*lm(30, 10)) + 90/(0.5*lm(25, 10)) + 90/(0.5*lm(25, 10)) + 30/(0.5*lm(55, 50))
	assert.InDelta(t, 49.5014, area, 1e-4) // 26.3667 + 10.9955 + 10.9955 + 1.1437
	assert.InDelta(t, area, r.AreaM2, 1e-9)
	capital := 4*10000 + 800*area
	assert.InDelta(t, capital, r.CapitalUSD, 1e-6)
	annuity := (1 - math.Pow(1.08, -10)) / 0.08
	assert.InDelta(t, 6.710081, annuity, 1e-6)
	require.NotNil(t, r.PaybackYears)
	assert.InDelta(t, capital/63000, *r.PaybackYears, 1e-9)
	require.NotNil(t, r.NPVUSD)
	assert.InDelta(t, 63000*annuity-capital, *r.NPVUSD, 1e-6)
	assert.InDelta(t, 343134, *r.NPVUSD, 1)
}

func TestROIEdgeCases(t *testing.T) {
	t.Parallel()
	e := heat.DefaultEconomics
	t.Run("ΔTmin 0 makes a pinch exchanger unbounded", func(t *testing.T) {
		t.Parallel()
		s := []heat.Stream{hot("H", 150, 50, 2), cold("C", 40, 160, 1)}
		r := ComputeROI(AnalyzeStreams(s, 0), Synthesize(s, heat.Pinch(s, 0)), e)
		assert.False(t, r.Feasible)
		assert.Contains(t, r.Note, "zero temperature approach")
		assert.Nil(t, r.NPVUSD)
		assert.Nil(t, r.PaybackYears)
	})
	t.Run("no recovery possible: no savings, no payback", func(t *testing.T) {
		t.Parallel()
		// The hot stream is colder than the cold one: nothing to exchange.
		s := []heat.Stream{hot("H", 60, 40, 1), cold("C", 100, 150, 1)}
		n := Synthesize(s, heat.Pinch(s, 10))
		assert.Empty(t, n.Matches)
		r := ComputeROI(AnalyzeStreams(s, 10), n, e)
		assert.True(t, r.Feasible)
		assert.Equal(t, 0.0, r.AnnualSavingsUSD)
		assert.Nil(t, r.PaybackYears)
		require.NotNil(t, r.NPVUSD)
		assert.Equal(t, 0.0, *r.NPVUSD)
	})
	t.Run("no discounting", func(t *testing.T) {
		t.Parallel()
		e0 := e
		e0.DiscountRate = 0
		r := ComputeROI(AnalyzeStreams(kemp, 10), Synthesize(kemp, heat.Pinch(kemp, 10)), e0)
		assert.Equal(t, e0.LifetimeYears, r.AnnuityFactor)
	})
}

func BenchmarkSynthesize(b *testing.B) {
	g, err := heat.NewGenerator(heat.GenConfig{Seed: 1, Hot: 50, Cold: 50, DTMinK: 10}, 1)
	require.NoError(b, err)
	r := g.Next()
	p := heat.Pinch(r.Streams, r.DTMinK)
	for b.Loop() {
		Synthesize(r.Streams, p)
	}
}
