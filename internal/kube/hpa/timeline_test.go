package hpa

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/kit/exitcode"
)

func TestParseTimeline(t *testing.T) {
	s, err := Builtin("gl008")
	require.NoError(t, err)
	tl, err := ParseTimeline(strings.NewReader("# comment\nt,cpu,inspection_queue_depth\n0,70,10\n30.5,140,\n"), s)
	require.NoError(t, err)
	assert.Equal(t, []string{"cpu", "inspection_queue_depth"}, tl.Keys)
	require.Len(t, tl.Samples, 2)
	assert.Equal(t, 30500*time.Millisecond, tl.Samples[1].At)
	assert.Equal(t, 140.0, tl.Samples[1].Values["cpu"])
	assert.True(t, math.IsNaN(tl.Samples[1].Values["inspection_queue_depth"]), "an empty cell is a missing value")

	tl, err = ParseTimeline(strings.NewReader("seconds,load,capacity\n0,500,250\n"), s)
	require.NoError(t, err)
	assert.True(t, tl.LoadMode)
	assert.Equal(t, []string{"cpu"}, tl.Keys)

	for name, bad := range map[string]string{
		"no header":       "",
		"first column":    "when,cpu\n0,1\n",
		"load alone":      "seconds,load\n0,1\n",
		"cpu and load":    "seconds,cpu,load,capacity\n0,1,1,1\n",
		"zero capacity":   "seconds,load,capacity\n0,1,0\n",
		"no rows":         "seconds,cpu\n",
		"ragged":          "seconds,cpu\n0,1,2\n",
		"not a number":    "seconds,cpu\n0,x\n",
		"out of order":    "seconds,cpu\n0,1\n20,1\n10,1\n",
		"duplicate":       "seconds,cpu,cpu\n0,1,1\n",
		"empty load cell": "seconds,load,capacity\n0,,1\n",
		"too late":        "seconds,cpu\n0,1\n10000001,1\n",
		"NaN":             "seconds,cpu\n0,NaN\n",
		"negative":        "seconds,cpu\n0,-1\n",
		"Inf":             "seconds,cpu\n0,1\n5,+Inf\n",
	} {
		_, err := ParseTimeline(strings.NewReader(bad), s)
		assert.ErrorIs(t, err, ErrTimeline, name)
	}
}

// TestTimelineErrorsSayWhere: through SimulateTimeline (as autoscale
// simulate reads --metrics), every refusal is bad input naming the file,
// the line and what was expected.
func TestTimelineErrorsSayWhere(t *testing.T) {
	s, err := Builtin("gl008")
	require.NoError(t, err)
	for _, tc := range []struct{ csv, want string }{
		{"# only a comment\n", "m.csv: metric timeline: line 1: the file is empty: want a header `seconds,<metric>…`"},
		{"when,cpu\n0,1\n", "m.csv: metric timeline: line 1: want a header `seconds,<metric>…` or `seconds,load,capacity`"},
		{"seconds,cpu\n0,1\n10000001,1\n", "m.csv: metric timeline: line 3: seconds 1.0000001e+07: want at most 10000000"},
		{"seconds,cpu\n0,-1\n", `m.csv: metric timeline: line 2: cpu "-1": want a number ≥ 0`},
		{"seconds,cpu\n0,NaN\n", `m.csv: metric timeline: line 2: cpu "NaN": want a number ≥ 0`},
		{"seconds,cpu\n5,1\n", "m.csv: metric timeline: line 2: the first row must be at 0 s, not 5"},
		{"seconds,cpu\n0,1\n0,1\n", "m.csv: metric timeline: line 3: 0 s is not after the row before"},
		{"seconds,cpu\n0,1,2\n", "m.csv: metric timeline: record on line 2: wrong number of fields"},
		{"seconds,queue\n0,1\n", `m.csv: metric timeline: line 1: column "queue" is not a metric of the HPA`},
		{"seconds,cpu\n", "m.csv: metric timeline: no rows after the header"},
	} {
		_, err := SimulateTimeline("gl008", s, strings.NewReader(tc.csv), "m.csv", SimOptions{}, false, false)
		require.Error(t, err, tc.csv)
		assert.Equal(t, exitcode.BadInput, exitcode.Of(err), tc.csv)
		assert.Contains(t, err.Error(), tc.want, tc.csv)
	}
}
