// Package promseries reads the nightly series of breaking points back from
// Prometheus: what `loadgen stress --push-gateway` pushed
// (loadgen_campaign_max_sustainable_rps, started_timestamp_seconds and
// completed, grouped by scenario, endpoint, target and replicas, each run
// its own series by its run label), as Prometheus scraped it from the
// Pushgateway.
//
// Reading is three instant queries of last_over_time over a lookback
// window: a run's series holds the same value at every scrape until the
// next push to its group replaces it, so its last value is the run's, once,
// whatever the scrape interval. The HTTP calls are in Read; join, the pure
// part, turns the three answers into observations.
package promseries

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Observation is one run of one series: what a history point needs.
// Target is the pushed label value (live.TargetLabel: "embedded", or the
// URL's host[:port][/path]); StartedAt is run.json's started_at to the
// millisecond, in UTC.
type Observation struct {
	Scenario          string
	Endpoint          string
	Target            string
	Replicas          int
	Run               string
	StartedAt         time.Time
	MaxSustainableRPS float64
	// Completed is the pushed loadgen_campaign_completed: false for a
	// campaign that was interrupted or aborted (or whose gauge is missing).
	Completed bool
}

// The metric names and labels read (internal/reporting/live/push.go writes them).
const (
	MaxSustainableMetric = "loadgen_campaign_max_sustainable_rps"
	StartedMetric        = "loadgen_campaign_started_timestamp_seconds"
	CompletedMetric      = "loadgen_campaign_completed"
	runLabel             = "run"
)

// DefaultLookback is how far back Read looks when Options.Lookback is 0: a
// year of nightly runs (Prometheus keeps only what its retention allows).
const DefaultLookback = 365 * 24 * time.Hour

// Options tunes Read; the zero value reads the last DefaultLookback up to now.
type Options struct {
	// Lookback is the window before At that is read.
	Lookback time.Duration
	// At is the end of the window (zero: now).
	At time.Time
	// Client sends the HTTP requests (nil: api.DefaultRoundTripper).
	Client api.Client
}

// ErrBadURL is wrapped when the Prometheus URL is not an http(s) URL.
var ErrBadURL = errors.New("not a Prometheus URL")

// Read queries the Prometheus at prometheusURL (its HTTP API) and returns
// one observation per pushed run that has both a breaking point and a start
// time in the window, ordered by scenario, endpoint, target, replicas, then
// started_at and run. Runs pushed before the run label existed are not
// returned: they cannot be told apart.
func Read(ctx context.Context, prometheusURL string, opt Options) ([]Observation, error) {
	u, err := url.Parse(prometheusURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: %q (want http(s)://host:port)", ErrBadURL, prometheusURL)
	}
	client := opt.Client
	if client == nil {
		if client, err = api.NewClient(api.Config{Address: prometheusURL}); err != nil {
			return nil, fmt.Errorf("%w: %q: %v", ErrBadURL, prometheusURL, err)
		}
	}
	at := opt.At
	if at.IsZero() {
		at = time.Now()
	}
	lookback := cmp.Or(opt.Lookback, DefaultLookback)
	prom := v1.NewAPI(client)
	query := func(metric string) (model.Vector, error) {
		q := fmt.Sprintf(`last_over_time(%s{%s!=""}[%s])`, metric, runLabel, model.Duration(lookback))
		v, _, err := prom.Query(ctx, q, at)
		if err != nil {
			return nil, fmt.Errorf("prometheus %s: %s: %w", prometheusURL, q, err)
		}
		vec, ok := v.(model.Vector)
		if !ok {
			return nil, fmt.Errorf("prometheus %s: %s: got a %s, want a vector", prometheusURL, q, v.Type())
		}
		return vec, nil
	}
	rps, err := query(MaxSustainableMetric)
	if err != nil {
		return nil, err
	}
	started, err := query(StartedMetric)
	if err != nil {
		return nil, err
	}
	completed, err := query(CompletedMetric)
	if err != nil {
		return nil, err
	}
	return join(rps, started, completed)
}

// join pairs each run's breaking point with its start time and whether it
// completed (by all labels but the metric name) and orders the
// observations. A run missing its breaking point or start is left out; one
// missing its completed gauge is not completed; a replicas label that is
// not a number is an error.
func join(rps, started, completed model.Vector) ([]Observation, error) {
	startOf := make(map[model.Fingerprint]model.SampleValue, len(started))
	for _, s := range started {
		startOf[withoutName(s.Metric).Fingerprint()] = s.Value
	}
	done := make(map[model.Fingerprint]bool, len(completed))
	for _, s := range completed {
		done[withoutName(s.Metric).Fingerprint()] = s.Value == 1
	}
	obs := make([]Observation, 0, len(rps))
	for _, s := range rps {
		fp := withoutName(s.Metric).Fingerprint()
		st, ok := startOf[fp]
		if !ok {
			continue
		}
		replicas, err := strconv.Atoi(string(s.Metric["replicas"]))
		if err != nil {
			return nil, fmt.Errorf("series %s: replicas label %q is not a number", s.Metric, s.Metric["replicas"])
		}
		ms := math.Round(float64(st) * 1e3)
		obs = append(obs, Observation{
			Scenario:          string(s.Metric["scenario"]),
			Endpoint:          string(s.Metric["endpoint"]),
			Target:            string(s.Metric["target"]),
			Replicas:          replicas,
			Run:               string(s.Metric[runLabel]),
			StartedAt:         time.UnixMilli(int64(ms)).UTC(),
			MaxSustainableRPS: float64(s.Value),
			Completed:         done[fp],
		})
	}
	slices.SortFunc(obs, func(a, b Observation) int {
		return cmp.Or(cmp.Compare(a.Scenario, b.Scenario), cmp.Compare(a.Endpoint, b.Endpoint),
			cmp.Compare(a.Target, b.Target), cmp.Compare(a.Replicas, b.Replicas),
			a.StartedAt.Compare(b.StartedAt), cmp.Compare(a.Run, b.Run))
	})
	return obs, nil
}

func withoutName(m model.Metric) model.Metric {
	c := m.Clone()
	delete(c, model.MetricNameLabel)
	return c
}
