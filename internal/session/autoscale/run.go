package autoscale

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/k6step"
	"github.com/greenlang/loadgen/internal/core/ramp"
	"github.com/greenlang/loadgen/internal/core/stress"
	"github.com/greenlang/loadgen/internal/kit/atomicfile"
	"github.com/greenlang/loadgen/internal/kit/redact"
	"github.com/greenlang/loadgen/internal/kube/hpa"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// Config is one autoscale run.
type Config struct {
	// BaseURL is what k6 loads; Target how the record names it.
	BaseURL, Target string
	// Source reads the replicas; Admin is set when it is the reference
	// target's admin API (its HPA's syncs are then read exactly).
	Source Source
	Admin  *AdminSource
	// SourceName is "embedded", "admin-api" or "kubernetes".
	SourceName string
	Spec       *hpa.Spec
	HPAName    string
	// Phases are resolved (req/s); CapacityRPS what percents were of.
	Phases      []Phase
	CapacityRPS float64
	// TimeScale is wall seconds per HPA second (1 on a cluster); Sync the
	// controller's sync period.
	TimeScale float64
	Sync      time.Duration
	// Dir is the run directory (created).
	Dir string
	// K6 and Script run the load (Script: scenarios/autoscale.js).
	K6      []string
	Script  string
	Env     []string
	Secrets []string
	// Endpoint, Timeout: the script's ENDPOINT and per-request timeout.
	Endpoint string
	Timeout  time.Duration
	// P95LimitMs, MaxErrorRate, RecoverySeconds: see Observed.
	P95LimitMs, MaxErrorRate float64
	RecoverySeconds          int
	// Progress gets a line every ProgressEvery (nil: none).
	Progress      io.Writer
	ProgressEvery time.Duration
}

// File names in the run directory.
const (
	RecordFile  = "autoscale.json"
	SecondsFile = "seconds.ndjson"
	SyncsFile   = "hpa-syncs.json"
	ReportFile  = "report.md"
	ChartFile   = "autoscale.svg"
	HTMLFile    = "report.html"
)

// ErrK6 wraps a k6 that failed to run the profile.
var ErrK6 = errors.New("k6 failed")

type polled struct {
	at time.Time
	p  Poll
}

