// Package junit writes a campaign as a JUnit XML report in the Ant/Surefire
// shape that Jenkins, GitLab and most CI systems read: one <testsuite> per
// run, one <testcase> per step (a failed step fails its test case with the
// verdict's reasons; an invalid or excluded step is skipped, with why), one
// for the campaign's own end, and one per gate (max sustainable vs
// --min-rps, the breaking point vs the guide's documented figure, the run vs
// a baseline run). Build is pure: a run and its comparisons in, the XML
// document's values out; Read parses a report back strictly.
package junit

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/greenlang/loadgen/internal/analysis/baseline"
	"github.com/greenlang/loadgen/internal/analysis/compare"
	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/kit/atomicfile"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
)

// Seconds is a duration in seconds, written with millisecond precision
// ("12.000"), as Surefire writes time attributes.
type Seconds float64

// MarshalXMLAttr writes the seconds as "%.3f".
func (s Seconds) MarshalXMLAttr(name xml.Name) (xml.Attr, error) {
	return xml.Attr{Name: name, Value: strconv.FormatFloat(max(float64(s), 0), 'f', 3, 64)}, nil
}

// UnmarshalXMLAttr reads a time attribute; it must be a non-negative number.
func (s *Seconds) UnmarshalXMLAttr(a xml.Attr) error {
	v, err := strconv.ParseFloat(a.Value, 64)
	if err != nil || v < 0 {
		return fmt.Errorf("attribute %s=%q: want a non-negative number of seconds", a.Name.Local, a.Value)
	}
	*s = Seconds(v)
	return nil
}

// Suites is the document's root, <testsuites>.
type Suites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Time     Seconds  `xml:"time,attr"`
	Suites   []Suite  `xml:"testsuite"`
}

// Suite is one <testsuite>: one campaign.
type Suite struct {
	Name       string      `xml:"name,attr"`
	Tests      int         `xml:"tests,attr"`
	Failures   int         `xml:"failures,attr"`
	Errors     int         `xml:"errors,attr"`
	Skipped    int         `xml:"skipped,attr"`
	Time       Seconds     `xml:"time,attr"`
	Timestamp  string      `xml:"timestamp,attr"`
	Hostname   string      `xml:"hostname,attr"`
	ID         string      `xml:"id,attr"`
	Package    string      `xml:"package,attr"`
	Properties *Properties `xml:"properties"`
	Cases      []Case      `xml:"testcase"`
	SystemOut  string      `xml:"system-out,omitempty"`
}

// Properties are a suite's name/value pairs.
type Properties struct {
	Items []Property `xml:"property"`
}

// Property is one <property name= value=>.
type Property struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// Case is one <testcase>. At most one of Failure, Error and Skipped is set;
// none is a pass.
type Case struct {
	Name      string   `xml:"name,attr"`
	Classname string   `xml:"classname,attr"`
	Time      Seconds  `xml:"time,attr"`
	Failure   *Problem `xml:"failure"`
	Error     *Problem `xml:"error"`
	Skipped   *Skip    `xml:"skipped"`
	SystemOut string   `xml:"system-out,omitempty"`
}

// Problem is a <failure> or an <error>: a one-line message, a short type,
// and the details as text.
type Problem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// Skip is a <skipped message=>: why a test case did not run.
type Skip struct {
	Message string `xml:"message,attr"`
}

// Input is what a JUnit report of a campaign is built from.
type Input struct {
	// Dir names the run directory (its base name) in the report.
	Dir string
	Run *runrecord.Run
	// Comparison is the breaking point against the guide's documented
	// figure; nil when it could not be made (the gate is then skipped).
	Comparison *compare.Result
	// ComparisonErr says why there is no comparison, when nil.
	ComparisonErr string
	// Baseline is the run against a baseline run; nil when none was given.
	Baseline *baseline.Result
	// Hostname is used when run.json does not name the generator's host.
	Hostname string
}

