package cli_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/live"
	"github.com/greenlang/loadgen/internal/promseries"
	"github.com/greenlang/loadgen/internal/promtest"
)

// TestStressPushesANightlySeries runs two short campaigns ("nights") with
// --push-gateway against a real Pushgateway scraped by a real Prometheus,
// and reads the series back: one observation per run, as run.json has it.
func TestStressPushesANightlySeries(t *testing.T) {
	gw := promtest.Pushgateway(t)
	prom := promtest.Prometheus(t, gw)
	client, err := api.NewClient(api.Config{Address: prom})
	require.NoError(t, err)
	promAPI := v1.NewAPI(client)
	url, _ := limiter(t, 30)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	var want []promseries.Observation
	for night := 1; night <= 2; night++ {
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("night-%d", night))
		res := loadgen(t, ctx, quick(url, dir, "--search", "linear", "--start", "20", "--step", "20", "--max", "40",
			"--push-gateway", gw)...)
		require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
		assert.NotContains(t, res.stderr, "pushing to")
		run := readRun(t, dir)
		want = append(want, promseries.Observation{Scenario: run.Scenario, Endpoint: run.Config.Endpoint,
			Target: live.TargetLabel(url), Replicas: 1, Run: filepath.Base(dir),
			StartedAt: run.StartedAt.Round(time.Millisecond).UTC(), MaxSustainableRPS: run.Breakpoint.MaxSustainableRPS})
		// Prometheus scrapes this night's push before the next replaces it.
		q := fmt.Sprintf(`count_over_time(%s{run=%q}[1h])`, promseries.MaxSustainableMetric, filepath.Base(dir))
		require.Eventually(t, func() bool {
			v, _, err := promAPI.Query(ctx, q, time.Now())
			vec, ok := v.(model.Vector)
			return err == nil && ok && len(vec) == 1 && vec[0].Value >= 2
		}, 30*time.Second, 200*time.Millisecond, "prometheus did not scrape %s", dir)
	}

	got, err := promseries.Read(ctx, prom, promseries.Options{Lookback: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

func TestStressRefusesABadPushGateway(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "run")
	res := loadgen(t, ctx, "stress", "--target", "http://127.0.0.1:1", "--out", dir, "--push-gateway", "127.0.0.1:9091")
	assert.Equal(t, 2, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	assert.Equal(t, "loadgen: --push-gateway: \"127.0.0.1:9091\": want a Pushgateway base URL such as http://127.0.0.1:9091\n", res.stderr)
	assert.NoDirExists(t, dir, "nothing was started")
}
