package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/session/sweep"
)

func TestSweepRatesArePerReplica(t *testing.T) {
	t.Parallel()
	cfg := campaign.Defaults() // linear 100 → 2000 by 100
	c := sweep.PerReplica(cfg, 4)
	assert.Equal(t, 4, c.Replicas)
	assert.Equal(t, []int{400, 400, 8000}, []int{c.Start, c.Step, c.Max})
	cfg.Search = campaign.Adaptive
	c = sweep.PerReplica(cfg, 3)
	assert.Equal(t, []int{300, 100, 6000}, []int{c.Start, c.Step, c.Max}, "adaptive has no step to scale")
}

func TestParseReplicasKeepsTheOrderGiven(t *testing.T) {
	t.Parallel()
	got, err := sweep.ParseReplicas(" 4, 1,2 ", 256)
	require.NoError(t, err)
	assert.Equal(t, []int{4, 1, 2}, got)
}

// Bad input exits 2 with the message alone (a campaign's problems one a
// line, numbered, as stress says them), before anything is scaled, started or
// written.
func TestSweepBadInput(t *testing.T) {
	t.Parallel()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t0ken}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: load}}]
current-context: x
`), 0o600))
	taken := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(taken, "sweep.json"), []byte("{}"), 0o644))
	emb := []string{"sweep", "--target", "embedded"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{append(emb, "--replicas", "0,x"), `--replicas 0,x: 0 is out of range, want 1–256`},
		{append(emb, "--replicas", "1,x"), `--replicas 1,x: "x" is not a whole number`},
		{append(emb, "--replicas", "1,2,2"), "--replicas 1,2,2: 2 is given twice"},
		{append(emb, "--replicas", "1,300"), "300 is out of range, want 1–256"},
		{emb, "--replicas is required"},
		{append(emb, "--replicas", "1", "--min-rps", "5"), "unknown flag: --min-rps"},
		{append(emb, "--replicas", "1", "--dry-run"), "unknown flag: --dry-run"},
		{append(emb, "--replicas", "1", "--start", "0"), "invalid campaign:\n  1. --start 0: want ≥ 1 req/s"},
		{append(emb, "--replicas", "1", "--scaler", "kubernetes"), "--target embedded is resized through its own admin API"},
		{append(emb, "--replicas", "1", "--benchmarks", "gl006"), "documents GL-006, but the campaign exercises GL-008"},
		{append(emb, "--replicas", "1", "--deployment", "x"), "--deployment is for --scaler kubernetes"},
		{append(emb, "--replicas", "1", "--ready-timeout", "0s"), "--ready-timeout 0s: want > 0"},
		{append(emb, "--replicas", "1", "--out", taken), "already holds a sweep"},
		{[]string{"sweep", "--target", "http://10.0.0.1:8080", "--replicas", "1", "--scaler", "admin"}, "answers loopback clients only"},
		{[]string{"sweep", "--target", "http://127.0.0.1:8080", "--replicas", "1", "--scaler", "embedded"}, "--scaler embedded needs --target embedded"},
		{[]string{"sweep", "--target", "http://10.0.0.1:8080", "--replicas", "1", "--kubeconfig", filepath.Join(taken, "none")}, "--kubeconfig: "},
		// A Deployment is about to be scaled: without a terminal to ask on,
		// only --yes goes ahead.
		{[]string{"sweep", "--target", "http://10.0.0.1:8080", "--replicas", "1,2", "--kubeconfig", kubeconfig},
			"this will scale deployment greenlang-gl008/steam-trap-inspector to 1, 2 replicas"},
		{[]string{"sweep", "--target", "http://10.0.0.1:8080", "--replicas", "1", "--kubeconfig", kubeconfig, "--deployment", "gl", "--deployment-namespace", "ns"},
			"deployment ns/gl"},
	} {
		out := filepath.Join(t.TempDir(), "sweep")
		args := tc.args
		if !slices.Contains(args, "--out") {
			args = append(args, "--out", out)
		}
		var stdout, stderr strings.Builder
		code := Main(args, strings.NewReader(""), &stdout, &stderr)
		assert.Equal(t, ExitBadInput, code, "%v\nstderr: %s", tc.args, stderr.String())
		assert.Contains(t, stderr.String(), tc.want, "%v", tc.args)
		assert.True(t, strings.HasPrefix(stderr.String(), "loadgen: "), "only the message: %q", stderr.String())
		assert.NotContains(t, stderr.String(), "goroutine")
		_, err := os.Stat(out)
		assert.True(t, os.IsNotExist(err), "%v: nothing written", tc.args)
	}
}
