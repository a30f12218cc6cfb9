package recovery

import (
	"cmp"
	"math"
	"slices"

	"github.com/greenlang/loadgen/xk6-steamtrap/heat"
)

// Sides of the pinch.
const (
	Above = "above"
	Below = "below"
)

// Method describes how Synthesize designs a network, for its callers'
// reports.
const Method = "pinch design method without stream splitting: the problem is divided at the pinch " +
	"(a threshold problem at its utility-free end); on each side the streams at the pinch are paired first " +
	"under the CP rules (above: CP hot ≤ CP cold; below: CP hot ≥ CP cold), then exchangers are placed from " +
	"the pinch outwards, serving first the stream with the least room (above: the hot stream with the coldest " +
	"unmatched part; below: the cold stream with the hottest) with the partner that takes the largest load " +
	"keeping ΔT ≥ ΔTmin at both ends (tick-off); what is left goes to heaters and coolers. Problems that need " +
	"stream splitting use more utility than the targets (meets_target false)"

// Match is a process-to-process exchanger (counter-current).
type Match struct {
	Hot      string  `json:"hot"`
	Cold     string  `json:"cold"`
	Side     string  `json:"side"`
	LoadKW   float64 `json:"load_kw"`
	HotInC   float64 `json:"hot_in_c"`
	HotOutC  float64 `json:"hot_out_c"`
	ColdInC  float64 `json:"cold_in_c"`
	ColdOutC float64 `json:"cold_out_c"`
}

// UtilityUnit is a heater (hot utility onto a cold stream) or a cooler (cold
// utility on a hot stream).
type UtilityUnit struct {
	Stream string  `json:"stream"`
	Side   string  `json:"side"`
	LoadKW float64 `json:"load_kw"`
	InC    float64 `json:"in_c"`
	OutC   float64 `json:"out_c"`
}

// Network is a heat-exchanger network for a set of streams.
type Network struct {
	Method        string        `json:"method"`
	Matches       []Match       `json:"matches"`
	Heaters       []UtilityUnit `json:"heaters"`
	Coolers       []UtilityUnit `json:"coolers"`
	RecoveredKW   float64       `json:"recovered_kw"`
	HotUtilityKW  float64       `json:"hot_utility_kw"`
	ColdUtilityKW float64       `json:"cold_utility_kw"`
	// TargetHotUtilityKW and TargetColdUtilityKW are the pinch targets
	// (QHmin, QCmin); MeetsTarget says whether the design reaches them.
	TargetHotUtilityKW  float64 `json:"target_hot_utility_kw"`
	TargetColdUtilityKW float64 `json:"target_cold_utility_kw"`
	MeetsTarget         bool    `json:"meets_target"`
	// Units counts exchangers, heaters and coolers.
	Units int `json:"units"`
}

// seg is the part of a stream on one side of the pinch. Exchangers are
// placed from the pinch outwards, so front moves away from it: above the
// pinch it is the hottest temperature placed so far, moving up from lo;
// below, the coldest, moving down from hi.
type seg struct {
	id     string
	cp     float64
	lo, hi float64
	front  float64
}

func (s *seg) remainingKW(side string) float64 {
	if side == Above {
		return (s.hi - s.front) * s.cp
	}
	return (s.front - s.lo) * s.cp
}

