package model

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKnee(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		xs, ys []float64
		x      float64 // 0: no knee
		note   string
	}{
		{"too few rates", []float64{100, 200}, []float64{40, 41}, 0, "not enough steps"},
		{"flat", []float64{100, 200, 300, 400}, []float64{40, 40.5, 41, 41.5}, 0, "no knee: p95 stays within 5%"},
		{"plateau reached at once", []float64{100, 200, 300, 400}, []float64{40, 480, 490, 500}, 0, "not enough steps: p95 rises to its plateau within 2"},
		{"a bend before the plateau", []float64{100, 200, 250, 260, 275, 300, 400}, []float64{40, 42, 45, 120, 300, 450, 460}, 250, "the knee is at 250 req/s"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			k, note := knee(c.xs, c.ys)
			assert.Contains(t, note, c.note)
			if c.x == 0 {
				assert.Nil(t, k)
				return
			}
			require.NotNil(t, k)
			assert.Equal(t, c.x, k.X)
		})
	}
}

func TestJudged(t *testing.T) {
	t.Parallel()
	assert.True(t, Judged("pass"))
	assert.True(t, Judged("fail"))
	assert.False(t, Judged("invalid"))
	assert.True(t, Failed("fail"))
	assert.False(t, Failed("pass"))
}

// TestBuildWithoutRendering analyses a fixture of the report package: the
// figures a forecast needs come out without any renderer.
func TestBuildWithoutRendering(t *testing.T) {
	t.Parallel()
	a, err := Load(filepath.Join("..", "report", "testdata", "runs", "gl008-1replica"), Options{})
	require.NoError(t, err)
	assert.Equal(t, 250.0, a.Breakpoint.MaxSustainableRPS)
	require.NotNil(t, a.Comparison)
	assert.Equal(t, 250.0, a.Comparison.PerPodRPS)
	require.NotNil(t, a.Capacity)
	assert.Equal(t, 500.0, a.Limits.P95Ms)
	assert.NotEmpty(t, a.Timeline)
	for _, s := range a.Steps {
		assert.NotNil(t, s.Span, "step %d has its span on the time axis", s.Index)
	}

	_, err = Build(".", nil, Options{})
	require.ErrorIs(t, err, ErrRun)
	_, err = Load(t.TempDir(), Options{})
	require.Error(t, err)
}