// Run drives the profile, records every second and judges. It writes the
// run directory's files even when ctx ends early (status interrupted).
func Run(ctx context.Context, cfg Config) (*Record, error) {
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	if cfg.TimeScale <= 0 {
		cfg.TimeScale = 1
	}
	first, err := cfg.Source.Poll(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the replicas: %w", err)
	}
	total := Total(cfg.Phases)
	maxRate := 0.0
	for _, p := range cfg.Phases {
		maxRate = math.Max(maxRate, p.RPS)
	}
	// The VU pools as the script sizes them, each phase its own (rate ×
	// 0.5 s, at least 10, growing to 4×): k6 counts them together.
	pre := 0
	for _, p := range cfg.Phases {
		pre += max(10, int(math.Ceil(p.RPS*0.5)))
	}
	maxVUs := 4 * pre

	// Poll once a second while k6 runs.
	var (
		mu    sync.Mutex
		polls = []polled{{time.Now(), first}}
	)
	pollCtx, stopPoll := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-pollCtx.Done():
				return
			case <-t.C:
				p, err := cfg.Source.Poll(pollCtx)
				if err == nil {
					mu.Lock()
					polls = append(polls, polled{time.Now(), p})
					mu.Unlock()
				}
			}
		}
	}()
	runner := &k6step.Runner{K6: cfg.K6, Script: cfg.Script, Dir: cfg.Dir, Env: cfg.Env, Redact: cfg.Secrets, StopGrace: 10 * time.Second}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = campaign.DefaultTimeout
	}
	spec := k6step.Spec{Index: 1, Attempt: 1, RPS: int(maxRate), Duration: total, PreVUs: pre, MaxVUs: maxVUs, RequestTimeout: timeout,
		// VUS and MAX_VUS empty: the script sizes each phase's pool for its own rate.
		ScriptEnv: map[string]string{"BASE_URL": cfg.BaseURL, "PHASES": Env(cfg.Phases), "ENDPOINT": cfg.Endpoint,
			"TIMEOUT": fmt.Sprintf("%dms", timeout.Milliseconds()), "VUS": "", "MAX_VUS": ""}}
	if redact.Password(cfg.BaseURL) != "" {
		delete(spec.ScriptEnv, "BASE_URL") // in k6's environment (Config.Env), never on its command line
	}
	started := time.Now()
	var lastProgress time.Time
	res, runErr := runner.Run(ctx, spec, func(s measure.Second) {
		mu.Lock()
		defer mu.Unlock()
		if cfg.Progress != nil && time.Since(lastProgress) >= cfg.ProgressEvery {
			lastProgress = time.Now()
			p := polls[len(polls)-1].p
			el := time.Duration(time.Since(started).Seconds()) * time.Second
			_, ph := At(cfg.Phases, el)
			fmt.Fprintf(cfg.Progress, "%5s  %-6s offered %5.0f req/s  served %5d  errors %4d  p95 %7.1f ms  replicas %d (ready %d)\n",
				el, ph.Name, ph.RPS, s.OK, s.Errors, measure.Merge(s).OKPercentiles().P95Millis, p.Desired, p.Ready)
		}
	})
	stopPoll()
	wg.Wait()
	finished := time.Now()

	rec := &Record{Schema: Schema, Status: "completed", Target: cfg.Target, Source: cfg.SourceName, HPA: cfg.HPAName, Spec: cfg.Spec.Describe(),
		StartedAt: started.UTC(), FinishedAt: finished.UTC(), CapacityRPS: cfg.CapacityRPS, TimeScale: cfg.TimeScale, SyncS: cfg.Sync.Seconds(),
		Initial: first.Desired, P95LimitMs: cfg.P95LimitMs, MaxErrorRate: cfg.MaxErrorRate,
		SecondsFile: SecondsFile, K6SecondsFile: res.SecondsFile, K6LogFile: res.LogFile}
	switch {
	case ctx.Err() != nil:
		rec.Status, rec.AbortReason = "interrupted", "interrupted before the profile ended"
	case runErr != nil:
		rec.Status, rec.AbortReason = "aborted", runErr.Error()
	}
	began := res.Began
	if began.IsZero() {
		began = started
	}
	kSecs := map[int64]measure.Window{}
	for _, s := range res.Seconds { // late supplements folded in
		w := kSecs[s.StartUnix]
		w.Add(s)
		kSecs[s.StartUnix] = w
	}
	secs := joinSeconds(cfg, began, total, kSecs, polls)
	if len(secs) > 0 {
		rec.Initial = initialDesired(polls, began, first.Desired)
	}
	obs := Observed{Spec: cfg.Spec, Sync: cfg.Sync, Initial: rec.Initial, Seconds: secs, P95LimitMs: cfg.P95LimitMs,
		MaxErrorRate: cfg.MaxErrorRate, RecoverySeconds: cfg.RecoverySeconds, TimeScale: cfg.TimeScale}
	obs.Spans = spans(cfg.Phases, cfg.TimeScale)
	if cfg.Admin != nil {
		if err := exactHistory(ctx, cfg, &obs, began, rec); err != nil {
			obs.Events, obs.Recs = sampled(cfg.Spec, secs)
			obs.Slack = 1 / cfg.TimeScale
		}
	} else {
		obs.Events, obs.Recs = sampled(cfg.Spec, secs)
		obs.Slack = 1 / cfg.TimeScale
		// A cluster's controller: the simulation, run over the metrics it
		// read, predicts its replicas.
		obs.Simulate = true
		obs.Prediction, obs.PredictionErr = Predict(cfg.Spec, cfg.Sync, rec.Initial, secs)
		rec.Prediction = obs.Prediction
	}
	rec.Events, rec.Exact = obs.Events, obs.Exact
	if rec.Events == nil {
		rec.Events = []Event{}
	}
	// The generator's health over the whole run, as a stress step judges it.
	ccfg := campaign.Defaults()
	ccfg.StepDuration, ccfg.Warmup, ccfg.Timeout = campaign.Duration(total), 0, campaign.Duration(timeout)
	// The target's own limits count first, as in a stress step: drops while
	// the target broke them are the target's, not the VU pool's.
	ccfg.P95Ms, ccfg.MaxErrorRate, ccfg.MaxErrors = cfg.P95LimitMs, cfg.MaxErrorRate, 0
	step := stress.Measure(ccfg, ramp.Step{RPS: int(maxRate)}, res, 1, 1, pre, maxVUs)
	if g := step.Generator; g != nil {
		rec.Generator = g
		obs.GeneratorBound = g.Bound
		obs.GeneratorReason = fmt.Sprintf("k6 used %.0f%% of the CPU it may use, timers up to %.1f ms late (p99), %d arrivals dropped",
			g.CPU*100, g.LagP99Ms, g.DroppedIterations)
		if g.Bound && len(g.Evidence) > 0 {
			obs.GeneratorReason = g.Evidence[0]
		}
	} else {
		obs.GeneratorReason = "k6's own CPU was not measured"
	}
	rec.Checks, rec.Verdict = Judge(obs)
	Bounds(cfg.Spec, obs.Events, secs, obs.Slack)
	if rec.Status != "completed" {
		rec.Verdict = Inconclusive
	}
	rec.Phases = obs.Spans
	rec.Summarize(secs)
	if err := writeFiles(cfg.Dir, rec, secs); err != nil {
		return rec, err
	}
	if runErr != nil && ctx.Err() == nil {
		return rec, fmt.Errorf("%w: %v", ErrK6, runErr)
	}
	return rec, ctx.Err()
}