// Synthesize designs a network for valid streams from their pinch result
// (heat.Pinch of the same streams and ΔTmin).
func Synthesize(streams []heat.Stream, p heat.PinchResult) Network {
	n := Network{Method: Method, Matches: []Match{}, Heaters: []UtilityUnit{}, Coolers: []UtilityUnit{},
		TargetHotUtilityKW: p.QHMinKW, TargetColdUtilityKW: p.QCMinKW}
	// A threshold problem is designed as if its utility-free end were the
	// pinch: no hot utility puts everything below a pinch at the hottest
	// boundary, no cold utility everything above one at the coldest.
	var shifted float64
	switch {
	case p.Pinched:
		shifted = p.ShiftedPinchC
	case len(p.Cascade) == 0:
		return n
	case p.QHMinKW == 0:
		shifted = p.Cascade[0].ShiftedC
	default:
		shifted = p.Cascade[len(p.Cascade)-1].ShiftedC
	}
	tph, tpc := shifted+p.DTMinK/2, shifted-p.DTMinK/2
	var total, maxT float64
	for _, s := range streams {
		total += s.DutyKW()
		maxT = max(maxT, math.Abs(s.SupplyC), math.Abs(s.TargetC))
	}
	tolQ := 1e-9 * max(total, 1)
	tolT := 1e-9 * max(maxT, 1)

	var hotA, coldA, hotB, coldB []*seg
	add := func(list *[]*seg, s heat.Stream, lo, hi, front float64) {
		if hi-lo > tolT {
			*list = append(*list, &seg{id: s.ID, cp: s.CPkWK, lo: lo, hi: hi, front: front})
		}
	}
	for _, s := range streams {
		if s.Kind == heat.Hot {
			add(&hotA, s, max(s.TargetC, tph), s.SupplyC, max(s.TargetC, tph))
			add(&hotB, s, s.TargetC, min(s.SupplyC, tph), min(s.SupplyC, tph))
		} else {
			add(&coldA, s, max(s.SupplyC, tpc), s.TargetC, max(s.SupplyC, tpc))
			add(&coldB, s, s.SupplyC, min(s.TargetC, tpc), min(s.TargetC, tpc))
		}
	}
	dt := p.DTMinK
	n.side(Above, hotA, coldA, tph, tpc, dt, tolQ, tolT)
	n.side(Below, hotB, coldB, tph, tpc, dt, tolQ, tolT)

	for _, m := range n.Matches {
		n.RecoveredKW += m.LoadKW
	}
	for _, h := range n.Heaters {
		n.HotUtilityKW += h.LoadKW
	}
	for _, c := range n.Coolers {
		n.ColdUtilityKW += c.LoadKW
	}
	tolU := 1e-6 * max(total, 1)
	n.MeetsTarget = math.Abs(n.HotUtilityKW-p.QHMinKW) <= tolU && math.Abs(n.ColdUtilityKW-p.QCMinKW) <= tolU
	n.Units = len(n.Matches) + len(n.Heaters) + len(n.Coolers)
	return n
}

// side places the exchangers of one side of the pinch, then the utilities.
func (n *Network) side(side string, hot, cold []*seg, tph, tpc, dt, tolQ, tolT float64) {
	n.pinchMatches(side, hot, cold, tph, tpc, dt, tolQ, tolT)
	// Each placement uses up a stream or a pair's temperature driving force,
	// so a few rounds per stream suffice; the bound keeps hostile inputs cheap.
	for range 2*(len(hot)+len(cold)) + 8 {
		var bh, bc *seg
		var bestQ float64
		for _, h := range hot {
			rh := h.remainingKW(side)
			if rh <= tolQ {
				continue
			}
			for _, c := range cold {
				rc := c.remainingKW(side)
				if rc <= tolQ {
					continue
				}
				q := feasibleLoad(side, h, c, rh, rc, dt, tolT)
				if q <= tolQ {
					continue
				}
				if bh == nil || urgency(side, h, c) < urgency(side, bh, bc) ||
					urgency(side, h, c) == urgency(side, bh, bc) && q > bestQ {
					bh, bc, bestQ = h, c, q
				}
			}
		}
		if bh == nil {
			break
		}
		n.place(side, bh, bc, bestQ, tolQ)
	}
	for _, c := range cold {
		if r := c.remainingKW(side); r > tolQ {
			u := UtilityUnit{Stream: c.id, Side: side, LoadKW: r, InC: c.front, OutC: c.hi}
			if side == Below {
				u.InC, u.OutC = c.lo, c.front
			}
			n.Heaters = append(n.Heaters, u)
		}
	}
	for _, h := range hot {
		if r := h.remainingKW(side); r > tolQ {
			u := UtilityUnit{Stream: h.id, Side: side, LoadKW: r, InC: h.front, OutC: h.lo}
			if side == Above {
				u.InC, u.OutC = h.hi, h.front
			}
			n.Coolers = append(n.Coolers, u)
		}
	}
}

