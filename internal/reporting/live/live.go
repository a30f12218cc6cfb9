// Package live shows a campaign while it runs: progress bars on a terminal
// (the campaign and the current step), one plain line per step elsewhere
// (CI logs), and Prometheus gauges for dashboards. Each is a stress.Observer.
package live

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/greenlang/loadgen/internal/core/campaign"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/greenlang/loadgen/internal/core/ramp"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/core/stress"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// StepLine renders a finished step as one line.
func StepLine(s runrecord.Step) string {
	line := fmt.Sprintf("step %2d %-8s %6.0f req/s → %8.1f achieved  p95 %8.1f ms  p99 %8.1f ms  errors %6d (%5.2f%%)  %-7s",
		s.Index, s.Phase, s.OfferedRPS, s.AchievedRPS, s.LatencyMs.P95, s.LatencyMs.P99, s.Errors, s.ErrorRate*100, s.Verdict)
	if len(s.Reasons) > 0 {
		line += " " + s.Reasons.String()
	}
	return line
}

// Interval renders where the breaking point is known to be.
func Interval(p ramp.Progress) string {
	switch {
	case p.HiIsCeiling && p.Lo > 0:
		return fmt.Sprintf("passing up to %d req/s; the generator cannot offer %d req/s", p.Lo, p.Hi)
	case p.HiIsCeiling:
		return fmt.Sprintf("the generator cannot offer %d req/s", p.Hi)
	case p.Lo > 0 && p.Hi > 0:
		return fmt.Sprintf("breaking point in (%d, %d] req/s", p.Lo, p.Hi)
	case p.Hi > 0:
		return fmt.Sprintf("breaking point ≤ %d req/s", p.Hi)
	case p.Lo > 0:
		return fmt.Sprintf("passing up to %d req/s", p.Lo)
	}
	return "no step judged yet"
}

// stepState accumulates the current step's live figures.
type stepState struct {
	mu       sync.Mutex
	info     stress.StepInfo
	lastRate float64
	lastP95  float64
	errors   int64
	dropped  int64
}

func (s *stepState) reset(info stress.StepInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.info = info
	s.lastRate, s.lastP95, s.errors, s.dropped = 0, 0, 0, 0
}

func (s *stepState) add(sec measure.Second) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !sec.Late {
		s.lastRate = float64(sec.Requests)
		s.lastP95 = sec.P95Millis
	}
	s.errors += sec.Errors
	s.dropped += sec.DroppedIterations
}

func (s *stepState) describe() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("offered %d/s · achieved %.0f/s · p95 %.1f ms · errors %d · dropped %d",
		s.info.RPS, s.lastRate, s.lastP95, s.errors, s.dropped)
}

// Terminal draws two progress bars: the campaign (step i of n, and the
// interval the breaking point is in) and the current step (elapsed, live
// offered and achieved rate, p95, errors). Finished steps scroll above.
type Terminal struct {
	p        *mpb.Progress
	campaign *mpb.Bar
	step     *mpb.Bar
	state    stepState
	mu       sync.Mutex
	progress ramp.Progress
	stop     chan struct{}
}

// NewTerminal returns a terminal view writing to w (a TTY).
func NewTerminal(w io.Writer) *Terminal {
	return &Terminal{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(32), mpb.WithRefreshRate(200*time.Millisecond)), stop: make(chan struct{})}
}

// Begin implements stress.Observer.
func (t *Terminal) Begin(run *runrecord.Run, p ramp.Progress) {
	fmt.Fprintf(t.p, "campaign %s → %s  (%s search%s, %s)\n", run.Scenario, run.Target, run.Config.Search, runnersNote(run.Config), run.Criteria)
	t.progress = p
	t.campaign = t.p.AddBar(int64(max(p.Total, 1)),
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
			t.mu.Lock()
			defer t.mu.Unlock()
			return fmt.Sprintf("campaign  step %d of ~%d", t.progress.Done+1, max(t.progress.Total, t.progress.Done+1))
		}, decor.WCSyncSpaceR)),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
			t.mu.Lock()
			defer t.mu.Unlock()
			return Interval(t.progress)
		})))
}

// StepStart implements stress.Observer.
func (t *Terminal) StepStart(s stress.StepInfo) {
	t.state.reset(s)
	t.mu.Lock()
	t.progress = s.Progress
	t.mu.Unlock()
	total := int64(s.Duration.Seconds())
	label := fmt.Sprintf("step %-3d  %d req/s %s", s.Index, s.RPS, s.Phase)
	if s.Attempt > 1 {
		label += fmt.Sprintf(" (attempt %d, %d–%d VUs)", s.Attempt, s.PreVUs, s.MaxVUs)
	}
	t.step = t.p.AddBar(total,
		mpb.BarRemoveOnComplete(),
		mpb.PrependDecorators(decor.Name(label, decor.WCSyncSpaceR)),
		mpb.AppendDecorators(decor.Elapsed(decor.ET_STYLE_GO), decor.Any(func(decor.Statistics) string { return "  " + t.state.describe() })))
	bar, start := t.step, time.Now()
	go func() {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				if bar.Completed() || bar.Aborted() {
					return
				}
				bar.SetCurrent(min(total, int64(time.Since(start).Seconds())))
			case <-t.stop:
				return
			}
		}
	}()
}

