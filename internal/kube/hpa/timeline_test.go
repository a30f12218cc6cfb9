package hpa

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	} {
		_, err := ParseTimeline(strings.NewReader(bad), s)
		assert.ErrorIs(t, err, ErrTimeline, name)
	}
}