// pinchMatches places the matches at the pinch first, as the pinch design
// method does. Above the pinch every hot stream that reaches it needs a cold
// partner there with CP_cold ≥ CP_hot (else it would need a cooler above
// the pinch); below, every cold stream needs a hot partner with CP_hot ≥
// CP_cold. Taking the streams that need a partner by ascending CP and giving
// each the smallest CP that qualifies pairs as many as possible.
func (n *Network) pinchMatches(side string, hot, cold []*seg, tph, tpc, dt, tolQ, tolT float64) {
	var needy, partners []*seg
	for _, h := range hot {
		if (side == Above && h.lo == tph) || (side == Below && h.hi == tph) {
			if side == Above {
				needy = append(needy, h)
			} else {
				partners = append(partners, h)
			}
		}
	}
	for _, c := range cold {
		if (side == Above && c.lo == tpc) || (side == Below && c.hi == tpc) {
			if side == Above {
				partners = append(partners, c)
			} else {
				needy = append(needy, c)
			}
		}
	}
	byCP := func(a, b *seg) int { return cmp.Compare(a.cp, b.cp) }
	slices.SortStableFunc(needy, byCP)
	slices.SortStableFunc(partners, byCP)
	used := make([]bool, len(partners))
	for _, s := range needy {
		for j, q := range partners {
			if used[j] || q.cp < s.cp {
				continue
			}
			used[j] = true
			h, c := s, q
			if side == Below {
				h, c = q, s
			}
			rh, rc := h.remainingKW(side), c.remainingKW(side)
			if load := feasibleLoad(side, h, c, rh, rc, dt, tolT); load > tolQ {
				n.place(side, h, c, load, tolQ)
			}
			break
		}
	}
}

// urgency orders candidate matches, most urgent first: the stream closest to
// the pinch on the side that has no utility of its own (above, the hot
// stream with the coldest front: only the coldest cold duties are left for
// it; below, the cold stream with the hottest front) is served first, with
// the partner that takes the largest load.
func urgency(side string, h, c *seg) float64 {
	if side == Above {
		return h.front
	}
	return -c.front
}

// feasibleLoad is the largest load a counter-current exchanger between h and
// c can take at their fronts with ΔT ≥ dt at both ends; ΔT varies linearly
// along it, so both ends suffice. At the front end the approach is fixed; at
// the far end it shrinks with the load when the stream moving away from the
// pinch faster is the one that must stay apart (the CP rule).
func feasibleLoad(side string, h, c *seg, rh, rc, dt, tolT float64) float64 {
	d0 := h.front - c.front
	if d0 < dt-tolT {
		return 0
	}
	q := min(rh, rc)
	slope := 1/h.cp - 1/c.cp // above: far-end ΔT = d0 + q·slope
	if side == Below {
		slope = -slope // below: far-end ΔT = d0 + q·(1/c.cp − 1/h.cp)
	}
	if slope < 0 {
		q = min(q, max(d0-dt, 0)/-slope)
	}
	return q
}

func (n *Network) place(side string, h, c *seg, q, tolQ float64) {
	m := Match{Hot: h.id, Cold: c.id, Side: side, LoadKW: q}
	usedH := q >= h.remainingKW(side)-tolQ
	usedC := q >= c.remainingKW(side)-tolQ
	if side == Above {
		m.HotOutC, m.ColdInC = h.front, c.front
		h.front += q / h.cp
		c.front += q / c.cp
		if usedH {
			h.front = h.hi
		}
		if usedC {
			c.front = c.hi
		}
		m.HotInC, m.ColdOutC = h.front, c.front
	} else {
		m.HotInC, m.ColdOutC = h.front, c.front
		h.front -= q / h.cp
		c.front -= q / c.cp
		if usedH {
			h.front = h.lo
		}
		if usedC {
			c.front = c.lo
		}
		m.HotOutC, m.ColdInC = h.front, c.front
	}
	n.Matches = append(n.Matches, m)
}
