// Package calibrate measures the load generator's open-model ceiling on
// this machine before a campaign: one short k6 run of the campaign's own
// script, as a step runs it (its payloads, its runners, k6's settings), at
// a staircase of constant arrival rates against a loopback sink in this
// process that answers at once. The ceiling is the highest stair during
// which k6 kept its schedule — fell no further behind than MinAchieved
// allows (Judge) — below the first two stairs in a row it did not. Ceilings are cached per
// machine, k6 build, script and workload (Key), so a machine pays once.
//
// The judging (Judge) is pure; Measure runs k6 and the sink.
package calibrate

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// MinAchieved is the share of a stair's requests k6 must keep (the sink
// counts them) for the stair to pass: payloadbench's open-model criterion
// (achieved ≥ 0.98 × offered; k6 drops or delays what it cannot start on
// time).
const MinAchieved = 0.98

// Stair is one constant rate of the staircase.
type Stair struct {
	OfferedRPS  int     `json:"offered_rps"`
	AchievedRPS float64 `json:"achieved_rps"` // what the sink counted during the stair
	// Behind is how many requests k6 was behind its schedule at the
	// stair's end: every request offered since the first stair, less every
	// one the sink counted.
	Behind int  `json:"behind"`
	Pass   bool `json:"pass"`
}

// Judge judges the staircase from the sink's arrival times (relative to
// the first request, which starts the first stair): stair i runs from
// i×d to (i+1)×d. A stair passes when k6 fell no further behind its
// schedule during it than 1 − MinAchieved of the stair's requests plus
// the requests of slack (in flight, or started a little late). Below its
// ceiling k6 keeps up, or catches up a backlog; above it, it falls
// further behind every stair, whatever it caught up before: a backlog
// that spills into the next stair does not make that stair look kept, and
// a dropped iteration (no VU free) stays missing. It returns the stairs
// and the ceiling: the highest passing stair below the first two failing
// stairs in a row (a lone failing stair between passes is a pause). The
// ceiling is 0 when the first stair failed, and the top stair's rate when
// no two failed in a row (the ceiling is at least that: "≥").
func Judge(rates []int, d, slack time.Duration, arrivals []time.Duration) (stairs []Stair, ceiling int, atLeast bool, err error) {
	if len(rates) == 0 || d <= 0 || slack < 0 || slack >= d {
		return nil, 0, false, fmt.Errorf("calibrate: a staircase needs rates and a stair longer than its slack")
	}
	if !slices.IsSorted(arrivals) {
		arrivals = slices.Clone(arrivals)
		slices.Sort(arrivals)
	}
	offered, before := 0.0, 0.0
	for i, r := range rates {
		from, to := time.Duration(i)*d, time.Duration(i+1)*d
		lo, _ := slices.BinarySearch(arrivals, from)
		hi, _ := slices.BinarySearch(arrivals, to)
		offered += float64(r) * d.Seconds()
		behind := offered - float64(hi)
		allowed := (1-MinAchieved)*float64(r)*d.Seconds() + float64(r)*slack.Seconds()
		stairs = append(stairs, Stair{OfferedRPS: r, AchievedRPS: float64(hi-lo) / d.Seconds(), Behind: int(math.Round(behind)),
			Pass: behind-before <= allowed})
		before = behind
	}
	for i, s := range stairs {
		if !s.Pass && (i == len(stairs)-1 || !stairs[i+1].Pass) {
			for j := i - 1; j >= 0; j-- {
				if stairs[j].Pass {
					return stairs, stairs[j].OfferedRPS, false, nil
				}
			}
			return stairs, 0, false, nil
		}
	}
	return stairs, rates[len(rates)-1], true, nil
}