// Second implements stress.Observer.
func (t *Terminal) Second(s measure.Second) { t.state.add(s) }

// StepEnd implements stress.Observer.
func (t *Terminal) StepEnd(s runrecord.Step, p ramp.Progress) {
	if t.step != nil {
		t.step.Abort(true)
		t.step.Wait()
	}
	t.mu.Lock()
	t.progress = p
	t.mu.Unlock()
	t.campaign.SetTotal(int64(max(p.Total, p.Done+1)), false)
	t.campaign.SetCurrent(int64(p.Done))
	fmt.Fprintln(t.p, StepLine(s))
}

// Note implements stress.Observer.
func (t *Terminal) Note(msg string) { fmt.Fprintln(t.p, "  "+msg) }

// End implements stress.Observer.
func (t *Terminal) End(*runrecord.Run) {
	close(t.stop)
	if t.step != nil {
		t.step.Abort(true)
	}
	if t.campaign != nil {
		t.campaign.Abort(true)
	}
	t.p.Wait()
}

// Plain writes one line per step and per note: for logs and CI.
type Plain struct {
	w     io.Writer
	mu    sync.Mutex
	state stepState
}

// NewPlain returns a plain view writing to w.
func NewPlain(w io.Writer) *Plain { return &Plain{w: w} }

func (p *Plain) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}

// Begin implements stress.Observer.
func (p *Plain) Begin(run *runrecord.Run, _ ramp.Progress) {
	p.printf("campaign %s → %s  (%s search%s, %s)\n", run.Scenario, run.Target, run.Config.Search, runnersNote(run.Config), run.Criteria)
}

// StepStart implements stress.Observer.
func (p *Plain) StepStart(s stress.StepInfo) { p.state.reset(s) }

// Second implements stress.Observer.
func (p *Plain) Second(s measure.Second) { p.state.add(s) }

// StepEnd implements stress.Observer.
func (p *Plain) StepEnd(s runrecord.Step, pr ramp.Progress) {
	p.printf("%s  [%s]\n", StepLine(s), Interval(pr))
}

// Note implements stress.Observer.
func (p *Plain) Note(msg string) { p.printf("  %s\n", msg) }

// End implements stress.Observer.
func (p *Plain) End(*runrecord.Run) {}

// Multi fans events out to several observers.
type Multi []stress.Observer

// Begin implements stress.Observer.
func (m Multi) Begin(run *runrecord.Run, p ramp.Progress) {
	for _, o := range m {
		o.Begin(run, p)
	}
}

// StepStart implements stress.Observer.
func (m Multi) StepStart(s stress.StepInfo) {
	for _, o := range m {
		o.StepStart(s)
	}
}

// Second implements stress.Observer.
func (m Multi) Second(s measure.Second) {
	for _, o := range m {
		o.Second(s)
	}
}

// StepEnd implements stress.Observer.
func (m Multi) StepEnd(s runrecord.Step, p ramp.Progress) {
	for _, o := range m {
		o.StepEnd(s, p)
	}
}

// Note implements stress.Observer.
func (m Multi) Note(msg string) {
	for _, o := range m {
		o.Note(msg)
	}
}

// End implements stress.Observer.
func (m Multi) End(run *runrecord.Run) {
	for _, o := range m {
		o.End(run)
	}
}

// Observers composes what a campaign reports to: progress bars on a
// terminal, or one line per step (plain, or w no terminal), and live Prometheus gauges served
// at metricsAddr until ctx ends (none when it is ""), announced on w.
func Observers(ctx context.Context, w io.Writer, plain bool, metricsAddr string) (Multi, error) {
	var obs Multi
	if f, ok := w.(*os.File); plain || !ok || !term.IsTerminal(int(f.Fd())) {
		obs = append(obs, NewPlain(w))
	} else {
		obs = append(obs, NewTerminal(w))
	}
	if metricsAddr != "" {
		m := NewMetrics()
		addr, err := m.Serve(ctx, metricsAddr)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(w, "live metrics at http://%s/metrics\n", addr)
		obs = append(obs, m)
	}
	return obs, nil
}

// runnersNote says how the steps' load is generated, when not by one local
// k6: ", 3 runners" or ", 4 runners on k6-operator".
func runnersNote(c campaign.Config) string {
	n, runners := c.RunnerCount(), "runners"
	if n == 1 {
		runners = "runner"
	}
	switch {
	case c.Executor == campaign.K6OperatorExecutor:
		return fmt.Sprintf(", %d %s on k6-operator", n, runners)
	case n > 1:
		return fmt.Sprintf(", %d %s", n, runners)
	}
	return ""
}
