// Package calibrate measures the load generator's open-model ceiling on
// this machine before a campaign: one short k6 run of the campaign's own
// script, as a step runs it (its payloads, its runners, k6's settings), at
// a staircase of constant arrival rates against a loopback sink in this
// process that answers at once. The ceiling is the highest stair at which
// k6 kept time — the sink counted at least MinAchieved of the stair's rate —
// below the first two stairs in a row it did not. Ceilings are cached per
// machine, k6 build, script and workload (Key), so a machine pays once.
//
// The judging (Judge) is pure; Measure runs k6 and the sink.
package calibrate

import (
	"fmt"
	"slices"
	"time"
)

// MinAchieved is the share of a stair's rate the sink must count for the
// stair to pass: payloadbench's open-model criterion (achieved ≥ 0.98 ×
// offered; k6 drops or delays what it cannot start on time).
const MinAchieved = 0.98

// Stair is one constant rate of the staircase.
type Stair struct {
	OfferedRPS  int     `json:"offered_rps"`
	AchievedRPS float64 `json:"achieved_rps"` // the sink's count over the judged part
	Pass        bool    `json:"pass"`
}

// Judge judges the staircase from the sink's arrival times (relative to
// the first request, which starts the first stair): stair i runs from
// i×d to (i+1)×d, and is judged over the part after settle (k6 moves to
// the new rate, the VU pool takes up the change). It returns the stairs
// and the ceiling: the highest passing stair below the first two failing
// stairs in a row (a lone failing stair between passes is noise: a pause
// k6 made up in the next). The ceiling is 0 when the first stair failed,
// and the top stair's rate when no two failed in a row (the ceiling is at
// least that: "≥").
func Judge(rates []int, d, settle time.Duration, arrivals []time.Duration) (stairs []Stair, ceiling int, atLeast bool, err error) {
	if len(rates) == 0 || d <= settle || settle < 0 {
		return nil, 0, false, fmt.Errorf("calibrate: a staircase needs rates and a stair longer than its settle time")
	}
	if !slices.IsSorted(arrivals) {
		arrivals = slices.Clone(arrivals)
		slices.Sort(arrivals)
	}
	window := (d - settle).Seconds()
	for i, r := range rates {
		from, to := time.Duration(i)*d+settle, time.Duration(i+1)*d
		lo, _ := slices.BinarySearch(arrivals, from)
		hi, _ := slices.BinarySearch(arrivals, to)
		got := float64(hi-lo) / window
		stairs = append(stairs, Stair{OfferedRPS: r, AchievedRPS: got, Pass: got >= MinAchieved*float64(r)})
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
