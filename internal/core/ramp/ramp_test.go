package ramp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// drive runs a plan against a target that passes every rate ≤ capacity,
// returning the steps it asked for.
func drive(t *testing.T, p Plan, capacity int) []Step {
	t.Helper()
	var steps []Step
	for range 200 {
		s, ok := p.Next()
		if !ok {
			return steps
		}
		steps = append(steps, s)
		p.Record(s, s.RPS <= capacity)
	}
	t.Fatal("plan did not finish in 200 steps")
	return nil
}

func rates(steps []Step) []int {
	out := make([]int, len(steps))
	for i, s := range steps {
		out[i] = s.RPS
	}
	return out
}

func TestLinearIsTheGuidesWalk(t *testing.T) {
	t.Parallel()
	p, err := NewLinear(100, 100, 2000)
	require.NoError(t, err)
	assert.Equal(t, 20, p.Progress().Total)
	steps := drive(t, p, 750)
	assert.Equal(t, []int{100, 200, 300, 400, 500, 600, 700, 800}, rates(steps))
	assert.Equal(t, Progress{Phase: Walk, Lo: 700, Hi: 800, Done: 8, Total: 20}, p.Progress())

	p, _ = NewLinear(100, 100, 2000)
	steps = drive(t, p, 5000)
	assert.Len(t, steps, 20, "never fails: walks to max and stops")
	assert.Equal(t, 2000, steps[19].RPS)
}

func TestAdaptiveFindsCapacityWithinResolution(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		capacity, start, max int
		resolution           float64
	}{
		{250, 100, 2000, 0.02},
		{1000, 100, 4000, 0.02},
		{1000, 100, 4000, 0.05},
		{137, 10, 5000, 0.02},
		{99, 100, 2000, 0.02}, // the first step already fails
		{3, 100, 2000, 0.02},
		{1999, 100, 2000, 0.01},
	} {
		p, err := NewAdaptive(tc.start, tc.max, 2, tc.resolution)
		require.NoError(t, err)
		steps := drive(t, p, tc.capacity)
		pr := p.Progress()
		require.True(t, p.Confirmed(), "%+v: %v", tc, rates(steps))
		assert.LessOrEqual(t, pr.Lo, tc.capacity, "%+v", tc)
		assert.Greater(t, pr.Hi, tc.capacity, "%+v", tc)
		assert.True(t, pr.Hi-pr.Lo <= 1 || float64(pr.Hi-pr.Lo)/float64(pr.Lo) <= tc.resolution, "%+v: %v", tc, pr)
		last := steps[len(steps)-1]
		assert.Equal(t, Confirm, last.Phase)
		assert.Equal(t, pr.Lo, last.RPS, "the confirmation holds the found rate")

		// A linear walk needs (capacity−start)/step steps at a step equal
		// to the same resolution; the adaptive search must need far fewer.
		if tc.capacity > tc.start*2 {
			stepSize := max(1, int(tc.resolution*float64(tc.capacity)))
			linear := (tc.capacity-tc.start)/stepSize + 2
			assert.LessOrEqual(t, len(steps)*2, linear, "%+v: adaptive %d steps vs linear %d", tc, len(steps), linear)
			if tc.resolution <= 0.02 {
				assert.Less(t, len(steps)*3, linear, "%+v: adaptive %d steps vs linear %d", tc, len(steps), linear)
			}
		}
	}
}

func TestAdaptiveStopsAtMaxWhenNothingFails(t *testing.T) {
	t.Parallel()
	p, err := NewAdaptive(100, 1000, 2, 0.02)
	require.NoError(t, err)
	steps := drive(t, p, 1_000_000)
	assert.Equal(t, []int{100, 200, 400, 800, 1000}, rates(steps))
	assert.Equal(t, 0, p.Progress().Hi)
	assert.False(t, p.Confirmed())
}

func TestAdaptiveFailedConfirmationSearchesBelow(t *testing.T) {
	t.Parallel()
	p, err := NewAdaptive(100, 2000, 2, 0.05)
	require.NoError(t, err)
	// A flaky target: 250 passes the first time, then fails its confirmation.
	seen := map[int]int{}
	var got []Step
	for {
		s, ok := p.Next()
		if !ok {
			break
		}
		got = append(got, s)
		seen[s.RPS]++
		pass := s.RPS <= 250 && !(s.RPS == 250 && seen[s.RPS] > 1)
		p.Record(s, pass)
	}
	pr := p.Progress()
	assert.True(t, p.Confirmed(), "%v", got)
	assert.Less(t, pr.Lo, 250)
	assert.LessOrEqual(t, pr.Hi, 250)
}