// initialDesired is the desired replicas at the last poll before the load.
func initialDesired(polls []polled, began time.Time, def int32) int32 {
	r := def
	for _, p := range polls {
		if !p.at.After(began) {
			r = p.p.Desired
		}
	}
	return r
}

// spans puts the phases on the HPA's clock.
func spans(ps []Phase, scale float64) []Span {
	var out []Span
	start := 0.0
	for _, p := range ps {
		end := start + p.Duration.Seconds()
		out = append(out, Span{Name: p.Name, RPS: p.RPS, StartS: start / scale, EndS: end / scale, WallStartS: start, WallEndS: end})
		start = end
	}
	return out
}

// joinSeconds puts k6's seconds and the polls side by side, one record per
// second of the profile.
func joinSeconds(cfg Config, began time.Time, total time.Duration, kSecs map[int64]measure.Window, polls []polled) []Second {
	sort.Slice(polls, func(i, j int) bool { return polls[i].at.Before(polls[j].at) })
	b := began.Unix()
	n := int(total.Seconds())
	out := make([]Second, 0, n)
	pi := -1
	for i := 0; i < n; i++ {
		unix := b + int64(i)
		_, ph := At(cfg.Phases, time.Duration(i)*time.Second)
		s := Second{T: float64(i), HPAT: float64(i) / cfg.TimeScale, Unix: unix, Phase: ph.Name, OfferedRPS: ph.RPS}
		if k, ok := kSecs[unix]; ok {
			s.AchievedRPS, s.OK, s.Errors, s.Dropped = float64(k.Requests), k.OK, k.Errors, k.DroppedIterations
			s.P95Ms = k.OKPercentiles().P95Millis
		}
		end := time.Unix(unix+1, 0)
		for pi+1 < len(polls) && polls[pi+1].at.Before(end) {
			pi++
		}
		if pi >= 0 {
			p := polls[pi].p
			s.Desired, s.Ready, s.Known, s.Metrics, s.Seen = p.Desired, p.Ready, true, p.Metrics, p.Seen
		}
		out = append(out, s)
	}
	return out
}

// sampled derives the scale events and recommendations from the seconds.
func sampled(spec *hpa.Spec, secs []Second) ([]Event, []Rec) {
	var ev []Event
	var recs []Rec
	var last int32 = -1
	for _, s := range secs {
		if !s.Known {
			continue
		}
		if last >= 0 && s.Desired != last {
			ev = append(ev, Event{T: s.HPAT, From: last, To: s.Desired})
		}
		last = s.Desired
		if r, ok := Recommend(spec, s.Desired, s.Metrics); ok {
			recs = append(recs, Rec{T: s.HPAT, Replicas: r})
		}
	}
	return ev, recs
}

// exactHistory reads the reference target's own syncs and puts them on
// the load's HPA clock.
func exactHistory(ctx context.Context, cfg Config, obs *Observed, began time.Time, rec *Record) error {
	hctx := ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		hctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
	}
	syncs, nowS, err := cfg.Admin.Syncs(hctx)
	if err != nil {
		return err
	}
	// The HPA's clock at the start of the load.
	offset := nowS - time.Since(began).Seconds()/cfg.TimeScale
	end := Total(cfg.Phases).Seconds() / cfg.TimeScale
	obs.Exact = true
	obs.Events, obs.Recs = nil, nil
	var kept []hpa.Decision
	for _, d := range syncs {
		t := d.AtS - offset
		if t < -cfg.Spec.Windows().Seconds() || t > end {
			continue
		}
		kept = append(kept, d)
		if d.Recorded {
			obs.Recs = append(obs.Recs, Rec{T: t, Replicas: d.Recommendation})
		}
		if t < 0 {
			obs.Initial = d.Desired
			continue
		}
		if d.Desired != d.Current {
			obs.Events = append(obs.Events, Event{T: t, From: d.Current, To: d.Desired})
		}
	}
	rec.Initial = obs.Initial
	rec.RecsFile = SyncsFile
	b, err := json.MarshalIndent(struct {
		OffsetS float64        `json:"hpa_clock_at_load_start_s"`
		Syncs   []hpa.Decision `json:"syncs"`
	}{offset, kept}, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(cfg.Dir, SyncsFile), b)
}

func writeFiles(dir string, rec *Record, secs []Second) error {
	if err := atomicfile.WriteBytes(filepath.Join(dir, SecondsFile), MarshalSeconds(secs)); err != nil {
		return err
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, RecordFile), append(b, '\n')); err != nil {
		return err
	}
	svg := Chart(rec, secs)
	if err := atomicfile.WriteBytes(filepath.Join(dir, ChartFile), []byte(svg)); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, ReportFile))
	if err != nil {
		return err
	}
	if err := Markdown(f, rec, ChartFile); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, HTMLFile), HTML(rec, svg))
}