// Build makes the JUnit document of a campaign.
func Build(in Input) *Suites {
	run := in.Run
	cls := scenarioOf(run)
	s := Suite{Name: fmt.Sprintf("loadgen stress %s %s (%s)", cls, run.Config.Endpoint, in.Dir), Timestamp: run.StartedAt.UTC().Format("2006-01-02T15:04:05"),
		Hostname: run.Host, ID: "0", Package: "loadgen", Properties: properties(in)}
	if s.Hostname == "" {
		s.Hostname = in.Hostname
	}
	if s.Hostname == "" {
		s.Hostname = "unknown"
	}
	var caseTime float64
	for _, st := range run.Steps {
		c := stepCase(cls, st)
		caseTime += float64(c.Time)
		s.Cases = append(s.Cases, c)
	}
	s.Cases = append(s.Cases, campaignCase(cls, in), minRPSCase(cls, run), guideCase(cls, in), baselineCase(cls, in.Baseline))
	s.Time = Seconds(run.ElapsedS)
	if s.Time == 0 {
		s.Time = Seconds(caseTime)
	}
	for _, c := range s.Cases {
		switch {
		case c.Failure != nil:
			s.Failures++
		case c.Error != nil:
			s.Errors++
		case c.Skipped != nil:
			s.Skipped++
		}
	}
	s.Tests = len(s.Cases)
	s.SystemOut = summary(in)
	return &Suites{Name: "loadgen", Tests: s.Tests, Failures: s.Failures, Errors: s.Errors, Time: s.Time, Suites: []Suite{s}}
}

// Write writes the document with its XML declaration, indented.
func (s *Suites) Write(w io.Writer) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(s); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func scenarioOf(r *runrecord.Run) string {
	if r.Scenario != "" {
		return r.Scenario
	}
	return r.Config.Scenario
}

func properties(in Input) *Properties {
	r := in.Run
	p := &Properties{}
	add := func(name, value string) {
		if value != "" {
			p.Items = append(p.Items, Property{name, value})
		}
	}
	add("run_dir", in.Dir)
	add("scenario", scenarioOf(r))
	add("endpoint", r.Config.Endpoint)
	add("target", r.Target)
	add("replicas", strconv.Itoa(max(r.Config.Replicas, 1)))
	add("status", string(r.Status))
	add("started_at", r.StartedAt.UTC().Format(time.RFC3339))
	add("criteria", r.Criteria)
	add("search", r.Config.Search)
	add("loadgen_version", r.Versions.Loadgen)
	add("k6_version", r.Versions.K6)
	add("git_commit", r.Versions.GitCommit)
	return p
}

// stepName is a step's test case name: unique within the run (the step
// number is), and saying what it was.
func stepName(st runrecord.Step) string {
	n := fmt.Sprintf("step %02d %s %s req/s", st.Index, st.Phase, numfmt.Num(st.OfferedRPS))
	if st.Attempt > 1 {
		n += fmt.Sprintf(" (attempt %d)", st.Attempt)
	}
	return n
}

// stepTime is the step's wall time, or its judged window when the times
// are missing.
func stepTime(st runrecord.Step) Seconds {
	if d := st.FinishedAt.Sub(st.StartedAt).Seconds(); !st.StartedAt.IsZero() && d > 0 {
		return Seconds(numfmt.Round(d, 3))
	}
	return Seconds(st.DurationS)
}

func stepFigures(st runrecord.Step) string {
	l := st.LatencyMs
	if st.LatencyOKMs != nil {
		l = *st.LatencyOKMs
	}
	s := fmt.Sprintf("offered %s req/s, achieved %s req/s over a %s s window; %d requests, %d errors (%s%%); latency of successful requests p50 %s ms, p95 %s ms, p99 %s ms; dropped iterations %d",
		numfmt.Num(st.OfferedRPS), numfmt.Num(st.AchievedRPS), numfmt.Num(st.DurationS), st.Requests, st.Errors,
		numfmt.Num(numfmt.Round(st.ErrorRate*100, 3)), numfmt.Num(l.P50), numfmt.Num(l.P95), numfmt.Num(l.P99), st.DroppedIterations)
	if g := st.Generator; g != nil {
		s += fmt.Sprintf("; generator: k6 CPU %s%% of %s CPUs, timer lag p99 %s ms", numfmt.Num(numfmt.Round(g.CPU*100, 1)),
			numfmt.Num(g.CPUsAllowed), numfmt.Num(g.LagP99Ms))
	}
	if st.SecondsFile != "" {
		s += "; seconds: " + st.SecondsFile
	}
	return s
}

