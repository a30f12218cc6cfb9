package k6operator

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// k6Container is the name k6-operator gives the k6 container of a runner.
const k6Container = "k6"

// Waiting reasons of a container that cannot start: at once, or once they
// have lasted the grace (an image pull may be slow, or retried; a Secret
// may be late).
var (
	cannotStart = map[string]bool{"InvalidImageName": true, "ErrImageNeverPull": true}
	mayNotStart = map[string]bool{"ErrImagePull": true, "ImagePullBackOff": true, "CreateContainerConfigError": true,
		"CreateContainerError": true, "RunContainerError": true}
)

// exitThresholds is k6's exit code for failed thresholds: the script's
// verdict, not a runner's failure (k6step treats it so too).
const exitThresholds = 99

// podFailure says why pod p failed, or "" if it has not (yet), at now: a
// container that exited non-zero, a pod the kubelet failed (evicted, out
// of memory), a container that cannot start (its image cannot be pulled,
// its Secret is missing) for longer than grace since the pod started, or a
// pod no node would take for longer than grace.
func podFailure(p *corev1.Pod, now time.Time, grace time.Duration) string {
	what := "pod " + p.Name
	if p.Labels[operatorLabelRunner] == "true" {
		what = "runner pod " + p.Name
	}
	statuses := append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
	for _, c := range statuses {
		if t := c.State.Terminated; t != nil && t.ExitCode != 0 && t.ExitCode != exitThresholds {
			return fmt.Sprintf("%s: container %s exited with code %d (%s)%s", what, c.Name, t.ExitCode, orNone(t.Reason), detail(t.Message))
		}
	}
	if _, _, ended := k6Exit(p); p.Status.Phase == corev1.PodFailed && !ended { // k6's own end was judged above
		return fmt.Sprintf("%s failed: %s%s", what, orNone(p.Status.Reason), detail(p.Status.Message))
	}
	since := p.CreationTimestamp.Time
	if p.Status.StartTime != nil {
		since = p.Status.StartTime.Time
	}
	for _, c := range statuses {
		w := c.State.Waiting
		if w == nil {
			continue
		}
		if waited := now.Sub(since); cannotStart[w.Reason] || (mayNotStart[w.Reason] && waited > grace) {
			return fmt.Sprintf("%s: container %s cannot start: %s%s (waited %s)", what, c.Name, w.Reason, detail(w.Message), waited.Round(time.Second))
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type != corev1.PodScheduled || c.Status != corev1.ConditionFalse || c.Reason != corev1.PodReasonUnschedulable {
			continue
		}
		since := c.LastTransitionTime.Time
		if since.IsZero() {
			since = p.CreationTimestamp.Time
		}
		if waited := now.Sub(since); waited > grace {
			return fmt.Sprintf("%s cannot be scheduled: %s%s (waited %s)", what, c.Reason, detail(c.Message), waited.Round(time.Second))
		}
	}
	return ""
}

func orNone(reason string) string {
	if reason == "" {
		return "no reason given"
	}
	return reason
}

func detail(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return ""
	}
	return ": " + msg
}

// podStarted reports whether the pod's k6 container has started (its log
// can be read).
func podStarted(p *corev1.Pod) bool {
	for _, c := range p.Status.ContainerStatuses {
		if c.Name == k6Container && (c.State.Running != nil || c.State.Terminated != nil) {
			return true
		}
	}
	return false
}

// k6Exit is the exit code of the pod's k6 and when it ended, once it has.
func k6Exit(p *corev1.Pod) (code int, at time.Time, ok bool) {
	for _, c := range p.Status.ContainerStatuses {
		if t := c.State.Terminated; c.Name == k6Container && t != nil {
			return int(t.ExitCode), t.FinishedAt.Time, true
		}
	}
	return 0, time.Time{}, false
}

// podEnded reports whether the pod has run to its end.
func podEnded(p *corev1.Pod) bool {
	_, _, ok := k6Exit(p)
	return ok || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}
