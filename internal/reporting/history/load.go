package history

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/greenlang/loadgen/internal/core/runrecord"
)

// ErrBadInput is wrapped by LoadRunDirs' errors that are the user's to fix
// (a folder that does not exist, a run.json that is not one, no run at
// all); other errors are the machine's (a folder that cannot be read).
var ErrBadInput = errors.New("bad input")

// LoadRunDirs finds every run directory (a directory holding run.json) in
// and under roots, and returns an observation for each completed campaign
// with a max sustainable rate, its Run the directory's path (root joined
// with the path below it). Runs that do not count are skipped, each with a
// note saying why; so is a run directory reached twice. Directories below a
// run directory are not searched.
func LoadRunDirs(roots []string) (obs []Observation, notes []string, err error) {
	seen := map[string]bool{}
	found := 0
	for _, root := range roots {
		st, err := os.Stat(root)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, nil, fmt.Errorf("%w: %s does not exist", ErrBadInput, root)
		case err != nil:
			return nil, nil, err
		case !st.IsDir():
			return nil, nil, fmt.Errorf("%w: %s is not a directory: give folders of run directories, or run directories", ErrBadInput, root)
		}
		root = filepath.Clean(root)
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				return nil
			}
			if _, err := os.Stat(filepath.Join(path, runrecord.FileName)); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			found++
			abs, err := filepath.Abs(path)
			if err != nil {
				return err
			}
			if seen[abs] {
				return filepath.SkipDir
			}
			seen[abs] = true
			ob, note, err := readRun(path)
			if err != nil {
				return err
			}
			if note != "" {
				notes = append(notes, note)
			}
			if ob != nil {
				obs = append(obs, *ob)
			}
			return filepath.SkipDir
		})
		if err != nil {
			return nil, nil, err
		}
	}
	if found == 0 {
		return nil, nil, fmt.Errorf("%w: no run directory (a directory holding %s) in or under %v", ErrBadInput, runrecord.FileName, roots)
	}
	return obs, notes, nil
}

// Uncounted says why a campaign is left out of its series, or "" when it
// counts: only a completed campaign with a measured max sustainable rate
// does, whichever source it was read from. ended says how an unfinished
// campaign ended ("status interrupted").
func Uncounted(completed bool, ended string, maxSustainableRPS float64) string {
	switch {
	case !completed:
		return ended + " (only completed runs count)"
	case !measured(maxSustainableRPS):
		return "no step passed, so no max sustainable rate was measured"
	}
	return ""
}

// measured says whether a max sustainable rate was measured: some step
// passed (a positive, finite rate).
func measured(maxSustainableRPS float64) bool {
	return maxSustainableRPS > 0 && !math.IsInf(maxSustainableRPS, 1)
}

// readRun reads one run directory: an observation if the campaign counts, a
// note when it does not (or counts with a caveat).
func readRun(dir string) (*Observation, string, error) {
	run, err := runrecord.Read(dir)
	if errors.Is(err, runrecord.ErrNotARun) {
		return nil, "", fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	if err != nil {
		return nil, "", err
	}
	bp := run.Breakpoint
	if !(bp.MaxSustainableRPS >= 0) || !(bp.FirstFailingRPS >= 0) || bp.FirstFailingRPS > 0 && bp.FirstFailingRPS <= bp.MaxSustainableRPS {
		return nil, "", fmt.Errorf("%w: %s: breakpoint: max_sustainable_rps %v, first_failing_rps %v: want rates ≥ 0, the first failing (when there is one) above the max sustainable",
			ErrBadInput, filepath.Join(dir, runrecord.FileName), bp.MaxSustainableRPS, bp.FirstFailingRPS)
	}
	if why := Uncounted(run.Status == runrecord.Completed, "status "+string(run.Status), bp.MaxSustainableRPS); why != "" {
		return nil, fmt.Sprintf("skipped %s: %s", dir, why), nil
	}
	if run.StartedAt.IsZero() {
		return nil, fmt.Sprintf("skipped %s: run.json has no started_at", dir), nil
	}
	ob := &Observation{Scenario: run.Scenario, Endpoint: run.Config.Endpoint, Target: run.Target, Replicas: run.Config.Replicas,
		Run: dir, StartedAt: run.StartedAt, MaxSustainableRPS: bp.MaxSustainableRPS, FirstFailingRPS: bp.FirstFailingRPS}
	note := ""
	if !bp.Found {
		note = fmt.Sprintf("%s: no step failed, so its max sustainable rate (%v req/s) is only a lower bound", dir, bp.MaxSustainableRPS)
	}
	return ob, note, nil
}
