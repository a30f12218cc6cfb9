// Package hpa simulates the Kubernetes Horizontal Pod Autoscaler controller
// (k8s.io/kubernetes pkg/controller/podautoscaler: horizontal.go and
// replica_calculator.go) on a clock of its own, with no I/O: a Spec parsed
// from an autoscaling/v2 HorizontalPodAutoscaler, a Controller that is
// synced with the pods and their metrics and answers the replica count the
// real controller would set, and Simulate, which runs a Controller over a
// metric timeline.
//
// What is reproduced, as the controller does it:
//   - per metric: ratio = current / target (Utilization: the integer average
//     utilization of the pods' requests; AverageValue: the integer milli-unit
//     average), no change while 1−tolerance ≤ ratio ≤ 1+tolerance (0.1 by
//     default, or behavior.scaleUp/scaleDown.tolerance), else
//     ceil(ratio × ready pods); pods still starting (Pending) are set aside,
//     and on a scale-up counted as using nothing; pods missing a metric count
//     as using nothing on a scale-up and the target (Utilization: max(100%,
//     target)) on a scale-down; no change if that reverses the direction;
//   - the max over metrics; no action at all when every metric is invalid,
//     or some are and the valid ones would scale down;
//   - with behavior: the stabilization windows (scale up: the minimum of the
//     recommendations within the window, scale down: the maximum), then the
//     Percent and Pods policies over their periodSeconds from the scale
//     events in that period, selectPolicy Max/Min/Disabled, clamped to
//     min/max replicas; missing fields get the API server's defaults;
//   - without behavior, the controller's legacy path: a scale-down
//     stabilization of 300 s (the maximum recommendation within it) and a
//     scale-up limit of max(2 × current, 4) per sync;
//   - currentReplicas 0 with minReplicas > 0 disables scaling; a count
//     outside [min, max] is brought inside without looking at metrics.
//
// Boundaries are the controller's: a recommendation or scale event counts
// while its time is strictly after now − window (period); the legacy
// window keeps one made exactly at its edge.
package hpa
