package sweep

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/core/stress"
)

// Reopen reads the sweep in dir for --resume: one that did not complete
// (interrupted, aborted, or killed while running). Its settings are the
// record's. A campaign that ended (completed, aborted or inconclusive) is
// kept as it is — also one that ended after sweep.json was last written,
// taken from its run.json; the entries of the others are dropped, for Run
// to continue their run directories or start them. Errors are the user's
// (loadgen exits 2): nothing has been touched.
func Reopen(dir string) (*Record, error) {
	rec, err := Read(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("--resume: %s holds no sweep (no %s)", dir, FileName)
	case err != nil:
		return nil, fmt.Errorf("--resume: %v", err)
	case rec.Status == Completed:
		return nil, fmt.Errorf("--resume: the sweep in %s is already completed", dir)
	}
	kept := map[int]CampaignEntry{}
	for _, c := range rec.Campaigns {
		if ended(c.Status) {
			kept[c.Replicas] = c
		}
	}
	var campaigns []CampaignEntry
	for _, n := range rec.Replicas {
		c, ok := kept[n]
		if !ok {
			runDir := filepath.Join(dir, CampaignDir(n))
			if !exists(filepath.Join(runDir, runrecord.FileName)) {
				continue // not started: Run starts it
			}
			run, err := runrecord.Read(runDir)
			if err != nil {
				return nil, fmt.Errorf("--resume: the campaign at %d replicas: %v", n, err)
			}
			if !ended(string(run.Status)) {
				continue // Run continues it
			}
			c = CampaignEntry{Replicas: n, Dir: CampaignDir(n), StartedAt: run.StartedAt, FinishedAt: run.FinishedAt}
			fill(&c, run)
		}
		campaigns = append(campaigns, c)
	}
	rec.Campaigns = campaigns
	rec.Resumed++
	rec.FinishedAt, rec.AbortReason = nil, ""
	return rec, nil
}

// ended says whether a campaign with this status is over: a resumed sweep
// keeps it. An interrupted campaign (or one killed while running, or never
// started) is not.
func ended(status string) bool {
	switch runrecord.Status(status) {
	case runrecord.Completed, runrecord.Aborted, runrecord.Inconclusive:
		return true
	}
	return false
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// campaign returns the record's campaign at n replicas, or nil.
func (r *Record) campaign(n int) *CampaignEntry {
	for i := range r.Campaigns {
		if r.Campaigns[i].Replicas == n {
			return &r.Campaigns[i]
		}
	}
	return nil
}

// reopen returns the unfinished campaign in a resumed sweep's run
// directory to continue (stress.Reopen), or nil when there is none to
// continue: the campaign starts anew.
func (s *Sweep) reopen(dir string) (*runrecord.Run, error) {
	if !exists(filepath.Join(dir, runrecord.FileName)) {
		return nil, nil
	}
	run, notes, err := stress.Reopen(dir)
	for _, n := range notes {
		fmt.Fprintf(s.Log, "sweep: %s: %s\n", dir, n)
	}
	return run, err
}

// plan says what a resumed sweep does with each replica count.
func (s *Sweep) plan() string {
	var parts []string
	for _, n := range s.Replicas {
		dir := filepath.Join(s.Dir, CampaignDir(n))
		switch {
		case s.Record.campaign(n) != nil:
			parts = append(parts, fmt.Sprintf("%d kept (%s)", n, s.Record.campaign(n).Status))
		case exists(filepath.Join(dir, runrecord.FileName)):
			parts = append(parts, fmt.Sprintf("%d continued", n))
		default:
			parts = append(parts, fmt.Sprintf("%d to run", n))
		}
	}
	return "replicas " + strings.Join(parts, ", ")
}
