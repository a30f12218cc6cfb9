// Package target is loadgen's embedded reference target: the GL-008
// SteamTrapInspector and GL-006 HeatRecoveryMaximizer HTTP APIs served by a
// simulated replica set whose capacity is the one the scaling guides
// document, so that campaigns, tests and demos run with no cluster.
//
// The data flow of a request: Server.ServeHTTP routes it and applies the
// injected faults (faults.go); the handler decodes and checks the body
// (decode.go), the cluster's load balancer picks a pod (cluster.go), the
// request waits for and holds units of one of the pod's pools for its
// simulated service time (pool.go), the answer is computed for real
// (trap.Classify, heat.Pinch, package recovery) and written; metrics.go and
// latency.go record it. admin.go is the loopback-only admin API.
//
// Capacity per pod is workers / service time (config.go, DefaultTiers):
// 250 API requests/s, 100 full inspections/min, 50 ML predictions/s, and for
// GL-006 the §8.1 CPU × duration of each operation on a CPU budget. Every
// documented figure it simulates is read from internal/guides.
package reftarget
