package autoscale

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/greenlang/loadgen/internal/kube/hpa"
)

// Poll is one reading of the scale target.
type Poll struct {
	// Desired is the replica count the HPA set (the Deployment's
	// spec.replicas); Ready the pods serving.
	Desired, Ready int32
	// Metrics are the HPA's current metric averages by key.
	Metrics map[string]float64
	// HPANowS is the HPA's clock (the reference target's; 0 elsewhere).
	HPANowS float64
	// Seen is the replica count the HPA's last sync saw (a cluster HPA's
	// status.currentReplicas: the pods its metric averages are over; the
	// reference target's last decision's current; 0 if unknown).
	Seen int32
}

// Source reads replicas and the HPA's state. Poll is called once a
// second from one goroutine.
type Source interface {
	Poll(ctx context.Context) (Poll, error)
}

// AdminSource reads the reference target's admin API (GET /admin/state,
// GET /admin/hpa): `loadgen target --hpa …`, or the embedded target.
type AdminSource struct {
	BaseURL string
	Client  *http.Client
}

// adminState is the part of GET /admin/state read here.
type adminState struct {
	Replicas int `json:"replicas"`
	PodsUp   int `json:"pods_up"`
	Capacity struct {
		API float64 `json:"api_requests_per_sec"`
	} `json:"capacity"`
	TimeScale float64 `json:"time_scale"`
	HPA       *struct {
		Name      string        `json:"name"`
		TimeScale float64       `json:"time_scale"`
		SyncS     float64       `json:"sync_s"`
		NowS      float64       `json:"now_s"`
		Desired   int32         `json:"desired"`
		Last      *hpa.Decision `json:"last"`
	} `json:"hpa"`
}

func (a *AdminSource) get(ctx context.Context, path string, v any) error {
	c := a.Client
	if c == nil {
		c = &http.Client{Timeout: 5 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(a.BaseURL, "/")+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.Unmarshal(body, v)
}

// ErrNoHPA says the target runs no HPA.
var ErrNoHPA = errors.New("the target runs no HPA")

// Info is what the admin API says before the run: the API capacity of the
// pods that are up, the HPA's time scale and sync period.
type Info struct {
	CapacityRPS float64
	TimeScale   float64
	Sync        time.Duration
}

// Info reads the target's capacity and HPA settings; ErrNoHPA if it has
// no HPA.
func (a *AdminSource) Info(ctx context.Context) (Info, error) {
	var st adminState
	if err := a.get(ctx, "/admin/state", &st); err != nil {
		return Info{}, err
	}
	if st.HPA == nil {
		return Info{}, ErrNoHPA
	}
	return Info{CapacityRPS: st.Capacity.API, TimeScale: st.HPA.TimeScale, Sync: time.Duration(st.HPA.SyncS * float64(time.Second))}, nil
}

// Poll reads GET /admin/state.
func (a *AdminSource) Poll(ctx context.Context) (Poll, error) {
	var st adminState
	if err := a.get(ctx, "/admin/state", &st); err != nil {
		return Poll{}, err
	}
	p := Poll{Desired: int32(st.Replicas), Ready: int32(st.PodsUp)}
	if st.HPA != nil {
		p.Desired, p.HPANowS = st.HPA.Desired, st.HPA.NowS
		if st.HPA.Last != nil {
			p.Seen = st.HPA.Last.Current
			p.Metrics = map[string]float64{}
			for _, m := range st.HPA.Last.Metrics {
				if m.Error == "" {
					p.Metrics[m.Key] = m.Current
				}
			}
		}
	}
	return p, nil
}

// Syncs reads every sync the target's HPA made (GET /admin/hpa) and its
// clock now.
func (a *AdminSource) Syncs(ctx context.Context) ([]hpa.Decision, float64, error) {
	var st struct {
		NowS  float64        `json:"now_s"`
		Syncs []hpa.Decision `json:"syncs"`
	}
	if err := a.get(ctx, "/admin/hpa", &st); err != nil {
		return nil, 0, err
	}
	return st.Syncs, st.NowS, nil
}

// KubeSource reads an HPA and the Deployment it scales through client-go.
type KubeSource struct {
	Client    kubernetes.Interface
	Namespace string
	Name      string // the HPA's
}

// HPA reads the HPA object (autoscaling/v2).
func (k *KubeSource) HPA(ctx context.Context) (*autoscalingv2.HorizontalPodAutoscaler, error) {
	return k.Client.AutoscalingV2().HorizontalPodAutoscalers(k.Namespace).Get(ctx, k.Name, metav1.GetOptions{})
}

// Spec reads the HPA's spec from the cluster.
func (k *KubeSource) Spec(ctx context.Context) (*hpa.Spec, error) {
	h, err := k.HPA(ctx)
	if err != nil {
		return nil, err
	}
	s, errs := hpa.FromAPI(h)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: HPA %s/%s: %w", hpa.ErrSpec, k.Namespace, k.Name, errors.Join(errs...))
	}
	return s, nil
}

// Poll reads the HPA's status and the Deployment's: desired = the
// Deployment's spec.replicas (what the HPA set), ready = its
// status.readyReplicas, metrics = the HPA's status.currentMetrics.
func (k *KubeSource) Poll(ctx context.Context) (Poll, error) {
	h, err := k.HPA(ctx)
	if err != nil {
		return Poll{}, err
	}
	ref := h.Spec.ScaleTargetRef
	if ref.Kind != "Deployment" {
		return Poll{}, fmt.Errorf("HPA %s/%s scales a %s; only Deployments are read", k.Namespace, k.Name, ref.Kind)
	}
	d, err := k.Client.AppsV1().Deployments(k.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		return Poll{}, err
	}
	p := Poll{Desired: h.Status.DesiredReplicas, Ready: d.Status.ReadyReplicas, Seen: h.Status.CurrentReplicas, Metrics: map[string]float64{}}
	if d.Spec.Replicas != nil {
		p.Desired = *d.Spec.Replicas
	}
	for _, m := range h.Status.CurrentMetrics {
		switch {
		case m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil:
			if u := m.Resource.Current.AverageUtilization; u != nil {
				p.Metrics[string(m.Resource.Name)] = float64(*u)
			} else if v := m.Resource.Current.AverageValue; v != nil {
				p.Metrics[string(m.Resource.Name)] = v.AsApproximateFloat64()
			}
		case m.Type == autoscalingv2.PodsMetricSourceType && m.Pods != nil:
			if v := m.Pods.Current.AverageValue; v != nil {
				p.Metrics[m.Pods.Metric.Name] = v.AsApproximateFloat64()
			}
		}
	}
	return p, nil
}

// Recommend is the replica count the HPA's metric averages ask for at
// desired replicas (the max over metrics of ceil(ratio × desired), no
// change within the tolerance), as a sampled stand-in for the
// controller's own recommendation; ok is false without metrics.
func Recommend(s *hpa.Spec, desired int32, metrics map[string]float64) (int32, bool) {
	var best int32
	ok := false
	up, down := s.Tolerance, s.Tolerance
	if s.Behavior != nil {
		up, down = s.Behavior.ScaleUp.Tolerance, s.Behavior.ScaleDown.Tolerance
	}
	for _, m := range s.Metrics {
		v, have := metrics[m.Key]
		if !have {
			continue
		}
		ratio := v / m.TargetValue
		n := desired
		if ratio < 1-down || ratio > 1+up {
			n = int32(math.Ceil(ratio * float64(desired)))
		}
		if !ok || n > best {
			best, ok = n, true
		}
	}
	return best, ok
}
