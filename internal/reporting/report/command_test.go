package report

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
	"github.com/greenlang/loadgen/internal/reporting/model"
)

func TestConfigValidateSaysEveryProblem(t *testing.T) {
	t.Parallel()
	ok := model.Settings{Tolerance: compare.DefaultTolerance}
	assert.NoError(t, Config{Format: "junit", Baseline: "base", Settings: ok}.Validate())
	err := Config{Format: "pdf", Baseline: "base", Settings: model.Settings{Replicas: 2000, Tolerance: 0.1}}.Validate()
	assert.Equal(t, exitcode.BadInput, exitcode.Of(err))
	assert.EqualError(t, err, `3 problems: (1) --format "pdf": want one of text, md, html, json, junit; `+
		`(2) --baseline goes into the JUnit report (--format junit); for the comparison itself: loadgen compare RUN --baseline OTHER_RUN; `+
		`(3) --replicas 2000: want 1–1000 (0: run.json's)`)

	assert.NoError(t, CompareConfig{Format: "md", Settings: ok}.Validate())
	assert.NoError(t, CompareConfig{Format: "md", Baseline: "base"}.Validate(), "the guide's settings are not looked at")
	err = CompareConfig{Format: "html", Baseline: "base", GuideFlags: []string{"replicas", "tolerance"}}.Validate()
	assert.EqualError(t, err, `2 problems: (1) --format "html": want text, json or md; (2) --baseline compares two runs; --replicas applies to the comparison with the guide`)
}

func TestCompareConfigGates(t *testing.T) {
	t.Parallel()
	c := CompareConfig{Dir: filepath.Join("testdata", "runs", "gl008-1replica"), Format: "text",
		Settings: model.Settings{Tolerance: compare.DefaultTolerance, Replicas: 2}}
	res, err := c.Run()
	require.NoError(t, err)
	assert.NoError(t, res.GateFailure(), "no --gate")
	var b strings.Builder
	require.NoError(t, res.Write(&b))
	assert.Contains(t, b.String(), "Verdict: BELOW")

	c.Gate = true
	res, err = c.Run()
	require.NoError(t, err)
	assert.Equal(t, exitcode.GateFailed, exitcode.Of(res.GateFailure()))
}
