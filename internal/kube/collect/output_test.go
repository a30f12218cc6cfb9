package collect_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.k6.io/k6/v2/lib"
	"go.k6.io/k6/v2/metrics"
	"go.k6.io/k6/v2/output"

	"github.com/greenlang/loadgen/internal/kube/collect"
	steamtrap "github.com/greenlang/loadgen/xk6-steamtrap"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

const key = "campaign-key-for-the-output-test"

// samples are 6 seconds of k6 samples: requests of several statuses and
// latencies, their iterations, and the vus gauges.
func samples(t0 time.Time) []metrics.SampleContainer {
	reg := metrics.NewRegistry()
	bm := metrics.RegisterBuiltinMetrics(reg)
	root := reg.RootTagSet()
	var out []metrics.SampleContainer
	for sec := range 6 {
		ts := t0.Add(time.Duration(sec) * time.Second)
		out = append(out, metrics.ConnectedSamples{Time: ts, Tags: root, Samples: []metrics.Sample{
			{TimeSeries: metrics.TimeSeries{Metric: bm.VUs, Tags: root}, Time: ts, Value: 2},
			{TimeSeries: metrics.TimeSeries{Metric: bm.VUsMax, Tags: root}, Time: ts, Value: 10},
		}})
		for i := range 20 {
			status := 200
			if i%7 == 3 {
				status = 503
			}
			tags := root.With("status", strconv.Itoa(status)).With("expected_response", strconv.FormatBool(status == 200))
			end := ts.Add(time.Duration(10+40*i) * time.Millisecond)
			ms := float64(1 + (i*37+sec*11)%90)
			s := func(m *metrics.Metric, v float64) metrics.Sample {
				return metrics.Sample{TimeSeries: metrics.TimeSeries{Metric: m, Tags: tags}, Time: end, Value: v}
			}
			out = append(out, metrics.ConnectedSamples{Time: end, Tags: tags, Samples: []metrics.Sample{
				s(bm.HTTPReqs, 1), s(bm.HTTPReqDuration, ms), s(bm.HTTPReqFailed, map[bool]float64{true: 0, false: 1}[status == 200]),
				s(bm.Iterations, 1), s(bm.IterationDuration, ms+0.5),
			}})
		}
	}
	return out
}

func newOutput(t *testing.T, arg, tok, ca string) output.Output {
	t.Helper()
	o, err := steamtrap.New(output.Params{
		OutputType: steamtrap.OutputName, ConfigArgument: arg,
		Environment:   map[string]string{steamtrap.CollectTokenEnv: tok, steamtrap.CollectTimeoutEnv: "5s", steamtrap.CollectCAEnv: ca},
		ScriptOptions: lib.Options{RunTags: map[string]string{"instance_id": "4"}},
	})
	require.NoError(t, err)
	return o
}

// serve serves s over TLS as the driver does, and returns its base URL
// and the CA to trust.
func serve(t *testing.T, s *collect.Server) (base, ca string) {
	t.Helper()
	certs, err := collect.NewCertificates([]string{"127.0.0.1"}, time.Now(), collect.CertificateValidity)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	addr, err := s.Listen(ctx, "127.0.0.1:0", certs.ServerConfig())
	require.NoError(t, err)
	return "https://" + addr.String(), string(certs.CAPEM)
}

// TestOutputToServer runs the extension's output, collector form, against
// this package's Server over TLS, beside the file form fed the same
// samples: the collected stream is the file.
func TestOutputToServer(t *testing.T) {
	t.Parallel()
	s := collect.New(key)
	base, ca := serve(t, s)
	s.Expect("s1", collect.Expectation{Runners: map[string]string{"4": ""}})

	path := filepath.Join(t.TempDir(), "s.ndjson")
	file := newOutput(t, path, "", "")
	remote := newOutput(t, base+measure.CollectPath("s1"), s.StepToken("s1"), ca)
	in := samples(time.Now().Truncate(time.Second).Add(-10 * time.Second))
	for _, o := range []output.Output{file, remote} {
		require.NoError(t, o.Start())
		o.AddMetricSamples(in)
	}
	require.NoError(t, file.Stop())
	require.NoError(t, remote.Stop())

	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	fh, fsecs, err := measure.ReadAll(f, path)
	require.NoError(t, err)
	streams := s.Done("s1")
	require.Len(t, streams, 1)
	st := streams[0]
	assert.Equal(t, "4", st.Runner)
	assert.Equal(t, "", st.Segment)
	assert.False(t, fh.BeganAt.IsZero())
	assert.Equal(t, fh.BeganAt, st.Header.BeganAt)
	requireSameRecords(t, measure.FoldLate(fsecs), measure.FoldLate(st.Seconds))
}

// A runner with the token of another step (a runner of step s2, late) is
// refused on s1's path, and keeps nothing there.
func TestOutputToServerWithAnotherStepsToken(t *testing.T) {
	t.Parallel()
	s := collect.New(key)
	base, ca := serve(t, s)
	s.Expect("s1", collect.Expectation{})
	o := newOutput(t, base+measure.CollectPath("s1"), s.StepToken("s2"), ca)
	require.NoError(t, o.Start())
	o.AddMetricSamples(samples(time.Now().Add(-10 * time.Second)))
	err := o.Stop()
	require.ErrorContains(t, err, "collector answered 401 Unauthorized")
	assert.NotContains(t, err.Error(), s.StepToken("s2"))
	assert.Empty(t, s.Done("s1"))
}

// A runner the step does not have (the executor named runner 1 and 2; this
// is 4) is refused 403.
func TestOutputToServerFromARunnerNotOfTheStep(t *testing.T) {
	t.Parallel()
	s := collect.New(key)
	base, ca := serve(t, s)
	s.Expect("s1", collect.Expectation{Runners: map[string]string{"1": "0:1/2", "2": "1/2:1"}})
	o := newOutput(t, base+measure.CollectPath("s1"), s.StepToken("s1"), ca)
	require.NoError(t, o.Start())
	o.AddMetricSamples(samples(time.Now().Add(-10 * time.Second)))
	err := o.Stop()
	require.ErrorContains(t, err, "collector answered 403 Forbidden")
	assert.Empty(t, s.Done("s1"))
}

// requireSameRecords compares what k6 measured (not the lag probe's
// measurements, which differ between two outputs).
func requireSameRecords(t *testing.T, want, got []measure.Second) {
	t.Helper()
	require.Equal(t, len(want), len(got), "seconds")
	var requests int64
	for i := range want {
		w, g := want[i], got[i]
		assert.Equal(t, w.StartUnix, g.StartUnix, "second %d", i)
		assert.Equal(t, []int64{w.Requests, w.OK, w.Errors, w.Failed, w.Iterations, w.DroppedIterations, w.VUs, w.VUsMax},
			[]int64{g.Requests, g.OK, g.Errors, g.Failed, g.Iterations, g.DroppedIterations, g.VUs, g.VUsMax}, "second %d", i)
		assert.Equal(t, w.Classes, g.Classes, "second %d", i)
		assert.True(t, w.Latency.Equal(g.Latency), "second %d hist", i)
		assert.True(t, w.LatencyOK.Equal(g.LatencyOK), "second %d hist_ok", i)
		requests += g.Requests
	}
	assert.Positive(t, requests)
}
