package signoff

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/greenlang/loadgen/internal/analysis/baseline"
	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/core/stress"
	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/internal/kit/atomicfile"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
	"github.com/greenlang/loadgen/internal/kit/redact"
	"github.com/greenlang/loadgen/internal/reporting/live"
	"github.com/greenlang/loadgen/internal/session"
	"github.com/greenlang/loadgen/internal/session/autoscale"
	"github.com/greenlang/loadgen/internal/session/preflight"
	"github.com/greenlang/loadgen/internal/session/preflight/source"
	"github.com/greenlang/loadgen/internal/session/sweep"
	"github.com/greenlang/loadgen/internal/target/reftarget"
	"github.com/greenlang/loadgen/scenarios/benchmarks"
)

// Schema identifies signoff.json.
const Schema = "loadgen/signoff/v1"

// The files of a sign-off directory.
const (
	RecordFile = "signoff.json"
	PlanFile   = "plan.yaml"
	JUnitFile  = "junit.xml"
	MDFile     = "signoff.md"
	HTMLFile   = "signoff.html"
)

// Check statuses in signoff.json.
const (
	StatusPending     = "pending"
	StatusDone        = "done"        // ran to a result; its gates are judged
	StatusSkipped     = "skipped"     // not applicable here
	StatusErrored     = "errored"     // could not run to a result (not the target's doing)
	StatusInterrupted = "interrupted" // --resume runs it again (a campaign continues)
)

