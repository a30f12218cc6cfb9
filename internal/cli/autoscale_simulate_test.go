package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	return p
}

// A hand-computed GL-008 timeline through the command line: CPU at the
// target until 60 s, twice it until 400 s, then 10%. Steady at 4 before 0.
// The last recommendation of 4 is made at 45 s; the 60 s window drops it
// at 105: 4 → 8; each doubling needs a full window of its own
// recommendations: 8 → 16 at 165, 16 → 20 (max) at 225. The last 40 is
// recommended at 390; the 300 s scale-down window drops it at 690: −2 per
// 60 s (min(−50%, −2)).
func TestAutoscaleSimulateGL008Timeline(t *testing.T) {
	t.Parallel()
	csv := writeFile(t, "tl.csv", "# GL-008, CPU only\nseconds,cpu\n0,70\n60,140\n400,10\n")
	out, errOut, code := runCLI(t, "autoscale", "simulate", "--hpa", "gl008", "--metrics", csv, "--duration", "900s", "--format", "json")
	require.Equal(t, 0, code, errOut)
	var res struct {
		LeftOut []string `json:"metrics_left_out"`
		Syncs   []struct {
			T       float64 `json:"t_s"`
			Current int32   `json:"current"`
			Desired int32   `json:"desired"`
		} `json:"syncs"`
		Final int32 `json:"final_replicas"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	var got [][2]float64
	for _, s := range res.Syncs {
		if s.Desired != s.Current {
			got = append(got, [2]float64{s.T, float64(s.Desired)})
		}
	}
	assert.Equal(t, [][2]float64{{105, 8}, {165, 16}, {225, 20}, {690, 18}, {750, 16}, {810, 14}, {870, 12}}, got)
	assert.Equal(t, []string{"memory", "inspection_queue_depth"}, res.LeftOut)
	assert.Len(t, res.Syncs, 61) // 0, 15, …, 900

	text, _, code := runCLI(t, "autoscale", "simulate", "--hpa", "gl008", "--metrics", csv, "--duration", "900s")
	require.Equal(t, 0, code)
	assert.Contains(t, text, "scale events: 105 s: 4 → 8; 165 s: 8 → 16; 225 s: 16 → 20; 690 s: 20 → 18")
}

// Load and per-pod capacity, with pods that take 30 s to start, on a
// user's HPA file.
func TestAutoscaleSimulateLoadMode(t *testing.T) {
	t.Parallel()
	spec := writeFile(t, "hpa.yaml", `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: t}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: t}
  minReplicas: 2
  maxReplicas: 10
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
  behavior:
    scaleUp: {stabilizationWindowSeconds: 0}
`)
	// 2 pods, 200 req/s of 100 per pod: 100% (ratio 2) → 4 at t=0 (the
	// default scale-up policies allow max(+4, +100%)); the 2 new pods are
	// Pending until 30 s: the ratio over all 4, the new ones at 0, is 1:
	// no change at 15; at 30 all 4 serve 50%: ratio 1: stays 4.
	csv := writeFile(t, "tl.csv", "seconds,load,capacity\n0,200,100\n")
	out, errOut, code := runCLI(t, "autoscale", "simulate", "--hpa", spec, "--metrics", csv, "--startup", "30s", "--duration", "60s", "--format", "json")
	require.Equal(t, 0, code, errOut)
	var res struct {
		Final int32 `json:"final_replicas"`
		Syncs []struct {
			Ready   int   `json:"ready"`
			Desired int32 `json:"desired"`
		} `json:"syncs"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.Equal(t, int32(4), res.Final)
	assert.Equal(t, 2, res.Syncs[1].Ready) // t=15: the new pods still start
	assert.Equal(t, 4, res.Syncs[2].Ready)
}

func TestAutoscaleBadInput(t *testing.T) {
	t.Parallel()
	good := writeFile(t, "tl.csv", "seconds,cpu\n0,70\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"autoscale", "simulate", "--metrics", good}, "--hpa and --metrics are required"},
		{[]string{"autoscale", "simulate", "--hpa", "gl009", "--metrics", good}, "not a built-in HPA"},
		{[]string{"autoscale", "simulate", "--hpa", writeFile(t, "h.yaml", "spec: {maxReplicas: 0}\n"), "--metrics", good}, "h.yaml: (1) spec.maxReplicas: Invalid value: 0: must be greater than 0"},
		{[]string{"autoscale", "simulate", "--hpa", "gl008", "--metrics", writeFile(t, "a.csv", "seconds,gpu\n0,1\n")}, `column "gpu" is not a metric`},
		{[]string{"autoscale", "simulate", "--hpa", "gl008", "--metrics", writeFile(t, "b.csv", "seconds,cpu\n5,70\n")}, "first row must be at 0 s"},
		{[]string{"autoscale", "simulate", "--hpa", "gl008", "--metrics", writeFile(t, "c.csv", "seconds,cpu\n0,70\n0,80\n")}, "line 3"},
		{[]string{"autoscale", "simulate", "--hpa", "gl008", "--metrics", writeFile(t, "d.csv", "seconds,cpu\n0,-1\n")}, "want a number ≥ 0"},
		{[]string{"autoscale", "simulate", "--hpa", "gl008", "--metrics", good, "--format", "xml"}, "--format"},
		{[]string{"autoscale", "--phases", "150%"}, "--phases"},
		{[]string{"autoscale", "--target", "http://127.0.0.1:1", "--time-scale", "0.1"}, "--time-scale is for --target embedded"},
		{[]string{"autoscale", "--target", "embedded", "--hpa", "gl008", "--replicas", "30"}, "replicas 30"},
		{[]string{"target", "--hpa", "nope.yaml"}, "not a built-in HPA"},
		{[]string{"target", "--hpa", "gl008", "--replicas", "2"}, "min 4"},
	} {
		_, errOut, code := runCLI(t, tc.args...)
		assert.Equal(t, ExitBadInput, code, "%v: %s", tc.args, errOut)
		assert.Contains(t, errOut, tc.want, "%v", tc.args)
	}
}
