package sample

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/xk6-steamtrap/trap"
)

func TestValidateSaysEveryProblem(t *testing.T) {
	t.Parallel()
	ok := Options{Kind: Inspection, Count: 1, Seed: 1, Stream: 1, Size: 50, Hot: 3, Cold: 3, DTMinK: 10}
	assert.Empty(t, ok.Validate())
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want []string
	}{
		{"count", func(o *Options) { o.Count = 0 }, []string{"--count 0: want 1–10000000"}},
		{"kind", func(o *Options) { o.Kind = "x" }, []string{`--kind "x": want inspection, sensor-batch or heat-streams`}},
		{"size and fleet", func(o *Options) { o.Kind, o.Size, o.Sites = SensorBatch, 0, -2 }, []string{"--size 0: want 1–10000", "invalid fleet: sites is -2, want > 0"}},
		{"operation", func(o *Options) { o.Kind, o.Operation = HeatStreams, "optimise" }, []string{`--operation: unknown operation "optimise"`}},
		{"streams", func(o *Options) { o.Kind, o.Hot, o.Cold = HeatStreams, 0, 0 }, []string{"zero streams (hot=0, cold=0)"}},
		{"size of heat streams is not looked at", func(o *Options) { o.Kind, o.Size = HeatStreams, 0 }, nil},
	} {
		o := ok
		tc.edit(&o)
		errs := o.Validate()
		require.Len(t, errs, len(tc.want), tc.name)
		for i, w := range tc.want {
			assert.Contains(t, errs[i].Error(), w, tc.name)
		}
	}
}

func TestWriteGivesTheStreamsPayloads(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	require.NoError(t, Write(&b, Options{Kind: SensorBatch, Count: 2, Seed: 7, Stream: 3, Size: 5}))
	f, err := trap.NewFleet(trap.FleetConfig{Seed: 7})
	require.NoError(t, err)
	g := f.NewGenerator(3)
	for i, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		var v struct {
			Count  int
			States []trap.State
			Body   json.RawMessage
		}
		require.NoError(t, json.Unmarshal([]byte(line), &v), i)
		var states []trap.State
		assert.Equal(t, string(g.AppendBatch(nil, 5, &states)), string(v.Body), i)
		assert.Equal(t, states, v.States, i)
		assert.Equal(t, 5, v.Count)
	}
}