// Record is signoff.json: the sign-off as it stands (rewritten after every
// check).
type Record struct {
	Schema  string  `json:"schema"`
	Verdict Verdict `json:"verdict"`
	// ExitCode is the code loadgen signoff ended (or will end) with.
	ExitCode int `json:"exit_code"`
	// Summary says the verdict in one line.
	Summary    string     `json:"summary"`
	Plan       string     `json:"plan"`
	PlanSource string     `json:"plan_source"`
	Service    string     `json:"service"`
	Quick      bool       `json:"quick"`
	Target     string     `json:"target"` // its password redacted
	Embedded   bool       `json:"embedded"`
	Factor     float64    `json:"target_capacity_factor,omitempty"`
	Baseline   string     `json:"baseline,omitempty"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Resumed    int        `json:"resumed,omitempty"`
	// Command reproduces the sign-off.
	Command  string   `json:"command"`
	Versions Versions `json:"versions"`
	// Inputs are the files the verdict rests on, with their SHA-256.
	Inputs []Input `json:"inputs"`
	// Calibration is set against the embedded target: it simulates the
	// guide's own figures, so the sign-off checks the harness.
	Calibration string        `json:"calibration,omitempty"`
	Checks      []CheckRecord `json:"checks"`
	// Gates are every gate of every check, in order.
	Gates []Gate `json:"gates"`
	// NotChecked says, in words, what the sign-off did not check.
	NotChecked []string `json:"not_checked"`
}

// Versions are what ran the sign-off, and what it ran against.
type Versions struct {
	Loadgen   string `json:"loadgen"`
	GitCommit string `json:"git_commit"`
	K6        string `json:"k6"`
	Go        string `json:"go"`
	// Target is the target's GET /version, or why there is none.
	Target string `json:"target"`
}

// Input is a file the sign-off read.
type Input struct {
	What   string `json:"what"`
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// CheckRecord is one check in signoff.json.
type CheckRecord struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Endpoint string `json:"endpoint,omitempty"`
	// Dir is the check's run directory, relative to the sign-off's.
	Dir    string `json:"dir,omitempty"`
	Status string `json:"status"`
	// Note says why a check was skipped, errored or interrupted.
	Note  string `json:"note,omitempty"`
	Gates []Gate `json:"gates"`
}

// Runner runs a sign-off.
type Runner struct {
	Plan *Plan
	// Dir is the sign-off directory.
	Dir string
	// Target is --target: a URL (it may hold a password: it is never
	// written) or "embedded".
	Target string
	Quick  bool
	// Factor is the embedded target's capacity factor (0: as documented).
	Factor float64
	// BaselineDir is a previous sign-off directory ("": none).
	BaselineDir string
	// Kubeconfig is where a preflight check finds the cluster ("":
	// $KUBECONFIG, ~/.kube/config, a pod's service account).
	Kubeconfig string
	Yes        bool
	Plain      bool
	K6         []string
	Versions   Versions
	// Command reproduces the sign-off (no secret in it).
	Command string
	// Previous is the record --resume continues; nil: a new sign-off.
	Previous *Record

	Stdin       io.Reader
	Stdout, Log io.Writer
}

// Run runs the plan's checks one after the other, rewriting signoff.json
// after each, and writes the reports. The error carries the exit code:
// REJECTED 1, INCONCLUSIVE 4, INCOMPLETE 3, nil when SIGNED-OFF; a
// sign-off directory that cannot be written is 5.
func (r *Runner) Run(ctx context.Context) (*Record, error) {
	if err := os.MkdirAll(filepath.Join(r.Dir, "checks"), 0o755); err != nil {
		return nil, exitcode.New(exitcode.Failed, err)
	}
	rec, err := r.begin()
	if err != nil {
		return nil, err
	}
	if err := r.save(rec); err != nil {
		return rec, err
	}
	embedded := r.Target == campaign.EmbeddedTarget
	incomplete := false
	n := len(r.Plan.Checks)
	for i := range r.Plan.Checks {
		c := r.Plan.Checks[i]
		cr := &rec.Checks[i]
		if cr.Status == StatusDone || cr.Status == StatusSkipped {
			fmt.Fprintf(r.Log, "── check %d/%d %s (%s): already %s, kept\n", i+1, n, c.Name, c.Kind, cr.Status)
			continue
		}
		fmt.Fprintf(r.Log, "── check %d/%d %s (%s%s) ──\n", i+1, n, c.Name, c.Kind, endpointNote(c))
		switch {
		case c.Requires == RequiresCluster && embedded:
			note := "not applicable: needs a Kubernetes cluster, and the target is the embedded one"
			cr.Status, cr.Note, cr.Gates = StatusSkipped, note, Unjudged(c, Skipped, note, "")
		case c.Kind == KindPreflight:
			incomplete = r.preflight(ctx, i, cr)
		case c.Kind == KindCampaign, c.Kind == KindSoak:
			incomplete = r.campaign(ctx, i, cr)
		case c.Kind == KindSweep:
			incomplete = r.sweep(ctx, i, cr)
		case c.Kind == KindAutoscale:
			incomplete = r.autoscale(ctx, i, cr)
		case c.Kind == KindRegression:
			r.regression(i, rec, cr)
		}
		for _, g := range cr.Gates {
			fmt.Fprintf(r.Log, "   %-13s %s: %s\n", strings.ToUpper(string(g.Verdict)), g.Name, g.Reason)
		}
		if err := r.save(rec); err != nil {
			return rec, err
		}
		if incomplete {
			break
		}
	}
	return rec, r.finish(rec, incomplete)
}

func endpointNote(c Check) string {
	if c.Endpoint == "" {
		return ""
	}
	return ", endpoint " + c.Endpoint
}

// begin makes the record: the previous one continued, or a new one.
func (r *Runner) begin() (*Record, error) {
	if r.Previous != nil {
		rec := r.Previous
		rec.Resumed++
		rec.FinishedAt = nil
		return rec, nil
	}
	p := r.Plan
	rec := &Record{Schema: Schema, Verdict: Incomplete, ExitCode: exitcode.Interrupted, Summary: "running",
		Plan: p.Name, PlanSource: p.Source, Service: p.Service, Quick: r.Quick,
		Target: redact.URL(r.Target), Embedded: r.Target == campaign.EmbeddedTarget, Factor: r.Factor,
		StartedAt: time.Now().UTC(), Command: r.Command, Versions: r.Versions, Gates: []Gate{}, NotChecked: []string{}}
	if rec.Embedded {
		rec.Calibration = "the embedded reference target simulates the guide's own figures: this sign-off checks the harness (loadgen and this machine), not the service"
		if r.Factor > 0 && r.Factor != 1 {
			rec.Calibration += fmt.Sprintf(" — here a degraded build (capacity factor %g)", r.Factor)
		}
		rec.Versions.Target = "embedded reference target of this loadgen"
	} else {
		rec.Versions.Target = targetVersion(r.Target)
	}
	if err := os.WriteFile(filepath.Join(r.Dir, PlanFile), p.Bytes, 0o644); err != nil {
		return nil, exitcode.New(exitcode.Failed, err)
	}
	rec.Inputs = append(rec.Inputs, Input{What: "plan (" + p.Source + ")", Path: PlanFile, SHA256: sum(p.Bytes)})
	key := guides.Key(p.Svc())
	if b, err := benchmarks.Builtin(key); err == nil {
		rec.Inputs = append(rec.Inputs, Input{What: "benchmarks (built-in)", Path: "scenarios/benchmarks/" + key + ".yaml", SHA256: sum(b)})
	}
	if r.BaselineDir != "" {
		abs, _ := filepath.Abs(r.BaselineDir)
		rec.Baseline = abs
		b, err := os.ReadFile(filepath.Join(r.BaselineDir, RecordFile))
		if err != nil {
			return nil, exitcode.Usage("--baseline: %v", err)
		}
		rec.Inputs = append(rec.Inputs, Input{What: "baseline sign-off", Path: filepath.Join(abs, RecordFile), SHA256: sum(b)})
	}
	for i, c := range p.Checks {
		cr := CheckRecord{Name: c.Name, Kind: c.Kind, Endpoint: c.Endpoint, Status: StatusPending, Gates: []Gate{}}
		if c.Kind != KindRegression {
			cr.Dir = fmt.Sprintf("checks/%02d-%s", i+1, c.Name)
		}
		rec.Checks = append(rec.Checks, cr)
	}
	return rec, nil
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// targetVersion is the target's GET /version, when it answers.
func targetVersion(target string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(target, "/")+"/version", nil)
	if err != nil {
		return "unknown: " + err.Error()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "unknown: GET /version: " + redact.URL(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("unknown: GET /version answered %d", resp.StatusCode)
	}
	return strings.TrimSpace(string(b))
}

// campaign runs campaign check i on the campaign session and judges its
// gates. It reports whether the sign-off must stop (interrupted, or the
// target did not answer).
func (r *Runner) campaign(ctx context.Context, i int, cr *CheckRecord) (stop bool) {
	c := r.Plan.Checks[i]
	dir := filepath.Join(r.Dir, cr.Dir)
	errored := func(note string) bool { return cr.errored(c, note) }
	cfg, err := r.Plan.CampaignConfig(i, r.Quick, r.Target)
	if err != nil {
		return errored(err.Error())
	}
	cfg.TargetCapacityFactor = r.Factor
	res, err := r.Plan.Resolve(i)
	if err != nil {
		return errored(err.Error())
	}
	sec, err := session.ReadSecrets(cfg)
	if err != nil {
		return errored(err.Error())
	}
	cfg.Target = sec.TargetURL(cfg.Target)
	s := &session.Session{Config: cfg, Log: r.Log, Observers: []session.Observer{session.Reports{}}}
	if run, rerr := runrecord.Read(dir); rerr == nil && (run.Status == runrecord.Interrupted || run.Status == runrecord.Aborted || run.Status == runrecord.Running) {
		reopened, notes, err := stress.Reopen(dir)
		if err != nil {
			return errored(err.Error())
		}
		for _, n := range notes {
			fmt.Fprintln(r.Log, n)
		}
		s.Reopened = reopened
		fmt.Fprintf(r.Log, "continuing the campaign in %s (%d steps so far)\n", cr.Dir, len(reopened.Steps))
	} else if rerr == nil {
		// A run that ended but was not judged (the sign-off stopped
		// between): start it again.
		if err := os.RemoveAll(dir); err != nil {
			return errored(err.Error())
		}
	}
	s.Setup = stress.Setup{Dir: dir, Env: sec.Environ(os.Environ()), Secrets: sec.Values(), K6: r.K6,
		Versions: runrecord.Versions{Loadgen: r.Versions.Loadgen, K6: r.Versions.K6, Go: r.Versions.Go, GitCommit: r.Versions.GitCommit}}
	baseURL, stopTarget, err := session.StartTarget(cfg, r.Yes, r.Stdin, r.Log)
	if err != nil {
		return errored(err.Error())
	}
	defer stopTarget()
	s.Setup.BaseURL = sec.BaseURL(baseURL)
	if s.Progress, err = live.Observers(ctx, r.Log, r.Plain, ""); err != nil {
		return errored(err.Error())
	}
	o, err := s.Run(ctx)
	switch {
	case o == nil:
		return errored(err.Error())
	case errors.Is(o.Err, stress.ErrInterrupted):
		cr.Status, cr.Note, cr.Gates = StatusInterrupted, "interrupted: --resume continues the campaign", []Gate{}
		return true
	case errors.Is(o.Err, stress.ErrUnreachable):
		cr.Status, cr.Note, cr.Gates = StatusInterrupted, o.Run.AbortReason+": --resume continues the campaign", []Gate{}
		return true
	case errors.Is(o.Err, stress.ErrAborted):
		return errored(o.Run.AbortReason)
	case o.Err != nil && !errors.Is(o.Err, stress.ErrInconclusive):
		return errored(o.Err.Error())
	}
	cr.Status, cr.Note = StatusDone, ""
	if o.Run.Status == runrecord.Inconclusive {
		cr.Note = "the campaign ended inconclusive: " + o.Run.AbortReason
	}
	if c.Kind == KindSoak {
		cr.Gates = JudgeSoak(c, o.Run, res, cfg.Replicas, cr.Dir)
	} else {
		cr.Gates = JudgeCampaign(c, o.Run, res, guides.Documented(r.Plan.Svc()), cfg.Replicas, cr.Dir)
	}
	return false
}

// regression judges every campaign of this sign-off against the same
// check of the baseline sign-off.
func (r *Runner) regression(i int, rec *Record, cr *CheckRecord) {
	c := r.Plan.Checks[i]
	cr.Status = StatusDone
	if r.BaselineDir == "" {
		cr.Status, cr.Note = StatusSkipped, "not applicable: no --baseline sign-off was given, so this release was not compared with the last one"
		cr.Gates = Unjudged(c, Skipped, cr.Note, "")
		return
	}
	cr.Dir = fmt.Sprintf("checks/%02d-%s", i+1, c.Name)
	if err := os.MkdirAll(filepath.Join(r.Dir, cr.Dir), 0o755); err != nil {
		cr.errored(c, err.Error())
		return
	}
	base, err := ReadRecord(r.BaselineDir)
	if err != nil {
		cr.errored(c, "the baseline sign-off cannot be read: "+err.Error())
		return
	}
	cr.Gates = []Gate{}
	for j, pc := range r.Plan.Checks[:i] {
		if pc.Kind != KindCampaign {
			continue
		}
		name := c.Name + "." + pc.Name
		mine := rec.Checks[j]
		undecided := func(reason string) {
			cr.Gates = append(cr.Gates, Gate{Name: name, Check: c.Name, What: fmt.Sprintf("breaking point of %s not down beyond the runs' resolution against the baseline sign-off", pc.Name),
				Verdict: Undecided, Reason: reason})
		}
		if mine.Status != StatusDone {
			undecided(fmt.Sprintf("check %s has no result here (%s)", pc.Name, mine.Status))
			continue
		}
		var theirs *CheckRecord
		for k := range base.Checks {
			if base.Checks[k].Name == pc.Name && base.Checks[k].Kind == KindCampaign {
				theirs = &base.Checks[k]
			}
		}
		if theirs == nil || theirs.Status != StatusDone || theirs.Dir == "" {
			undecided(fmt.Sprintf("the baseline sign-off has no result of check %s", pc.Name))
			continue
		}
		runSide, err := baseline.Load(filepath.Join(r.Dir, mine.Dir))
		if err != nil {
			undecided("this sign-off's run cannot be read: " + err.Error())
			continue
		}
		baseSide, err := baseline.Load(filepath.Join(r.BaselineDir, theirs.Dir))
		if err != nil {
			undecided("the baseline's run cannot be read: " + err.Error())
			continue
		}
		res := baseline.Compare(runSide, baseSide)
		evidence := filepath.Join(cr.Dir, pc.Name+".json")
		if err := atomicfile.Write(filepath.Join(r.Dir, evidence), res.WriteJSON); err != nil {
			fmt.Fprintf(r.Log, "loadgen: writing the regression's evidence: %v\n", err)
			evidence = "" // a gate names no file it could not write
		}
		cr.Gates = append(cr.Gates, JudgeRegression(c.Name, pc.Name, res, evidence))
	}
	if len(cr.Gates) == 0 {
		cr.Gates = Unjudged(c, Undecided, "no campaign check precedes the regression check", "")
	}
}

// finish decides the verdict and writes signoff.json and the reports.
func (r *Runner) finish(rec *Record, incomplete bool) error {
	rec.Gates = []Gate{}
	rec.NotChecked = []string{}
	for _, cr := range rec.Checks {
		rec.Gates = append(rec.Gates, cr.Gates...)
		switch cr.Status {
		case StatusSkipped:
			rec.NotChecked = append(rec.NotChecked, fmt.Sprintf("%s (%s): %s", cr.Name, cr.Kind, cr.Note))
		case StatusPending, StatusInterrupted:
			rec.NotChecked = append(rec.NotChecked, fmt.Sprintf("%s (%s): not run yet (%s)", cr.Name, cr.Kind, cmp.Or(cr.Note, "the sign-off stopped before it")))
		case StatusDone:
			for _, g := range cr.Gates {
				if g.Verdict == Skipped {
					rec.NotChecked = append(rec.NotChecked, g.Name+": "+g.Reason)
				}
			}
		}
	}
	rec.Verdict = Decide(rec.Gates, incomplete)
	now := time.Now().UTC()
	if !incomplete {
		rec.FinishedAt = &now
	}
	var err error
	count := map[GateVerdict]int{}
	for _, g := range rec.Gates {
		count[g.Verdict]++
	}
	tally := fmt.Sprintf("%d gates: %d passed, %d failed, %d inconclusive, %d skipped", len(rec.Gates), count[Pass], count[Fail], count[Undecided], count[Skipped])
	switch rec.Verdict {
	case SignedOff:
		rec.ExitCode, rec.Summary = exitcode.OK, "SIGNED-OFF: every gate that applies passed ("+tally+")"
	case Rejected:
		var failed []string
		for _, g := range rec.Gates {
			if g.Verdict == Fail {
				failed = append(failed, g.Name)
			}
		}
		rec.ExitCode, rec.Summary = exitcode.GateFailed, "REJECTED: "+strings.Join(failed, ", ")+" failed ("+tally+")"
		err = exitcode.Newf(exitcode.GateFailed, "sign-off REJECTED: gate %s failed", strings.Join(failed, ", "))
	case Inconclusive:
		rec.ExitCode, rec.Summary = exitcode.Inconclusive, "INCONCLUSIVE: no gate failed, but not every gate could be decided ("+tally+")"
		err = exitcode.Newf(exitcode.Inconclusive, "sign-off INCONCLUSIVE: not every gate could be decided (never counted as a pass)")
	case Incomplete:
		rec.ExitCode, rec.Summary = exitcode.Interrupted, "INCOMPLETE: the sign-off stopped before its end (interrupted, or the target did not answer); loadgen signoff --resume "+r.Dir+" continues it"
		err = exitcode.Newf(exitcode.Interrupted, "sign-off incomplete: interrupted or target unreachable; loadgen signoff --resume %s continues it", r.Dir)
	}
	if serr := r.save(rec); serr != nil {
		return serr
	}
	if werr := WriteReports(r.Dir, rec); werr != nil {
		return exitcode.New(exitcode.Failed, werr)
	}
	fmt.Fprintf(r.Stdout, "\n%s\n", rec.Summary)
	for _, g := range rec.Gates {
		fmt.Fprintf(r.Stdout, "  %-12s %s\n", strings.ToUpper(string(g.Verdict)), g.Name)
	}
	fmt.Fprintf(r.Stdout, "Sign-off directory: %s (signoff.md, signoff.html, signoff.json, junit.xml)\n", r.Dir)
	return err
}

// save writes signoff.json atomically.
func (r *Runner) save(rec *Record) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return exitcode.New(exitcode.Failed, err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(r.Dir, RecordFile), append(b, '\n')); err != nil {
		return exitcode.New(exitcode.Failed, err)
	}
	return nil
}

// ReadRecord reads dir/signoff.json.
func ReadRecord(dir string) (*Record, error) {
	b, err := os.ReadFile(filepath.Join(dir, RecordFile))
	if err != nil {
		return nil, err
	}
	var rec Record
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, RecordFile), err)
	}
	if rec.Schema != Schema {
		return nil, fmt.Errorf("%s: schema %q: want %q", filepath.Join(dir, RecordFile), rec.Schema, Schema)
	}
	return &rec, nil
}

// preflight runs the pre-scaling checklist (session/preflight, as `loadgen
// preflight` runs it) for the plan's service and target, writes its JSON
// report into the check's directory and judges its items. It reports
// whether the sign-off must stop: interrupted, or the target did not
// answer.
func (r *Runner) preflight(ctx context.Context, i int, cr *CheckRecord) (stop bool) {
	c := r.Plan.Checks[i]
	dir := filepath.Join(r.Dir, cr.Dir)
	errored := func(note string) bool { return cr.errored(c, note) }
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return errored(err.Error())
	}
	maxRPS := 0.0
	for j, pc := range r.Plan.Checks {
		if pc.Kind == KindCampaign {
			if cfg, err := r.Plan.CampaignConfig(j, r.Quick, r.Target); err == nil {
				maxRPS = max(maxRPS, float64(cfg.Max))
			}
		}
	}
	cfg := source.Config{Kubeconfig: r.Kubeconfig, InstanceType: preflight.GuideInstanceType, MinNodes: preflight.GuideMinNodes,
		AlertsNamespace: preflight.GuideAlertsNS, AlertsSelector: preflight.GuideAlertsSelector, MinConnections: preflight.GuideMinConnections,
		// The target's password stays out of the probe and its report: a
		// health endpoint answers without it.
		Target: redact.URL(r.Target), HealthPath: r.Plan.Svc().Profile().HealthPath, MaxRPS: maxRPS, Calibrate: true,
		Skip: c.Skip, Format: "json", Progress: r.Log,
		FindK6: func(string) ([]string, error) { return r.K6, nil }}
	list, err := cfg.Open()
	if err != nil {
		return errored(err.Error())
	}
	path := filepath.Join(dir, "preflight.json")
	f, err := os.Create(path)
	if err != nil {
		return errored(err.Error())
	}
	err = list.Run(ctx, f)
	if cerr := f.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if ctx.Err() != nil {
		cr.Status, cr.Note, cr.Gates = StatusInterrupted, "interrupted: --resume runs it again", []Gate{}
		return true
	}
	if err != nil && exitcode.Of(err) != exitcode.GateFailed {
		return errored(err.Error())
	}
	b, rerr := os.ReadFile(path)
	var rep preflight.Report
	if rerr == nil {
		rerr = json.Unmarshal(b, &rep)
	}
	if rerr != nil {
		return errored("reading its report: " + rerr.Error())
	}
	cr.Status = StatusDone
	cr.Gates = JudgePreflight(c, rep, cr.Dir+"/preflight.json")
	for _, item := range rep.Checks {
		if item.ID == preflight.TargetID && item.Status != preflight.OK && !item.SkippedByUser {
			cr.Status, cr.Note, cr.Gates = StatusInterrupted, "target unreachable: "+item.Detail+": --resume runs it again", []Gate{}
			return true
		}
	}
	return false
}

