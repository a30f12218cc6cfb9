package exitcode

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOf(t *testing.T) {
	t.Parallel()
	_, ioErr := os.ReadFile("/nonexistent/run.json")
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, OK},
		{Usage("--start %d: want ≥ 1", 0), BadInput},
		{New(Inconclusive, errors.New("generator-bound")), Inconclusive},
		{fmt.Errorf("step 3: %w", New(Interrupted, errors.New("interrupted"))), Interrupted},
		{fmt.Errorf("writing the report: %w", ioErr), Failed},
		{errors.New(`unknown command "strees" for "loadgen"`), BadInput},
	} {
		assert.Equal(t, tc.want, Of(tc.err), "%v", tc.err)
	}
	assert.NoError(t, New(Failed, nil))
}

func TestProblems(t *testing.T) {
	t.Parallel()
	assert.NoError(t, Problems("x: ", nil))
	assert.EqualError(t, Problems("target: ", []string{"a"}), "target: a")
	err := Problems("target: ", []string{"a", "b"})
	assert.EqualError(t, err, "target: 2 problems: (1) a; (2) b")
	assert.Equal(t, BadInput, Of(err))
	assert.NoError(t, Errors("x: ", nil))
	assert.EqualError(t, Errors("", []error{errors.New("a"), errors.New("b")}), "2 problems: (1) a; (2) b")
}
