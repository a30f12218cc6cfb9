package history

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
)

// pruneFixture is a CI's history/runs after ten nights: runs named by
// their night, as the CI examples name them, some interrupted or aborted
// (the last three nights among them: no completed run in the newest
// three), the last good one (the baseline) on night 2, a folder that is
// no run directory and a file. It returns the folder.
func pruneFixture(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "runs")
	status := map[int]runrecord.Status{3: runrecord.Interrupted, 5: runrecord.Aborted, 8: runrecord.Interrupted,
		9: runrecord.Inconclusive, 10: runrecord.Interrupted}
	for night := 1; night <= 10; night++ {
		st, ok := status[night]
		if !ok {
			st = runrecord.Completed
		}
		// Started in night order; named so that the name's order is not
		// the start's for nights 6 and 7 (a clock that was wrong).
		name := nightName(night)
		writeRun(t, filepath.Join(root, name), st, night0.Add(time.Duration(night)*24*time.Hour), 250, 256)
	}
	require.NoError(t, os.MkdirAll(filepath.Join(root, "notes", "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "README"), []byte("the nights"), 0o644))
	return root
}

func nightName(n int) string {
	switch n {
	case 6:
		return "20260107T023000Z-gl008-quick"
	case 7:
		return "20260106T023000Z-gl008-quick"
	}
	return time.Date(2026, 1, n, 2, 30, 0, 0, time.UTC).Format("20060102T150405Z") + "-gl008-quick"
}

func left(t *testing.T, root string) []string {
	t.Helper()
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestPruneKeepsTheNewestCompletedRunAndTheBaseline runs the pruning on a
// fixture directory: it keeps the newest three runs (by when they started,
// not by name), the newest completed one (night 7: the three newest are
// not) and the baseline (night 2), removes the other run directories, and
// leaves alone what is not one.
func TestPruneKeepsTheNewestCompletedRunAndTheBaseline(t *testing.T) {
	t.Parallel()
	root := pruneFixture(t)
	cfg := PruneConfig{Dir: root, Keep: 3, Baseline: nightName(2)}

	dry := cfg
	dry.DryRun = true
	res, err := dry.Prune()
	require.NoError(t, err)
	assert.Len(t, res.Removed, 5)
	assert.Len(t, left(t, root), 12, "a dry run removes nothing")

	res, err = cfg.Prune()
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{nightName(2), nightName(7), nightName(8), nightName(9), nightName(10), "notes", "README"}, left(t, root))
	var removed []string
	for _, d := range res.Removed {
		removed = append(removed, filepath.Base(d))
	}
	assert.Equal(t, []string{nightName(1), nightName(3), nightName(4), nightName(5), nightName(6)}, removed, "oldest first, by start")
	assert.Equal(t, []KeptRun{
		{filepath.Join(root, nightName(2)), []string{"baseline"}},
		{filepath.Join(root, nightName(7)), []string{"newest completed"}},
		{filepath.Join(root, nightName(8)), []string{"newest"}},
		{filepath.Join(root, nightName(9)), []string{"newest"}},
		{filepath.Join(root, nightName(10)), []string{"newest"}},
	}, res.Kept)
	assert.Len(t, res.Notes, 2, "the folder and the file, left alone")

	var out strings.Builder
	require.NoError(t, res.WriteText(&out))
	assert.Contains(t, out.String(), "removed "+filepath.Join(root, nightName(1))+"\n")
	assert.Contains(t, out.String(), "kept "+filepath.Join(root, nightName(7))+" (newest completed)\n")
	assert.Contains(t, out.String(), "5 run directories kept, 5 removed\n")

	// Again, with the baseline given by its path and a window that holds
	// it: nothing more to remove.
	res, err = PruneConfig{Dir: root, Keep: 5, Baseline: filepath.Join(root, nightName(2))}.Prune()
	require.NoError(t, err)
	assert.Empty(t, res.Removed)
	assert.Equal(t, []string{"newest", "baseline"}, res.Kept[0].Why)
	assert.Equal(t, []string{"newest", "newest completed"}, res.Kept[1].Why)
}

func TestPruneWithoutABaseline(t *testing.T) {
	t.Parallel()
	root := pruneFixture(t)
	res, err := PruneConfig{Dir: root, Keep: 1, Baseline: "20250101T000000Z-gone"}.Prune()
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{nightName(7), nightName(10), "notes", "README"}, left(t, root))
	assert.Contains(t, res.Notes, "the baseline 20250101T000000Z-gone is not a run directory of "+root)
}

// TestPruneRefusesWhatItCannotRank: a run.json it cannot read is bad
// input, and nothing is removed; so are a folder that is not there and a
// --keep below 1.
func TestPruneRefusesWhatItCannotRank(t *testing.T) {
	t.Parallel()
	root := pruneFixture(t)
	bad := filepath.Join(root, nightName(4), runrecord.FileName)
	require.NoError(t, os.WriteFile(bad, []byte(`{"schema":"loadgen/run/v1"}`), 0o644))
	_, err := PruneConfig{Dir: root, Keep: 1}.Prune()
	require.Error(t, err)
	assert.Equal(t, exitcode.BadInput, exitcode.Of(err))
	assert.Contains(t, err.Error(), bad+": missing status")
	assert.Contains(t, err.Error(), "nothing was removed")
	assert.Len(t, left(t, root), 12)

	for _, tc := range []struct {
		cfg  PruneConfig
		want string
	}{
		{PruneConfig{Dir: filepath.Join(root, "nope"), Keep: 1}, "does not exist"},
		{PruneConfig{Dir: filepath.Join(root, "README"), Keep: 1}, "is not a directory"},
		{PruneConfig{Dir: root, Keep: 0}, "--keep 0: want ≥ 1"},
		{PruneConfig{Keep: 1}, "give the folder of run directories"},
	} {
		_, err := tc.cfg.Prune()
		assert.Equal(t, exitcode.BadInput, exitcode.Of(err), tc.want)
		assert.ErrorContains(t, err, tc.want)
	}
}
