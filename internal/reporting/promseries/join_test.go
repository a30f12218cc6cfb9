package promseries

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sample(name string, v float64, labels ...string) *model.Sample {
	m := model.Metric{}
	if name != "" {
		m[model.MetricNameLabel] = model.LabelValue(name)
	}
	for i := 0; i < len(labels); i += 2 {
		m[model.LabelName(labels[i])] = model.LabelValue(labels[i+1])
	}
	return &model.Sample{Metric: m, Value: model.SampleValue(v)}
}

func series(scenario, endpoint, replicas, run string) []string {
	return []string{"job", "loadgen", "scenario", scenario, "endpoint", endpoint, "target", "embedded", "replicas", replicas, "run", run}
}

func TestJoinPairsEachRunAndOrdersTheSeries(t *testing.T) {
	t.Parallel()
	night := func(d int) float64 { return float64(time.Date(2026, 11, d, 2, 0, 0, 0, time.UTC).Unix()) + 0.1234 }
	rps := model.Vector{
		sample("", 240, series("gl008-step", "inspection", "1", "n3")...),
		sample("", 250, series("gl008-step", "inspection", "1", "n1")...),
		sample("", 50, series("gl008-step", "predictions", "1", "n2")...),
		sample("", 255, series("gl008-step", "inspection", "1", "n2")...),
		sample("", 999, series("gl008-step", "inspection", "1", "no-start")...),
		sample("", 1000, series("gl008-step", "inspection", "4", "n1")...),
	}
	started := model.Vector{
		sample(StartedMetric, night(3), series("gl008-step", "inspection", "1", "n3")...),
		sample(StartedMetric, night(1), series("gl008-step", "inspection", "1", "n1")...),
		sample(StartedMetric, night(2), series("gl008-step", "inspection", "1", "n2")...),
		sample(StartedMetric, night(2), series("gl008-step", "predictions", "1", "n2")...),
		sample(StartedMetric, night(1), series("gl008-step", "inspection", "4", "n1")...),
		sample(StartedMetric, night(5), series("gl008-step", "inspection", "1", "no-rps")...),
	}
	completed := model.Vector{
		sample(CompletedMetric, 1, series("gl008-step", "inspection", "1", "n3")...),
		sample(CompletedMetric, 1, series("gl008-step", "inspection", "1", "n1")...),
		sample(CompletedMetric, 0, series("gl008-step", "inspection", "1", "n2")...),
		sample(CompletedMetric, 1, series("gl008-step", "predictions", "1", "n2")...),
	}
	got, err := join(rps, started, completed)
	require.NoError(t, err)
	at := func(d int) time.Time { return time.Date(2026, 11, d, 2, 0, 0, 123_000_000, time.UTC) }
	assert.Equal(t, []Observation{
		{"gl008-step", "inspection", "embedded", 1, "n1", at(1), 250, true},
		{"gl008-step", "inspection", "embedded", 1, "n2", at(2), 255, false}, // interrupted
		{"gl008-step", "inspection", "embedded", 1, "n3", at(3), 240, true},
		{"gl008-step", "inspection", "embedded", 4, "n1", at(1), 1000, false}, // no completed gauge
		{"gl008-step", "predictions", "embedded", 1, "n2", at(2), 50, true},
	}, got)
}

func TestJoinRejectsAReplicasLabelThatIsNotANumber(t *testing.T) {
	t.Parallel()
	_, err := join(model.Vector{sample("", 1, series("s", "e", "four", "r")...)},
		model.Vector{sample("", 1, series("s", "e", "four", "r")...)}, nil)
	assert.ErrorContains(t, err, `replicas label "four"`)
}

func TestReadRefusesWhatIsNotAnHTTPURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "localhost:9090", "ftp://x", "http://"} {
		_, err := Read(context.Background(), u, Options{})
		assert.True(t, errors.Is(err, ErrBadURL), "%q: %v", u, err)
	}
}
