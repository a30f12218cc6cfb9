package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/reporting/live"
	"github.com/greenlang/loadgen/internal/reporting/promseries"
	"github.com/greenlang/loadgen/internal/testutil/promtest"
)

// TestStressPushesANightlySeries runs two short campaigns ("nights") with
// --push-gateway against a real Pushgateway scraped by a real Prometheus,
// and reads the series back: one observation per run, as run.json has it.
func TestStressPushesANightlySeries(t *testing.T) {
	shareCPU(t, 1, 20*time.Second)
	gw := promtest.Pushgateway(t)
	prom := promtest.Prometheus(t, gw)
	client, err := api.NewClient(api.Config{Address: prom})
	require.NoError(t, err)
	promAPI := v1.NewAPI(client)
	// 250 req/s with a burst of 5: the first step (20 req/s) passes however
	// late k6's timers fire on a busy machine, the second (300) fails.
	url, _ := limiter(t, 250)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	var (
		want []promseries.Observation
		dirs []string
	)
	for night := 1; night <= 2; night++ {
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("night-%d", night))
		res := loadgen(t, ctx, quick(url, dir, "--search", "linear", "--start", "20", "--step", "280", "--max", "300",
			"--push-gateway", gw)...)
		require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
		assert.NotContains(t, res.stderr, "pushing to")
		run := readRun(t, dir)
		require.Equal(t, 20.0, run.Breakpoint.MaxSustainableRPS, "night %d: steps %+v", night, run.Steps)
		dirs = append(dirs, dir)
		want = append(want, promseries.Observation{Scenario: run.Scenario, Endpoint: run.Config.Endpoint,
			Target: live.TargetLabel(url), Replicas: 1, Run: filepath.Base(dir),
			StartedAt: run.StartedAt.Round(time.Millisecond).UTC(), MaxSustainableRPS: run.Breakpoint.MaxSustainableRPS,
			Completed: run.Status == runrecord.Completed})
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

	// loadgen history reads the same series from Prometheus alone, and from
	// Prometheus and the run directories together without counting a run
	// twice.
	wantPoints := func(res result) {
		t.Helper()
		require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
		var h struct {
			Series []struct {
				Target string `json:"target"`
				Points []struct {
					Run               string    `json:"run"`
					StartedAt         time.Time `json:"started_at"`
					MaxSustainableRPS float64   `json:"max_sustainable_rps"`
				} `json:"points"`
			} `json:"series"`
		}
		require.NoError(t, json.Unmarshal([]byte(res.stdout), &h), res.stdout)
		require.Len(t, h.Series, 1, res.stdout)
		assert.Equal(t, live.TargetLabel(url), h.Series[0].Target)
		require.Len(t, h.Series[0].Points, len(want), res.stdout)
		for i, p := range h.Series[0].Points {
			assert.Equal(t, want[i].MaxSustainableRPS, p.MaxSustainableRPS)
			assert.True(t, want[i].StartedAt.Equal(p.StartedAt.Round(time.Millisecond)), "%v vs %v", want[i].StartedAt, p.StartedAt)
		}
	}
	wantPoints(inProcess(t, "history", "--prometheus", prom, "--lookback", "1h", "--format", "json"))
	wantPoints(inProcess(t, append([]string{"history", "--prometheus", prom, "--lookback", "1h", "--format", "json"}, dirs...)...))
}

func TestHistoryPrometheusBadInput(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"history"},
		{"history", "--prometheus", "127.0.0.1:9090"},
		{"history", "--prometheus", "http://127.0.0.1:9090", "--lookback", "0s"},
	} {
		res := inProcess(t, args...)
		assert.Equal(t, 2, res.code, "%v: stdout:\n%s\nstderr:\n%s", args, res.stdout, res.stderr)
		assert.NotContains(t, res.stderr, "goroutine", args)
	}
}

func TestStressRefusesABadPushGateway(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	res := inProcess(t, "stress", "--target", "http://127.0.0.1:1", "--out", dir, "--push-gateway", "127.0.0.1:9091")
	assert.Equal(t, 2, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	assert.Equal(t, "loadgen: --push-gateway: \"127.0.0.1:9091\": want a Pushgateway base URL such as http://127.0.0.1:9091\n", res.stderr)
	assert.NoDirExists(t, dir, "nothing was started")
}
