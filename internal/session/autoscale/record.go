package autoscale

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"strings"
	"time"

	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/internal/kit/texttable"
	"github.com/greenlang/loadgen/internal/reporting/chart"
)

// Schema names the autoscale.json format.
const Schema = "loadgen/autoscale/v1"

// Record is autoscale.json: the run, what was observed, and the verdict.
// The per-second records are in SecondsFile.
type Record struct {
	Schema     string    `json:"schema"`
	Status     string    `json:"status"` // completed, interrupted, aborted
	Target     string    `json:"target"`
	Source     string    `json:"source"` // embedded, admin-api, kubernetes
	HPA        string    `json:"hpa"`    // where the spec came from
	Spec       string    `json:"spec"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// CapacityRPS is what the percents of the profile are of.
	CapacityRPS float64 `json:"capacity_rps"`
	TimeScale   float64 `json:"time_scale"`
	SyncS       float64 `json:"sync_s"`
	Phases      []Span  `json:"phases"`
	Initial     int32   `json:"initial_replicas"`
	Events      []Event `json:"events"`
	// Exact says Events are the controller's own syncs; else sampled every
	// second.
	Exact bool `json:"events_exact"`
	// Prediction is the simulation over a cluster controller's metrics
	// (Predict), its scale events beside Events.
	Prediction     *Prediction `json:"prediction,omitempty"`
	P95LimitMs     float64     `json:"p95_limit_ms"`
	MaxErrorRate   float64     `json:"max_error_rate"`
	Checks         []Check     `json:"checks"`
	Verdict        Verdict     `json:"verdict"`
	Generator      any         `json:"generator,omitempty"`
	SecondsFile    string      `json:"seconds_file"`
	K6SecondsFile  string      `json:"k6_seconds_file"`
	K6LogFile      string      `json:"k6_log_file"`
	RecsFile       string      `json:"recommendations_file,omitempty"`
	AbortReason    string      `json:"abort_reason,omitempty"`
	Requests       int64       `json:"requests"`
	Errors         int64       `json:"errors"`
	PeakReplicas   int32       `json:"peak_replicas"`
	ReplicaSeconds float64     `json:"replica_seconds"`
	LoadedSeconds  int         `json:"loaded_seconds"`
}

// Summarize fills the totals from the seconds.
func (r *Record) Summarize(secs []Second) {
	for _, s := range secs {
		r.Requests += s.OK + s.Errors
		r.Errors += s.Errors
		if s.Known {
			r.PeakReplicas = max(r.PeakReplicas, s.Desired)
			r.ReplicaSeconds += float64(s.Ready)
		}
		if s.OfferedRPS > 0 {
			r.LoadedSeconds++
		}
	}
}

// Chart draws replicas, offered and achieved load, and p95 over the HPA's
// time, one panel each, with the phases marked.
func Chart(r *Record, secs []Second) string {
	x := func(s Second) float64 { return s.HPAT }
	xlabel := "HPA time since the load began (s)"
	if r.TimeScale != 1 {
		xlabel = fmt.Sprintf("HPA time since the load began (s; one HPA second took %s s of wall time)", numfmt.Num(r.TimeScale))
	}
	marks := func(c *chart.Chart) {
		for i, p := range r.Phases {
			c.VLines = append(c.VLines, chart.VLine{X: p.StartS, Color: "#888", Label: p.Name, Dash: "4 3", Thin: true, LabelRow: i % 2})
		}
	}
	rep := chart.New("replicas", "Replicas", xlabel, "replicas")
	rep.YZero, rep.Compact, rep.HideXLabel, rep.H = true, true, true, 260
	var desired, ready, allowed, predicted []chart.Point
	for _, s := range secs {
		if s.Known {
			desired = append(desired, chart.Point{X: x(s), Y: float64(s.Desired)})
			if r.Prediction != nil {
				predicted = append(predicted, chart.Point{X: x(s), Y: float64(s.Predicted)})
			}
			ready = append(ready, chart.Point{X: x(s), Y: float64(s.Ready)})
			if s.PolicyUp > 0 {
				allowed = append(allowed, chart.Point{X: x(s), Y: float64(s.PolicyUp)})
			}
		}
	}
	rep.Series = []chart.Series{
		{Name: "policy allows at most", Color: "#d62728", Pts: allowed, Line: true, Dash: "2 3", Width: 1},
		{Name: "desired (HPA)", Color: "#1f77b4", Pts: desired, Line: true},
		{Name: "ready", Color: "#2ca02c", Pts: ready, Line: true, Dash: "6 3"},
	}
	if len(predicted) > 0 {
		rep.Series = append(rep.Series, chart.Series{Name: "desired (simulation)", Color: "#ff7f0e", Pts: predicted, Line: true, Dash: "1 2", Width: 2})
	}
	marks(rep)
	load := chart.New("load", "Offered and achieved load", xlabel, "req/s")
	load.YZero, load.Compact, load.HideXLabel, load.H = true, true, true, 260
	var off, ach, errs []chart.Point
	for _, s := range secs {
		off = append(off, chart.Point{X: x(s), Y: s.OfferedRPS})
		ach = append(ach, chart.Point{X: x(s), Y: float64(s.OK)})
		errs = append(errs, chart.Point{X: x(s), Y: float64(s.Errors)})
	}
	load.Series = []chart.Series{
		{Name: "offered", Color: "#7f7f7f", Pts: off, Line: true, Dash: "5 3"},
		{Name: "served OK", Color: "#1f77b4", Pts: ach, Line: true},
		{Name: "errors", Color: "#d62728", Pts: errs, Line: true},
	}
	marks(load)
	lat := chart.New("p95", "p95 latency of successful requests", xlabel, "ms")
	lat.YZero, lat.Compact, lat.H = true, true, 280
	var p95 []chart.Point
	for _, s := range secs {
		if s.OK > 0 {
			p95 = append(p95, chart.Point{X: x(s), Y: s.P95Ms})
		}
	}
	lat.Series = []chart.Series{{Name: "p95", Color: "#9467bd", Pts: p95, Line: true}}
	lat.HLines = []chart.HLine{{Y: r.P95LimitMs, Color: "#d62728", Label: "limit " + numfmt.Num(r.P95LimitMs) + " ms", Dash: "4 3"}}
	marks(lat)
	if n := len(secs); n > 0 {
		for _, c := range []*chart.Chart{rep, load, lat} {
			c.XMin, c.XMax = 0, math.Max(secs[n-1].HPAT, 1)
		}
	}
	var b strings.Builder
	total := rep.H + load.H + lat.H
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="%s" viewBox="0 0 1000 %s">`+"\n", numfmt.Num(total), numfmt.Num(total))
	y := 0.0
	for _, c := range []*chart.Chart{rep, load, lat} {
		fmt.Fprintf(&b, `<g transform="translate(0,%s)">`+"\n%s</g>\n", numfmt.Num(y), c.SVG())
		y += c.H
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// Markdown writes report.md: verdict, checks, phases, scale events, and
// the chart file beside it.
func Markdown(w io.Writer, r *Record, svgFile string) error {
	e := &texttable.Errf{W: w}
	e.P("# HPA behaviour under load: %s\n", strings.ToUpper(string(r.Verdict)))
	e.P("- target: %s (%s)", r.Target, r.Source)
	e.P("- HPA (%s): %s", r.HPA, r.Spec)
	e.P("- started %s, %s status; %d requests, %d errors; capacity before the run %s req/s",
		r.StartedAt.UTC().Format(time.RFC3339), r.Status, r.Requests, r.Errors, numfmt.Num(numfmt.Round(r.CapacityRPS, 1)))
	if r.TimeScale != 1 {
		e.P("- the HPA ran on scaled time: one HPA second took %s s of wall time (sync every %s s of HPA time)", numfmt.Num(r.TimeScale), numfmt.Num(r.SyncS))
	}
	if r.AbortReason != "" {
		e.P("- ended early: %s", r.AbortReason)
	}
	e.P("")
	e.P("## Checks\n")
	var rows [][]string
	for _, c := range r.Checks {
		v := ""
		if c.ValueS != nil {
			v = numfmt.Num(*c.ValueS) + " s"
		}
		rows = append(rows, []string{c.Name, string(c.Verdict), v, c.Detail})
	}
	e.MD([]string{"check", "verdict", "time (HPA s)", "why"}, rows)
	e.P("\n## Phases\n")
	rows = nil
	for _, p := range r.Phases {
		rows = append(rows, []string{p.Name, numfmt.Num(p.RPS), numfmt.Num(numfmt.Round(p.StartS, 1)), numfmt.Num(numfmt.Round(p.EndS, 1))})
	}
	e.MD([]string{"phase", "req/s", "from (HPA s)", "to (HPA s)"}, rows)
	e.P("\n## Scale events\n")
	rows = [][]string{}
	for _, ev := range r.Events {
		rows = append(rows, []string{numfmt.Num(numfmt.Round(ev.T, 1)), fmt.Sprintf("%d → %d", ev.From, ev.To)})
	}
	if len(rows) == 0 {
		e.P("none (from %d replicas)", r.Initial)
	} else {
		e.MD([]string{"HPA s", "replicas"}, rows)
	}
	if p := r.Prediction; p != nil {
		e.P("\n## The simulation's scale events\n")
		e.P("over the controller's own metrics; its syncs at %s s + k × %s s, new pods ready in %s s\n", numfmt.Num(p.PhaseS), numfmt.Num(r.SyncS), numfmt.Num(p.StartupS))
		rows = [][]string{}
		for _, ev := range p.Events {
			rows = append(rows, []string{numfmt.Num(numfmt.Round(ev.T, 1)), fmt.Sprintf("%d → %d", ev.From, ev.To)})
		}
		if len(rows) == 0 {
			e.P("none (from %d replicas)", r.Initial)
		} else {
			e.MD([]string{"HPA s", "replicas"}, rows)
		}
	}
	e.P("\n![replicas, load and p95 over time](%s)", svgFile)
	return e.Err
}

// HTML is a self-contained page: the Markdown's content and the chart inline.
func HTML(r *Record, svg string) []byte {
	var b bytes.Buffer
	b.WriteString("<!doctype html><html><head><meta charset=\"utf-8\"><title>loadgen autoscale</title>" +
		"<style>body{font-family:sans-serif;max-width:1040px;margin:1em auto}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}table{border-collapse:collapse}</style></head><body>\n")
	fmt.Fprintf(&b, "<h1>HPA behaviour under load: %s</h1>\n<p>%s — HPA %s: %s</p>\n<table><tr><th>check</th><th>verdict</th><th>time (HPA s)</th><th>why</th></tr>\n",
		html.EscapeString(strings.ToUpper(string(r.Verdict))), html.EscapeString(r.Target), html.EscapeString(r.HPA), html.EscapeString(r.Spec))
	for _, c := range r.Checks {
		v := ""
		if c.ValueS != nil {
			v = numfmt.Num(*c.ValueS)
		}
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n", html.EscapeString(c.Name), html.EscapeString(string(c.Verdict)), v, html.EscapeString(c.Detail))
	}
	b.WriteString("</table>\n")
	b.WriteString(svg)
	b.WriteString("</body></html>\n")
	return b.Bytes()
}

// MarshalSeconds writes the seconds as NDJSON.
func MarshalSeconds(secs []Second) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, s := range secs {
		_ = enc.Encode(s)
	}
	return b.Bytes()
}
