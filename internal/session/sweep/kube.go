package sweep

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// KubeScaler scales a Deployment through its Scale subresource (what
// `kubectl scale` and an HPA use) and waits for its rollout: every replica
// of the new count updated, ready and available, and no old pod left.
type KubeScaler struct {
	Client          kubernetes.Interface
	Namespace, Name string
	// Poll is how often WaitReady reads the Deployment (default 2 s).
	Poll time.Duration
}

// Kind implements Scaler.
func (k *KubeScaler) Kind() string { return "kubernetes" }

// Object implements Scaler.
func (k *KubeScaler) Object() string { return "deployment " + k.Namespace + "/" + k.Name }

// Current implements Scaler: the Scale subresource's spec.replicas.
func (k *KubeScaler) Current(ctx context.Context) (int, error) {
	s, err := k.Client.AppsV1().Deployments(k.Namespace).GetScale(ctx, k.Name, metav1.GetOptions{})
	if err != nil {
		return 0, fmt.Errorf("%s: %w", k.Object(), err)
	}
	return int(s.Spec.Replicas), nil
}

// Scale implements Scaler, retrying on a conflict with another writer
// (an HPA acting meanwhile).
func (k *KubeScaler) Scale(ctx context.Context, n int) error {
	d := k.Client.AppsV1().Deployments(k.Namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		s, err := d.GetScale(ctx, k.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if int(s.Spec.Replicas) == n {
			return nil
		}
		s.Spec.Replicas = int32(n)
		_, err = d.UpdateScale(ctx, k.Name, s, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("scaling %s to %d: %w", k.Object(), n, err)
	}
	return nil
}

// rolledOut says whether the Deployment runs exactly n ready replicas of
// its current template, and if not, what it waits on.
func rolledOut(d *appsv1.Deployment, n int) (bool, string) {
	want := int32(n)
	st := d.Status
	line := fmt.Sprintf("%d/%d ready, %d updated, %d available, %d in total", st.ReadyReplicas, n, st.UpdatedReplicas, st.AvailableReplicas, st.Replicas)
	if d.Spec.Replicas != nil && *d.Spec.Replicas != want {
		return false, fmt.Sprintf("spec.replicas is %d, not %d (is an HPA scaling it?)", *d.Spec.Replicas, n)
	}
	if st.ObservedGeneration < d.Generation {
		return false, "waiting for the controller to see the new count; " + line
	}
	ok := st.ReadyReplicas == want && st.UpdatedReplicas == want && st.AvailableReplicas == want && st.Replicas == want
	return ok, line
}

// WaitReady implements Scaler.
func (k *KubeScaler) WaitReady(ctx context.Context, n int, progress func(string)) error {
	poll := k.Poll
	if poll <= 0 {
		poll = 2 * time.Second
	}
	last := ""
	for {
		d, err := k.Client.AppsV1().Deployments(k.Namespace).Get(ctx, k.Name, metav1.GetOptions{})
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("waiting for %s to have %d ready replicas (%s): %w", k.Object(), n, last, ctx.Err())
			}
			return fmt.Errorf("%s: %w", k.Object(), err)
		}
		ok, line := rolledOut(d, n)
		if ok {
			return nil
		}
		if line != last {
			progress(line)
			last = line
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s to have %d ready replicas (%s): %w", k.Object(), n, last, ctx.Err())
		case <-time.After(poll):
		}
	}
}