// errored records that check c could not run to a result (not the
// target's doing): its gates are inconclusive. The sign-off goes on.
func (cr *CheckRecord) errored(c Check, note string) (stop bool) {
	cr.Status, cr.Note = StatusErrored, note
	cr.Gates = Unjudged(c, Undecided, "the check could not run to a result: "+note, cr.Dir)
	return false
}

// sweep runs a replica sweep (session/sweep, as `loadgen sweep` runs it:
// the embedded target scaled in-process, a Deployment through the
// Kubernetes API) and judges its efficiency. It reports whether the
// sign-off must stop.
func (r *Runner) sweep(ctx context.Context, i int, cr *CheckRecord) (stop bool) {
	c := r.Plan.Checks[i]
	dir := filepath.Join(r.Dir, cr.Dir)
	errored := func(note string) bool { return cr.errored(c, note) }
	cfg, err := r.Plan.CampaignConfig(i, r.Quick, r.Target)
	if err != nil {
		return errored(err.Error())
	}
	cfg.TargetCapacityFactor = r.Factor
	sec, err := session.ReadSecrets(cfg)
	if err != nil {
		return errored(err.Error())
	}
	cfg.Target = sec.TargetURL(cfg.Target)
	counts := make([]string, len(c.Counts))
	for k, n := range c.Counts {
		counts[k] = fmt.Sprint(n)
	}
	o := sweep.Options{Config: cfg, Replicas: strings.Join(counts, ","), Kubeconfig: r.Kubeconfig, ReadyTimeout: 5 * time.Minute,
		Out: dir, Given: func(string) bool { return false }}
	if rec, rerr := sweep.Read(dir); rerr == nil && rec.Status != sweep.Completed {
		o.Resume = dir
	} else if rerr == nil {
		if err := os.RemoveAll(dir); err != nil { // ended but not judged: run it again
			return errored(err.Error())
		}
	}
	p, err := o.Plan()
	if err != nil {
		return errored(err.Error())
	}
	baseURL, scaler, stopTarget, err := p.Start(true, r.Stdin, r.Log)
	defer stopTarget()
	if err != nil {
		return errored(err.Error())
	}
	baseURL = sec.BaseURL(baseURL)
	s := p.Sweep(baseURL, scaler, r.Log, func(ctx context.Context, cfg campaign.Config, dir string, prev *runrecord.Run) (*runrecord.Run, error) {
		sec, err := session.ReadSecrets(cfg)
		if err != nil {
			return nil, err
		}
		sec.TargetURL(baseURL)
		ss := &session.Session{Config: cfg, Reopened: prev, Log: r.Log, Observers: []session.Observer{session.Reports{}},
			Setup: stress.Setup{Dir: dir, Env: sec.Environ(os.Environ()), Secrets: sec.Values(), K6: r.K6, BaseURL: baseURL,
				Versions: runrecord.Versions{Loadgen: r.Versions.Loadgen, K6: r.Versions.K6, Go: r.Versions.Go, GitCommit: r.Versions.GitCommit}}}
		if ss.Progress, err = live.Observers(ctx, r.Log, r.Plain, ""); err != nil {
			return nil, err
		}
		out, err := ss.Run(ctx)
		if out == nil {
			return nil, err
		}
		return out.Run, err
	})
	err = s.Run(ctx)
	if ferr := sweep.WriteFiles(dir, s.Record); ferr != nil {
		fmt.Fprintf(r.Log, "loadgen: writing the sweep report: %v\n", ferr)
	}
	switch {
	case errors.Is(err, sweep.ErrInterrupted):
		cr.Status, cr.Note, cr.Gates = StatusInterrupted, "interrupted: --resume continues the sweep", []Gate{}
		return true
	case errors.Is(err, stress.ErrUnreachable):
		cr.Status, cr.Note, cr.Gates = StatusInterrupted, s.Record.AbortReason+": --resume continues the sweep", []Gate{}
		return true
	case err != nil:
		return errored(err.Error())
	}
	e := c.Gates.Efficiency
	docEff, fig, tol := e.Value, "the plan's literal value", e.Tolerance
	if e.Benchmark != "" {
		var n int
		docEff, n, _ = DocumentedEfficiency(guides.Documented(r.Plan.Svc()), e.Benchmark)
		fig = fmt.Sprintf("%s at %d replicas", e.Benchmark, n)
	}
	if tol == 0 {
		tol = compare.DefaultTolerance
	}
	cr.Status = StatusDone
	cr.Gates = JudgeSweep(c, s.Record, docEff, fig, tol, cr.Dir+"/sweep.json")
	return false
}

