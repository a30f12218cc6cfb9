package cli

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestExitCode(t *testing.T) {
	t.Parallel()
	_, ioErr := os.ReadFile("/nonexistent/run.json")
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{usageErr("--start %d: want ≥ 1", 0), ExitBadInput},
		{&ExitError{Code: ExitInconclusive, Err: errors.New("generator-bound")}, ExitInconclusive},
		{fmt.Errorf("writing the report: %w", ioErr), ExitFailed},
		{errors.New(`unknown command "strees" for "loadgen"`), ExitBadInput},
	} {
		assert.Equal(t, tc.want, exitCode(tc.err), "%v", tc.err)
	}
}
