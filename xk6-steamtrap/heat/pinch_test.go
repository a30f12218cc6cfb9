package heat

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func hot(id string, supply, target, cp float64) Stream {
	return Stream{ID: id, Kind: Hot, SupplyC: supply, TargetC: target, CPkWK: cp}
}

func cold(id string, supply, target, cp float64) Stream {
	return Stream{ID: id, Kind: Cold, SupplyC: supply, TargetC: target, CPkWK: cp}
}

// kemp is the classic four-stream problem (Kemp, Pinch Analysis and Process
// Integration, 2nd ed., p. 4), kW/K and °C.
var kemp = []Stream{
	cold("C1", 20, 135, 2), hot("H1", 170, 60, 3), cold("C2", 80, 140, 4), hot("H2", 150, 30, 1.5),
}

func TestPinch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		streams []Stream
		dtMin   float64
		qh, qc  float64
		pinched bool
		// hotPinch, coldPinch only when pinched.
		hotPinch, coldPinch float64
		threshold           string
	}{
		{
			// Kemp p. 4: QHmin 20 kW, QCmin 60 kW, shifted pinch 85 °C.
			name: "Kemp four-stream", streams: kemp, dtMin: 10,
			qh: 20, qc: 60, pinched: true, hotPinch: 90, coldPinch: 80,
		},
		{
			// Smith, Chemical Process Design and Integration (2005), the
			// four-stream example, MW/K. Checked by hand: shifted bounds 245,
			// 235, 195, 185, 145, 75, 35, 25; interval surpluses +1.5, −6.0,
			// +1.0, −4.0, +14.0, −2.0, −2.0; cascade 0, 1.5, −4.5, −3.5, −7.5,
			// 6.5, 4.5, 2.5 → QH 7.5, QC 2.5+7.5 = 10, zero at shifted 145.
			name: "Smith four-stream",
			streams: []Stream{
				hot("1", 250, 40, 0.15), hot("2", 200, 80, 0.25), cold("3", 20, 180, 0.2), cold("4", 140, 230, 0.3),
			},
			dtMin: 10, qh: 7.5, qc: 10, pinched: true, hotPinch: 150, coldPinch: 140,
		},
		{
			// No hot utility. Shifted: hot 195→95, cold 25→85. Intervals
			// 195–95 +200, 95–85 0, 85–25 −60; cascade 0, 200, 200, 140:
			// QH 0, QC 140, no interior zero.
			name:    "threshold without hot utility",
			streams: []Stream{hot("H", 200, 100, 2), cold("C", 20, 80, 1)},
			dtMin:   10, qh: 0, qc: 140, threshold: "hot",
		},
		{
			// No cold utility. Shifted: hot 145→45, cold 35→185. Intervals
			// 185–145 −80, 145–45 −100, 45–35 −20; cascade 0, −80, −180,
			// −200 → QH 200; feasible 200, 120, 20, 0: QC 0, no interior zero.
			name:    "threshold without cold utility",
			streams: []Stream{hot("H", 150, 50, 1), cold("C", 30, 180, 2)},
			dtMin:   10, qh: 200, qc: 0, threshold: "cold",
		},
		{
			// Two streams pinched at the hot supply. Shifted: hot 145→45,
			// cold 45→165. Intervals 165–145 −20, 145–45 +100; cascade 0,
			// −20, 80 → QH 20; feasible 20, 0, 100: pinch at shifted 145.
			name:    "two streams",
			streams: []Stream{hot("H", 150, 50, 2), cold("C", 40, 160, 1)},
			dtMin:   10, qh: 20, qc: 100, pinched: true, hotPinch: 150, coldPinch: 140,
		},
		{
			// Duplicate boundaries: hot 145→55 and both colds start at
			// shifted 55, the hot supply and one cold target meet at 145.
			// Bounds 145, 105, 55; intervals 145–105 hot 2 − cold 2 = 0,
			// 105–55 2 − 3 = −50; cascade 0, 0, −50 → QH 50; feasible 50,
			// 50, 0: QC 0, no interior zero.
			name:    "equal temperatures",
			streams: []Stream{hot("H", 150, 60, 2), cold("C1", 50, 140, 2), cold("C2", 50, 100, 1)},
			dtMin:   10, qh: 50, qc: 0, threshold: "cold",
		},
		{
			// Identical streams: the same bounds twice collapse into one
			// interval. Shifted hot 145→45 (CP 1 twice), cold 45→145 CP 2:
			// net 0 everywhere, both utilities 0.
			name:    "identical streams",
			streams: []Stream{hot("H1", 150, 50, 1), hot("H2", 150, 50, 1), cold("C", 40, 140, 2)},
			dtMin:   10, qh: 0, qc: 0, threshold: "hot",
		},
		{
			// Kemp at ΔTmin 0. Bounds 170, 150, 140, 135, 80, 60, 30, 20;
			// intervals +60, +45, +2.5, −82.5, +50, −15, −20; cascade 0, 60,
			// 105, 107.5, 25, 75, 60, 40: never negative, so QH 0, QC 40
			// (= hot 510 − cold 470).
			name: "Kemp at ΔTmin 0", streams: kemp, dtMin: 0,
			qh: 0, qc: 40, threshold: "hot",
		},
		{
			// ΔTmin 0 with a pinch. Bounds 160, 150, 50, 40; intervals −10,
			// +100, −10; cascade 0, −10, 90, 80 → QH 10; feasible 10, 0,
			// 100, 90: pinch at 150 on both sides.
			name:    "ΔTmin 0 pinched",
			streams: []Stream{hot("H", 150, 50, 2), cold("C", 40, 160, 1)},
			dtMin:   0, qh: 10, qc: 90, pinched: true, hotPinch: 150, coldPinch: 150,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := Pinch(tt.streams, tt.dtMin)
			assert.InDelta(t, tt.qh, r.QHMinKW, 1e-9, "QHmin")
			assert.InDelta(t, tt.qc, r.QCMinKW, 1e-9, "QCmin")
			assert.Equal(t, tt.pinched, r.Pinched, "pinched")
			if tt.pinched {
				assert.InDelta(t, tt.hotPinch, r.HotPinchC, 1e-9, "hot pinch")
				assert.InDelta(t, tt.coldPinch, r.ColdPinchC, 1e-9, "cold pinch")
				assert.InDelta(t, (tt.hotPinch+tt.coldPinch)/2, r.ShiftedPinchC, 1e-9, "shifted pinch")
			}
			assert.Equal(t, tt.threshold, r.Threshold, "threshold")
			checkCascade(t, tt.streams, r)
		})
	}
}

