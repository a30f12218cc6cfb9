package history

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
)

// PruneConfig is `loadgen history prune`: keep a folder of run
// directories (a CI's history/runs) to its newest runs, never deleting the
// newest completed run nor the baseline the next run is compared with.
type PruneConfig struct {
	// Dir holds the run directories, one level down (DIR/<run>/run.json).
	Dir string
	// Keep is how many of the newest runs (by run.json's started_at) are
	// kept, whatever their status.
	Keep int
	// Baseline is the run the history compares with (a CI's last good
	// run): a run directory's name in Dir, or its path; "" for none.
	Baseline string
	// DryRun says what would be removed, and removes nothing.
	DryRun bool
}

// Validate returns every problem with c as bad input, nil when there is none.
func (c PruneConfig) Validate() error {
	var problems []string
	if c.Dir == "" {
		problems = append(problems, "history prune: give the folder of run directories, e.g. history/runs")
	}
	if c.Keep < 1 {
		problems = append(problems, fmt.Sprintf("--keep %d: want ≥ 1 (the newest runs to keep)", c.Keep))
	}
	return exitcode.Problems("", problems)
}

// Pruned is what a prune kept and removed, each run by its directory.
type Pruned struct {
	Kept    []KeptRun `json:"kept"`
	Removed []string  `json:"removed"`
	// Notes say what was left alone (folders that are not run
	// directories) and a baseline that is not there.
	Notes  []string `json:"notes,omitempty"`
	DryRun bool     `json:"dry_run,omitempty"`
}

// KeptRun is a run a prune kept, and why: "newest", "newest completed",
// "baseline" (several when it is more than one of them).
type KeptRun struct {
	Dir string   `json:"dir"`
	Why []string `json:"why"`
}

// prunable is a run directory of Dir.
type prunable struct {
	dir, name string
	run       *runrecord.Run
}

// Prune keeps the newest c.Keep runs of c.Dir, the newest completed one
// and the baseline, and removes the other run directories. It reads every
// run.json first and removes nothing when one cannot be read (bad input,
// exit 2: a run it cannot date is one it cannot rank). Folders that hold no
// run.json, files and symbolic links are left alone, with a note. A run
// directory that cannot be removed is the machine's failure (exit 5).
func (c PruneConfig) Prune() (Pruned, error) {
	if err := c.Validate(); err != nil {
		return Pruned{}, err
	}
	st, err := os.Stat(c.Dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Pruned{}, exitcode.Usage("history prune: %s does not exist", c.Dir)
	case err != nil:
		return Pruned{}, err
	case !st.IsDir():
		return Pruned{}, exitcode.Usage("history prune: %s is not a directory: give the folder of run directories", c.Dir)
	}
	entries, err := os.ReadDir(c.Dir)
	if err != nil {
		return Pruned{}, err
	}
	res := Pruned{DryRun: c.DryRun, Kept: []KeptRun{}, Removed: []string{}}
	var runs []prunable
	for _, e := range entries {
		dir := filepath.Join(c.Dir, e.Name())
		if !e.IsDir() { // files, and symbolic links: never followed
			res.Notes = append(res.Notes, fmt.Sprintf("left alone %s: not a directory", dir))
			continue
		}
		if _, err := os.Lstat(filepath.Join(dir, runrecord.FileName)); errors.Is(err, fs.ErrNotExist) {
			res.Notes = append(res.Notes, fmt.Sprintf("left alone %s: no %s, not a run directory", dir, runrecord.FileName))
			continue
		}
		run, err := runrecord.Read(dir)
		if err != nil {
			return Pruned{}, exitcode.Usage("history prune: %v: nothing was removed", err)
		}
		runs = append(runs, prunable{dir: dir, name: e.Name(), run: run})
	}
	// Oldest first, by when each started (then by name).
	slices.SortStableFunc(runs, func(a, b prunable) int {
		return cmp.Or(a.run.StartedAt.Compare(b.run.StartedAt), strings.Compare(a.name, b.name))
	})
	why := make([][]string, len(runs))
	for i := max(0, len(runs)-c.Keep); i < len(runs); i++ {
		why[i] = append(why[i], "newest")
	}
	for i := len(runs) - 1; i >= 0; i-- {
		if runs[i].run.Status == runrecord.Completed {
			why[i] = append(why[i], "newest completed")
			break
		}
	}
	if c.Baseline != "" {
		found := false
		for i, r := range runs {
			if c.isBaseline(r) {
				why[i] = append(why[i], "baseline")
				found = true
			}
		}
		if !found {
			res.Notes = append(res.Notes, fmt.Sprintf("the baseline %s is not a run directory of %s", c.Baseline, c.Dir))
		}
	}
	for i, r := range runs {
		if len(why[i]) > 0 {
			res.Kept = append(res.Kept, KeptRun{Dir: r.dir, Why: why[i]})
			continue
		}
		if !c.DryRun {
			if err := os.RemoveAll(r.dir); err != nil {
				return res, fmt.Errorf("history prune: removing %s: %w", r.dir, err)
			}
		}
		res.Removed = append(res.Removed, r.dir)
	}
	return res, nil
}

// isBaseline says whether r is the baseline: by name, or by path.
func (c PruneConfig) isBaseline(r prunable) bool {
	if !strings.ContainsRune(c.Baseline, os.PathSeparator) {
		return r.name == c.Baseline
	}
	a, err1 := filepath.Abs(c.Baseline)
	b, err2 := filepath.Abs(r.dir)
	return err1 == nil && err2 == nil && a == b
}

// WriteText writes what was removed (or would be), one run a line, what
// was kept for more than being among the newest, and a summary (not the
// notes: the command prints them on standard error).
func (p Pruned) WriteText(w io.Writer) error {
	verb := "removed"
	if p.DryRun {
		verb = "would remove"
	}
	var b strings.Builder
	for _, d := range p.Removed {
		fmt.Fprintf(&b, "%s %s\n", verb, d)
	}
	for _, k := range p.Kept {
		if !slices.Equal(k.Why, []string{"newest"}) {
			fmt.Fprintf(&b, "kept %s (%s)\n", k.Dir, strings.Join(k.Why, ", "))
		}
	}
	done := "removed"
	if p.DryRun {
		done = "would be removed"
	}
	fmt.Fprintf(&b, "%d run directories kept, %d %s\n", len(p.Kept), len(p.Removed), done)
	_, err := io.WriteString(w, b.String())
	return err
}
