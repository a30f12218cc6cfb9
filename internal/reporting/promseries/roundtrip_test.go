package promseries_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/reporting/live"
	"github.com/greenlang/loadgen/internal/reporting/promseries"
	"github.com/greenlang/loadgen/internal/testutil/promtest"
)

// TestRoundTripThroughARealPushgatewayAndPrometheus pushes five runs of three
// series with live.PushResult to a real Pushgateway (one of them
// interrupted), lets a real Prometheus scrape each push at least twice (the
// repeated scrapes a reader must not count twice), and reads them back with
// Read.
func TestRoundTripThroughARealPushgatewayAndPrometheus(t *testing.T) {
	gw := promtest.Pushgateway(t)
	prom := promtest.Prometheus(t, gw)
	client, err := api.NewClient(api.Config{Address: prom})
	require.NoError(t, err)
	promAPI := v1.NewAPI(client)

	night := func(d int) time.Time { return time.Date(2026, 11, d, 2, 0, 0, 987_654_321, time.UTC) }
	type push struct {
		run                string
		target, endpoint   string
		replicas           int
		started            time.Time
		maxOK, firstFailed float64
		status             runrecord.Status
	}
	pushes := []push{
		{"20261101T020000Z-gl008-step", "embedded", "inspection", 1, night(1), 250, 256, runrecord.Completed},
		{"20261102T020000Z-gl008-step", "embedded", "inspection", 1, night(2), 262.5, 270, runrecord.Completed},
		{"20261102T020500Z-gl008-step", "http://127.0.0.1:8080/", "predictions", 1, night(2).Add(5 * time.Minute), 50, 52, runrecord.Completed},
		{"20261103T020000Z-gl008-step", "embedded", "inspection", 4, night(3), 1000, 1030, runrecord.Interrupted},
		{"20261103T021000Z-gl008-step", "embedded", "inspection", 1, night(3).Add(10 * time.Minute), 240, 248, runrecord.Completed},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, p := range pushes {
		fin := p.started.Add(90 * time.Second)
		run := &runrecord.Run{Scenario: "gl008-step", Target: p.target, Status: p.status,
			StartedAt: p.started, FinishedAt: &fin,
			Config:     campaign.Config{Endpoint: p.endpoint, Replicas: p.replicas},
			Breakpoint: breakpoint.Breakpoint{Found: true, MaxSustainableRPS: p.maxOK, FirstFailingRPS: p.firstFailed}}
		require.NoError(t, live.PushResult(ctx, gw, p.run, run))
		waitScraped(ctx, t, promAPI, p.run, 2)
	}

	got, err := promseries.Read(ctx, prom, promseries.Options{Lookback: time.Hour})
	require.NoError(t, err)
	ms := func(t time.Time) time.Time { return t.Round(time.Millisecond) }
	require.Equal(t, []promseries.Observation{
		{"gl008-step", "inspection", "embedded", 1, pushes[0].run, ms(pushes[0].started), 250, true},
		{"gl008-step", "inspection", "embedded", 1, pushes[1].run, ms(pushes[1].started), 262.5, true},
		{"gl008-step", "inspection", "embedded", 1, pushes[4].run, ms(pushes[4].started), 240, true},
		{"gl008-step", "inspection", "embedded", 4, pushes[3].run, ms(pushes[3].started), 1000, false},
		{"gl008-step", "predictions", "127.0.0.1:8080", 1, pushes[2].run, ms(pushes[2].started), 50, true},
	}, got)

	// A window that ends before the first push holds nothing.
	got, err = promseries.Read(ctx, prom, promseries.Options{Lookback: time.Hour, At: time.Now().Add(-2 * time.Hour)})
	require.NoError(t, err)
	require.Empty(t, got)
}

// waitScraped waits until Prometheus holds at least n samples of run's
// breaking point.
func waitScraped(ctx context.Context, t *testing.T, promAPI v1.API, run string, n int) {
	t.Helper()
	q := fmt.Sprintf(`count_over_time(%s{run=%q}[1h])`, promseries.MaxSustainableMetric, run)
	for {
		v, _, err := promAPI.Query(ctx, q, time.Now())
		if err == nil {
			if vec, ok := v.(model.Vector); ok && len(vec) == 1 && int(vec[0].Value) >= n {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("prometheus did not scrape run %s %d times: %v (last error: %v)", run, n, ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