func stepCase(cls string, st runrecord.Step) Case {
	c := Case{Name: stepName(st), Classname: cls, Time: stepTime(st), SystemOut: stepFigures(st)}
	reasons := st.Reasons.String()
	switch {
	case st.Excluded != "":
		c.Skipped = &Skip{Message: "excluded, does not count: " + st.Excluded}
	case st.Verdict == breakpoint.Fail:
		c.Failure = &Problem{Message: reasons, Type: "step failed: " + st.Reasons.Signals().String(),
			Text: strings.Join(append(st.Reasons.Strings(), stepFigures(st)), "\n")}
	case st.Verdict == breakpoint.Invalid:
		c.Skipped = &Skip{Message: "invalid (the load generator, not the target, limited the step; never counted against the target): " + reasons}
	case st.Verdict != breakpoint.Pass:
		c.Skipped = &Skip{Message: fmt.Sprintf("no verdict (%q)", st.Verdict)}
	}
	return c
}

// campaignCase is the campaign's own end: an error when it did not
// complete (interrupted, aborted, or the generator gave out first).
func campaignCase(cls string, in Input) Case {
	r := in.Run
	c := Case{Name: "campaign completed", Classname: cls, Time: Seconds(r.ElapsedS), SystemOut: breakpointLine(r)}
	switch {
	case r.Status == runrecord.Completed:
	case r.Status == runrecord.Inconclusive || (r.Generator != nil && r.Generator.Bound):
		c.Error = &Problem{Message: "inconclusive: " + r.Generator.Headline(), Type: "inconclusive", Text: breakpointLine(r)}
	default:
		msg := fmt.Sprintf("the campaign is %s", r.Status)
		if r.AbortReason != "" {
			msg += ": " + r.AbortReason
		}
		if r.Status == runrecord.Interrupted {
			msg += fmt.Sprintf(" (continue it with loadgen stress --resume %s)", in.Dir)
		}
		c.Error = &Problem{Message: msg, Type: string(r.Status), Text: breakpointLine(r)}
	}
	return c
}

func breakpointLine(r *runrecord.Run) string {
	bp := r.Breakpoint
	switch {
	case bp.Found && bp.MaxSustainableRPS > 0:
		return fmt.Sprintf("breaking point: max sustainable %s req/s, first failing %s req/s: %s", numfmt.Num(bp.MaxSustainableRPS), numfmt.Num(bp.FirstFailingRPS), bp.Reason)
	case bp.Found:
		return fmt.Sprintf("breaking point: the first rate tried, %s req/s, failed: %s", numfmt.Num(bp.FirstFailingRPS), bp.Reason)
	}
	return "breaking point: not found (" + bp.Reason + ")"
}

func minRPSCase(cls string, r *runrecord.Run) Case {
	floor := r.Config.MinRPS
	c := Case{Name: "gate: max sustainable ≥ --min-rps", Classname: cls}
	bp := r.Breakpoint
	switch {
	case floor <= 0:
		c.Skipped = &Skip{Message: "no floor set (--min-rps)"}
	case r.Status != runrecord.Completed:
		c.Name += " " + numfmt.Num(floor) + " req/s"
		c.Skipped = &Skip{Message: fmt.Sprintf("the campaign is %s: the --min-rps gate judges a completed campaign", r.Status)}
	case bp.MaxSustainableRPS < floor:
		c.Name += " " + numfmt.Num(floor) + " req/s"
		msg := fmt.Sprintf("max sustainable %s req/s is below --min-rps %s", numfmt.Num(bp.MaxSustainableRPS), numfmt.Num(floor))
		c.Failure = &Problem{Message: msg, Type: "gate failed", Text: breakpointLine(r)}
	default:
		c.Name += " " + numfmt.Num(floor) + " req/s"
		c.SystemOut = fmt.Sprintf("max sustainable %s req/s ≥ --min-rps %s", numfmt.Num(bp.MaxSustainableRPS), numfmt.Num(floor))
	}
	return c
}