func TestReplayRebuildsAPlan(t *testing.T) {
	t.Parallel()
	a, _ := NewAdaptive(100, 2000, 2, 0.02)
	var outcomes []Outcome
	for range 5 {
		s, _ := a.Next()
		outcomes = append(outcomes, Outcome{Step: s, Passed: s.RPS <= 640})
		a.Record(s, s.RPS <= 640)
	}
	b, _ := NewAdaptive(100, 2000, 2, 0.02)
	require.NoError(t, Replay(b, outcomes))
	sa, _ := a.Next()
	sb, _ := b.Next()
	assert.Equal(t, sa, sb)
	assert.Equal(t, a.Progress(), b.Progress())

	c, _ := NewAdaptive(150, 2000, 2, 0.02)
	err := Replay(c, outcomes)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "recorded 100 req/s, but the plan asks for 150 req/s")
}

func TestBadPlans(t *testing.T) {
	t.Parallel()
	_, err := NewLinear(0, 0, -1)
	require.ErrorIs(t, err, ErrBadPlan)
	assert.Contains(t, err.Error(), "start 0 req/s")
	assert.Contains(t, err.Error(), "step 0 req/s")
	assert.Contains(t, err.Error(), "max -1 req/s is below start")
	_, err = NewAdaptive(100, 50, 1, 0)
	require.ErrorIs(t, err, ErrBadPlan)
	assert.Contains(t, err.Error(), "growth 1")
	assert.Contains(t, err.Error(), "resolution 0")
}

// driveGen runs a plan against a target of the given capacity through a
// load generator that cannot offer more than ceiling req/s.
func driveGen(t *testing.T, p Plan, capacity, ceiling int) ([]Outcome, Progress) {
	t.Helper()
	var out []Outcome
	for range 200 {
		s, ok := p.Next()
		if !ok {
			return out, p.Progress()
		}
		o := Outcome{Step: s, Passed: s.RPS <= capacity, Ceiling: s.RPS >= ceiling}
		if o.Ceiling {
			p.Ceiling(s)
		} else {
			p.Record(s, o.Passed)
		}
		out = append(out, o)
	}
	t.Fatal("plan did not finish in 200 steps")
	return nil, Progress{}
}

func TestGeneratorCeiling(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name              string
		capacity, ceiling int
		wantCeiling       bool
	}{
		{"target below the generator's ceiling: found", 1000, 2200, false},
		{"target just below the ceiling: found", 2000, 2200, false},
		{"target above the ceiling: out of reach", 5000, 2200, true},
		{"first step already beyond the generator", 5000, 80, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewAdaptive(100, 100000, 2, 0.02)
			require.NoError(t, err)
			outcomes, pr := driveGen(t, p, tc.capacity, tc.ceiling)
			assert.Equal(t, tc.wantCeiling, pr.HiIsCeiling)
			if tc.wantCeiling {
				assert.Less(t, pr.Lo, tc.ceiling)
				assert.Equal(t, tc.ceiling, pr.Hi, "the lowest rate the generator could not offer")
				if pr.Lo > 0 {
					assert.LessOrEqual(t, float64(pr.Hi-pr.Lo)/float64(pr.Lo), 0.02)
				}
				assert.False(t, p.Confirmed())
			} else {
				assert.LessOrEqual(t, pr.Lo, tc.capacity)
				assert.Greater(t, pr.Hi, tc.capacity)
				assert.LessOrEqual(t, float64(pr.Hi-pr.Lo)/float64(pr.Lo), 0.02)
				assert.True(t, p.Confirmed())
			}
			// A resumed campaign rebuilds the same plan.
			q, _ := NewAdaptive(100, 100000, 2, 0.02)
			require.NoError(t, Replay(q, outcomes))
			assert.Equal(t, pr, q.Progress())
		})
	}

	l, err := NewLinear(100, 100, 2000)
	require.NoError(t, err)
	outcomes, pr := driveGen(t, l, 5000, 750)
	assert.Len(t, outcomes, 8, "the walk stops at the generator's ceiling")
	assert.Equal(t, Progress{Phase: Walk, Lo: 700, Hi: 800, Done: 8, Total: 20, HiIsCeiling: true}, pr)
}
