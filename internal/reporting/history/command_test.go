package history

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/greenlang/loadgen/internal/analysis/changepoint"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
)

func TestConfigValidateSaysEveryProblem(t *testing.T) {
	t.Parallel()
	ok := Config{Dirs: []string{"runs"}, Lookback: 1, Format: "text", Options: changepoint.Defaults}
	assert.NoError(t, ok.Validate())
	bad := Config{Format: "pdf", Options: changepoint.Defaults}
	bad.Options.MinSegment = 1
	err := bad.Validate()
	assert.Equal(t, exitcode.BadInput, exitcode.Of(err))
	assert.ErrorContains(t, err, `4 problems: (1) --format "pdf": want one of text, json, html; (2) --significance, --min-history, --min-change: `)
	assert.ErrorContains(t, err, "(3) history: give at least one folder of run directories, or --prometheus URL; (4) --lookback 0s")
}