// checkCascade checks what holds for every problem: the first law (QH − QC
// = cold duty − hot duty), a feasible cascade (no negative flow, QH at the
// top, QC at the bottom), recovery = hot duty − QC, boundaries hottest first.
func checkCascade(t *testing.T, streams []Stream, r PinchResult) {
	t.Helper()
	var hotDuty, coldDuty float64
	for _, s := range streams {
		if s.Kind == Hot {
			hotDuty += s.DutyKW()
		} else {
			coldDuty += s.DutyKW()
		}
	}
	assert.InDelta(t, coldDuty-hotDuty, r.QHMinKW-r.QCMinKW, 1e-6, "first law")
	assert.InDelta(t, hotDuty-r.QCMinKW, r.HeatRecoveryKW, 1e-6, "recovery")
	require.NotEmpty(t, r.Cascade)
	assert.InDelta(t, r.QHMinKW, r.Cascade[0].HeatKW, 1e-9, "cascade top")
	assert.InDelta(t, r.QCMinKW, r.Cascade[len(r.Cascade)-1].HeatKW, 1e-9, "cascade bottom")
	for i, row := range r.Cascade {
		assert.GreaterOrEqual(t, row.HeatKW, 0.0, "cascade row %d", i)
		if i > 0 {
			assert.Less(t, row.ShiftedC, r.Cascade[i-1].ShiftedC, "boundaries hottest first, no duplicates")
		}
	}
}

// TestPinchDTMinMonotone: a larger ΔTmin never needs less utility.
func TestPinchDTMinMonotone(t *testing.T) {
	t.Parallel()
	prev := -math.MaxFloat64
	for dt := 0.0; dt <= 40; dt += 2.5 {
		r := Pinch(kemp, dt)
		assert.GreaterOrEqual(t, r.QHMinKW, prev-1e-9, "ΔTmin %v", dt)
		prev = r.QHMinKW
	}
}