func guideCase(cls string, in Input) Case {
	c := Case{Name: "gate: breaking point vs the documented figure", Classname: cls}
	res := in.Comparison
	if res == nil {
		why := in.ComparisonErr
		if why == "" {
			why = "no comparison with the guide was made"
		}
		c.Skipped = &Skip{Message: why}
		return c
	}
	p, ok := res.Primary()
	if !ok {
		c.Skipped = &Skip{Message: "not comparable: the guides document no figure for this run"}
		return c
	}
	label := ""
	if res.Calibration {
		label = " (" + compare.CalibrationNote + ")"
	}
	meas := string(p.Bound)
	if meas != "" {
		meas += " "
	}
	meas += numfmt.Num(p.Measured)
	if p.MeasuredLo != nil && p.MeasuredHi != nil && *p.MeasuredLo > 0 {
		meas = "in " + compare.Interval{Lo: *p.MeasuredLo, Hi: *p.MeasuredHi}.String()
	}
	line := fmt.Sprintf("%s: measured %s %s per pod, documented %s %s ±%s%% (%s): %s%s",
		p.Figure, meas, p.Unit, numfmt.Num(p.Documented), p.Unit, numfmt.Num(res.Tolerance*100), p.Section, p.Verdict, label)
	detail := strings.Join(append([]string{line, "basis: " + p.Basis}, res.Notes...), "\n")
	switch p.Verdict {
	case compare.Below:
		c.Failure = &Problem{Message: line, Type: "below the documented figure", Text: detail}
	case compare.Inconclusive:
		why := strings.TrimPrefix(p.Note, "inconclusive: ")
		if rn := p.ResolutionNeeded; why == "" && rn != nil {
			why = rn.Text
		}
		if why == "" {
			why = strings.Join(res.Notes, "; ")
		}
		c.Skipped = &Skip{Message: line + ": " + why}
	case compare.NotComparable:
		why := strings.Join(res.Notes, "; ")
		c.Skipped = &Skip{Message: "not comparable: " + line + ": " + why}
	default:
		c.SystemOut = detail
	}
	return c
}

func baselineCase(cls string, res *baseline.Result) Case {
	c := Case{Name: "gate: against the baseline run", Classname: cls}
	if res == nil {
		c.Skipped = &Skip{Message: "no baseline given (--baseline RUN)"}
		return c
	}
	// The name stays the same from night to night, whichever run is the
	// baseline, so that CI keeps one history for the gate.
	var b strings.Builder
	_ = res.WriteText(&b) // a strings.Builder does not fail
	reasons := strings.Join(res.Reasons, "; ")
	against := "against " + res.Baseline.Dir + ": "
	switch res.Verdict {
	case baseline.Regression:
		c.Failure = &Problem{Message: "regression " + against + reasons, Type: "regression", Text: b.String()}
	case baseline.Inconclusive:
		c.Skipped = &Skip{Message: "inconclusive " + against + reasons}
		c.SystemOut = b.String()
	default:
		c.SystemOut = b.String()
	}
	return c
}

func summary(in Input) string {
	r := in.Run
	lines := []string{
		fmt.Sprintf("run %s: scenario %s, endpoint %s, target %s, %d replica(s); status %s", in.Dir, scenarioOf(r), r.Config.Endpoint, r.Target, max(r.Config.Replicas, 1), r.Status),
		breakpointLine(r),
		"criteria: " + r.Criteria,
		fmt.Sprintf("%d steps, load time %s s, wall time %s s", len(r.Steps), numfmt.Num(r.StepTimeS), numfmt.Num(r.ElapsedS)),
	}
	if r.AbortReason != "" {
		lines = append(lines, "ended early: "+r.AbortReason)
	}
	return strings.Join(lines, "\n")
}

// ForRun builds the JUnit report of the run in dir from its comparison with
// the guide (nil when there is none: the guide gate is then skipped with
// why) and its comparison with a baseline (nil: none given).
func ForRun(dir string, run *runrecord.Run, guide *compare.Result, base *baseline.Result) *Suites {
	in := Input{Dir: runName(dir), Run: run, Comparison: guide, Baseline: base}
	in.Hostname, _ = os.Hostname()
	switch {
	case guide != nil:
	case len(run.Steps) == 0:
		in.ComparisonErr = "no step was run: nothing to compare with the guide"
	default:
		in.ComparisonErr = "the comparison with the guide could not be made"
	}
	return Build(in)
}

// WriteFile writes the report to path atomically: a reader (a CI step)
// sees the old file or the new one, never a torn one. A missing directory
// is bad input.
func WriteFile(path string, doc *Suites) error {
	err := atomicfile.Write(path, func(w io.Writer) error { return doc.Write(w) })
	if errors.Is(err, fs.ErrNotExist) {
		return exitcode.Usage("--junit %s: directory %s does not exist", path, filepath.Dir(path))
	}
	return err
}

// CheckPath fails early, before any load is sent, when path (--junit) names
// a file in a directory that does not exist, or a directory.
func CheckPath(path string) error {
	if path == "" {
		return nil
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
		return exitcode.Usage("--junit %s: directory %s does not exist", path, filepath.Dir(path))
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return exitcode.Usage("--junit %s is a directory: give a file name, e.g. %s", path, filepath.Join(path, "junit.xml"))
	}
	return nil
}

func runName(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return filepath.Base(abs)
	}
	return filepath.Base(filepath.Clean(dir))
}
