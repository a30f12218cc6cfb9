package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFindsEveryReadersTarget: the repository's fuzz targets are found in
// both modules, each as go test takes it in its module, among them one for
// every reader of a user's files.
func TestFindsEveryReadersTarget(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..", "..")
	targets, err := Find(root, "internal", "xk6-steamtrap")
	require.NoError(t, err)
	got := map[string]Target{}
	for _, tg := range targets {
		got[tg.Dir+" "+tg.Name] = tg
	}
	for _, want := range []string{
		"internal/core/runrecord FuzzRead", "xk6-steamtrap/measure FuzzReadAll", "internal/analysis/baseline FuzzLoad",
		"internal/core/campaign FuzzLoad", "internal/guides FuzzParseBenchmarks", "internal/kube/hpa FuzzParse",
		"internal/kube/hpa FuzzParseTimeline", "internal/session/sweep FuzzRead", "internal/reporting/history FuzzLoadRunDirs",
		"internal/reporting/junit FuzzRead", "internal/kube/collect FuzzCollect",
	} {
		assert.Contains(t, got, want)
	}
	assert.Equal(t, Target{Dir: "xk6-steamtrap/measure", Module: "xk6-steamtrap", Name: "FuzzReadAll"}, got["xk6-steamtrap/measure FuzzReadAll"])
	assert.Equal(t, "./measure", got["xk6-steamtrap/measure FuzzReadAll"].Package())
	assert.Equal(t, "./internal/kube/hpa", got["internal/kube/hpa FuzzParse"].Package())
	assert.Equal(t, ".", got["internal/kube/hpa FuzzParse"].Module)
}

func TestDeadlineOnly(t *testing.T) {
	deadline := "fuzz: elapsed: 3s, execs: 202 (0/sec), new interesting: 1 (total: 45)\n--- FAIL: FuzzRead (3.20s)\n    context deadline exceeded\nFAIL\nexit status 1\n"
	if !deadlineOnly([]byte(deadline)) {
		t.Error("a run that only hit its deadline is not a failure")
	}
	real := "--- FAIL: FuzzParseTimeline (0.31s)\n    --- FAIL: FuzzParseTimeline (0.00s)\n        testing.go:1: panic: runtime error\n\n    Failing input written to testdata/fuzz/FuzzParseTimeline/abc\n    To re-run:\n"
	if deadlineOnly([]byte(real)) {
		t.Error("a failing input is a failure")
	}
	if deadlineOnly([]byte("--- FAIL: FuzzX (1s)\n    fuzz_test.go:20: round trip differs\nFAIL\n")) {
		t.Error("an assertion is a failure")
	}
}
