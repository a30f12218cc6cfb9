package live

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"

	"github.com/greenlang/loadgen/internal/runrecord"
)

// PushResult sends a finished campaign's figures to a Prometheus
// Pushgateway (job "loadgen", grouped by scenario), so that a nightly CI
// gate leaves a time series of breaking points behind.
func PushResult(ctx context.Context, gatewayURL string, run *runrecord.Run) error {
	reg := prometheus.NewRegistry()
	g := func(name, help string, v float64) {
		m := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "loadgen", Subsystem: "campaign", Name: name, Help: help})
		m.Set(v)
		reg.MustRegister(m)
	}
	bp := run.Breakpoint
	found := 0.0
	if bp.Found {
		found = 1
	}
	completed := 0.0
	if run.Status == runrecord.Completed {
		completed = 1
	}
	perPod := 0.0
	if run.Config.Replicas > 0 {
		perPod = bp.MaxSustainableRPS / float64(run.Config.Replicas)
	}
	g("max_sustainable_rps", "Highest offered rate that passed.", bp.MaxSustainableRPS)
	g("first_failing_rps", "Lowest offered rate that failed (0: none).", bp.FirstFailingRPS)
	g("max_sustainable_rps_per_pod", "Max sustainable rate divided by --replicas.", perPod)
	g("breakpoint_found", "1 if a step failed within the tested range.", found)
	g("completed", "1 if the campaign completed (not interrupted or aborted).", completed)
	g("steps", "Steps run, retries included.", float64(len(run.Steps)))
	g("step_time_seconds", "Load time spent in steps.", run.StepTimeS)
	g("finished_timestamp_seconds", "When the campaign ended (unix time).", float64(time.Now().Unix()))
	return push.New(gatewayURL, "loadgen").Gatherer(reg).Grouping("scenario", run.Scenario).PushContext(ctx)
}
