package live

import (
	"context"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/testutil/promtest"
)

// TestPushResultToARealPushgateway pushes three runs of two series to a real
// Pushgateway: each push replaces its own group and leaves the other alone.
func TestPushResultToARealPushgateway(t *testing.T) {
	gw := promtest.Pushgateway(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pushRun := func(id, endpoint string, maxOK float64) {
		run := &runrecord.Run{Scenario: "gl008-step", Target: "http://127.0.0.1:8080", Status: runrecord.Completed,
			StartedAt: time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC), Config: campaign.Config{Endpoint: endpoint, Replicas: 2},
			Breakpoint: breakpoint.Breakpoint{Found: true, MaxSustainableRPS: maxOK, FirstFailingRPS: maxOK + 10}}
		require.NoError(t, PushResult(ctx, gw, id, run))
	}
	pushRun("night-1", "inspection", 500)
	pushRun("night-1", "predictions", 100)
	pushRun("night-2", "inspection", 480)

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, gw+"/metrics", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	mf := mfs["loadgen_campaign_max_sustainable_rps"]
	require.NotNil(t, mf)
	var got []string
	for _, m := range mf.GetMetric() {
		ls := model.LabelSet{}
		for _, l := range m.GetLabel() {
			if l.GetValue() != "" { // the Pushgateway adds instance=""
				ls[model.LabelName(l.GetName())] = model.LabelValue(l.GetValue())
			}
		}
		got = append(got, ls.String()+" "+model.SampleValue(m.GetGauge().GetValue()).String())
	}
	sort.Strings(got)
	assert.Equal(t, []string{
		`{endpoint="inspection", job="loadgen", replicas="2", run="night-2", scenario="gl008-step", target="127.0.0.1:8080"} 480`,
		`{endpoint="predictions", job="loadgen", replicas="2", run="night-1", scenario="gl008-step", target="127.0.0.1:8080"} 100`,
	}, got)
	require.NotNil(t, mfs["loadgen_campaign_started_timestamp_seconds"])
}
