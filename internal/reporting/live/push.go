package live

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"

	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/kit/redact"
)

// PushJob is the Pushgateway job of every pushed campaign result.
const PushJob = "loadgen"

// SeriesLabels are the Pushgateway grouping labels of a pushed result, in
// order: what one nightly series is. A push replaces its group, so the
// Pushgateway holds the newest run of each series and no more.
var SeriesLabels = []string{"scenario", "endpoint", "target", "replicas"}

// RunLabel is the label, on every pushed metric, naming the run (its run
// directory's base name). It is not part of the grouping key: each run is a
// new series in Prometheus that ends at the next push to its group (one new
// series per metric and night), which is what lets a reader take one point
// per run with last_over_time instead of deduplicating repeated scrapes.
const RunLabel = "run"

// PushResult sends a finished campaign's figures to a Prometheus
// Pushgateway: job "loadgen", grouped by SeriesLabels, each metric labelled
// with runID (the run directory's base name). The push replaces the
// group's previous run. With the Pushgateway scraped with honor_labels,
// Prometheus keeps a series of breaking points per scenario, endpoint,
// target and replicas, one point per run (internal/reporting/promseries reads it).
func PushResult(ctx context.Context, gatewayURL, runID string, run *runrecord.Run) error {
	p := push.New(gatewayURL, PushJob).Gatherer(resultRegistry(runID, run, time.Now()))
	for i, v := range seriesValues(run) {
		p = p.Grouping(SeriesLabels[i], v)
	}
	return p.PushContext(ctx)
}

// CheckGatewayURL reports whether u can be a Pushgateway's base URL: an
// http(s) URL with a host, and no query or fragment (the client appends
// /metrics/job/… to its path).
func CheckGatewayURL(u string) error {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.RawQuery != "" || p.Fragment != "" {
		return fmt.Errorf("%q: want a Pushgateway base URL such as http://127.0.0.1:9091", redact.URL(u))
	}
	return nil
}

// seriesValues are the values of SeriesLabels for run.
func seriesValues(run *runrecord.Run) []string {
	return []string{run.Scenario, run.Config.Endpoint, TargetLabel(run.Target), strconv.Itoa(run.Config.Replicas)}
}

// resultRegistry holds the pushed gauges of run; now stands in for the
// finish time of a run that has none recorded.
func resultRegistry(runID string, run *runrecord.Run, now time.Time) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	g := func(name, help string, v float64) {
		m := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "loadgen", Subsystem: "campaign", Name: name, Help: help,
			ConstLabels: prometheus.Labels{RunLabel: runID}})
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
	finished := now
	if run.FinishedAt != nil {
		finished = *run.FinishedAt
	}
	g("max_sustainable_rps", "Highest offered rate that passed.", bp.MaxSustainableRPS)
	g("first_failing_rps", "Lowest offered rate that failed (0: none).", bp.FirstFailingRPS)
	g("max_sustainable_rps_per_pod", "Max sustainable rate divided by --replicas.", perPod)
	g("breakpoint_found", "1 if a step failed within the tested range.", found)
	g("completed", "1 if the campaign completed (not interrupted or aborted).", completed)
	g("steps", "Steps run, retries included.", float64(len(run.Steps)))
	g("step_time_seconds", "Load time spent in steps.", run.StepTimeS)
	g("started_timestamp_seconds", "When the campaign started (unix time, run.json's started_at).", unixSeconds(run.StartedAt))
	g("finished_timestamp_seconds", "When the campaign ended (unix time).", unixSeconds(finished))
	return reg
}

// unixSeconds is t as fractional unix seconds (float64 keeps microseconds).
func unixSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}

// TargetLabel turns a campaign's target into a label value that names the
// service and nothing else: "embedded" stays "embedded"; a URL becomes its
// host, with its port unless it is the scheme's default, and its path
// without the trailing slash (http://GL008.example:8080/api/ →
// gl008.example:8080/api). User information, query and fragment are
// dropped: they may hold credentials, and they do not name a service.
func TargetLabel(target string) string {
	if target == campaign.EmbeddedTarget {
		return target
	}
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return target
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + strings.TrimRight(u.EscapedPath(), "/")
}