// autoscale runs the HPA check under a surge (session/autoscale, as
// `loadgen autoscale` runs it: the embedded target's own HPA, a `loadgen
// target --hpa`'s admin API, or a real service's HPA with kube_hpa) and
// turns its checks into gates. It reports whether the sign-off must stop.
func (r *Runner) autoscale(ctx context.Context, i int, cr *CheckRecord) (stop bool) {
	c := r.Plan.Checks[i]
	dir := filepath.Join(r.Dir, cr.Dir)
	errored := func(note string) bool { return cr.errored(c, note) }
	svc := r.Plan.Svc()
	phases, ts := cmp.Or(c.Phases, autoscale.DefaultPhases), cmp.Or(c.TimeScale, 1)
	if r.Quick {
		phases, ts = cmp.Or(c.QuickPhases, phases), cmp.Or(c.QuickTimeScale, ts)
	}
	p95 := 2000.0 // loadgen autoscale's default: the GL-008 load test's threshold
	if l := c.Gates.P95Ms; l != nil {
		p95 = l.Value
		if l.Benchmark != "" {
			v, err := LatencyLimitMs(guides.Documented(svc), guides.Selection{}, l.Benchmark)
			if err != nil {
				return errored(err.Error())
			}
			p95 = v
		}
	}
	if err := os.RemoveAll(dir); err != nil { // a run is not continued: it starts again
		return errored(err.Error())
	}
	o := autoscale.Options{Target: r.Target, HPA: cmp.Or(c.HPA, guides.Key(svc)), Phases: phases, Endpoint: cmp.Or(c.Endpoint, svc.Profile().Endpoints[0]),
		Out: dir, KubeHPA: c.KubeHPA, Kubeconfig: r.Kubeconfig, TimeScale: 1, P95LimitMs: p95, MaxErrorRate: 0.01, RecoverySeconds: 5,
		PodStartup: reftarget.DefaultPodStartup, Yes: true, K6: r.K6, In: r.Stdin, Log: r.Log, Given: func(string) bool { return false }}
	if r.Target == campaign.EmbeddedTarget {
		o.TimeScale = ts
		o.KubeHPA = "" // the embedded target runs the HPA itself
	}
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	cfg, stopTarget, err := autoscale.Prepare(actx, o)
	defer stopTarget()
	if err != nil {
		return errored(err.Error())
	}
	rec, err := autoscale.Run(actx, cfg)
	if ctx.Err() != nil {
		cr.Status, cr.Note, cr.Gates = StatusInterrupted, "interrupted: --resume runs it again", []Gate{}
		return true
	}
	if err != nil && rec == nil {
		if errors.Is(err, autoscale.ErrK6) {
			return errored(err.Error())
		}
		cr.Status, cr.Note, cr.Gates = StatusInterrupted, "the target was lost: "+err.Error()+": --resume runs it again", []Gate{}
		return true
	}
	if err != nil {
		return errored(err.Error())
	}
	cr.Status = StatusDone
	cr.Gates = JudgeAutoscale(c, rec, cr.Dir+"/"+autoscale.RecordFile)
	return false
}

// CheckPlan says whether plan (plan.yaml as read back) is the plan the
// record was started with: its SHA-256 is the one recorded.
func (rec *Record) CheckPlan(plan []byte) error {
	for _, in := range rec.Inputs {
		if in.Path == PlanFile {
			if in.SHA256 != sum(plan) {
				return fmt.Errorf("%s is not the plan this sign-off started with (its SHA-256 differs from signoff.json's): a sign-off is continued with its own plan", PlanFile)
			}
			return nil
		}
	}
	return fmt.Errorf("signoff.json records no %s", PlanFile)
}
