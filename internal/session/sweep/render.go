package sweep

import (
	"fmt"
	"html"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/greenlang/loadgen/internal/kit/atomicfile"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/internal/kit/texttable"
	"github.com/greenlang/loadgen/internal/reporting/chart"
)

// The report's file names in the sweep directory.
const (
	MarkdownFile = "sweep.md"
	HTMLFile     = "sweep.html"
)

// table is one table of the report, rendered in text or Markdown.
type table struct {
	title  string
	header []string
	rows   [][]string
	align  []texttable.Align
	notes  []string
}

// tables builds the report's content once for every renderer.
func tables(r *Record) (head []string, ts []table) {
	num := numfmt.Num
	head = append(head, fmt.Sprintf("Replica sweep of %s (%s, endpoint %s) against %s: %s replicas, run in that order; status %s%s",
		r.Service, r.Scenario, r.Endpoint, r.Target, ints(r.Replicas), r.Status, resumed(r.Resumed)))
	if r.AbortReason != "" {
		head = append(head, "Why it ended: "+r.AbortReason)
	}
	sc := r.Scaler
	switch {
	case sc.Kind == "": // Run records the scaler once it has read the original count
		head = append(head, "The target's replica count could not be read; nothing was scaled.")
	case sc.Restored:
		head = append(head, fmt.Sprintf("Scaled %s (%s); restored to its original %d replica(s).", sc.Object, sc.Kind, sc.OriginalReplicas))
	case sc.RestoreError != "":
		head = append(head, fmt.Sprintf("Scaled %s (%s); NOT restored to its original %d replica(s): %s", sc.Object, sc.Kind, sc.OriginalReplicas, sc.RestoreError))
	default:
		head = append(head, fmt.Sprintf("Scaled %s (%s); original %d replica(s).", sc.Object, sc.Kind, sc.OriginalReplicas))
	}
	a := r.Analysis
	if a == nil {
		return head, nil
	}

	t := table{title: "Capacity by replica count", header: []string{"replicas", "capacity req/s", "per pod req/s", "efficiency", "efficiency range", "campaign"},
		align: []texttable.Align{texttable.Right, texttable.Right, texttable.Right, texttable.Right, texttable.Right, texttable.Left}}
	dirs := map[int]CampaignEntry{}
	for _, c := range r.Campaigns {
		dirs[c.Replicas] = c
	}
	for _, row := range a.Rows {
		eff, rng := "–", "–"
		if row.Efficiency != nil {
			eff = fmt.Sprintf("%.2f", *row.Efficiency)
		}
		if row.EfficiencyRange != nil {
			rng = fmt.Sprintf("[%.2f, %.2f)", row.EfficiencyRange.Lo, row.EfficiencyRange.Hi)
		}
		c := dirs[row.Replicas]
		what := c.Dir + " " + c.Status
		if !row.Found {
			what += ": no breaking point (" + row.Note + ")"
		}
		if c.GeneratorBound {
			what += ", generator-bound"
		}
		t.rows = append(t.rows, []string{fmt.Sprint(row.Replicas), row.CapacityRPS.String(), row.PerPodRPS.String(), eff, rng, what})
	}
	t.notes = append(t.notes, "capacity is [max sustainable, first failing) req/s; efficiency = C(N) ÷ (N × C(1)) from the max sustainable rates, its range from the intervals' ends")
	t.notes = append(t.notes, a.Notes...)
	ts = append(ts, t)

	u := a.USL
	ut := table{title: "Universal Scalability Law across replica counts (an estimate, not a measurement)"}
	if !u.Fitted() {
		ut.notes = append(ut.notes, fmt.Sprintf("no fit: the fit is %s — %s", u.Status, u.Reason))
	} else {
		ut.header = []string{"parameter", "value"}
		ut.align = []texttable.Align{texttable.Left, texttable.Right}
		ut.rows = [][]string{
			{"σ (contention)", fmt.Sprintf("%.4f", u.Sigma)},
			{"κ (coherency)", fmt.Sprintf("%.6f", u.Kappa)},
			{"λ (one replica, req/s)", num(u.Lambda)},
			{"R²", fmt.Sprintf("%.4f", u.R2)},
		}
		far := 10 * float64(max(u.MaxMeasured, u.HPAMaxReplicas))
		switch {
		case u.HasPeak && u.PeakReplicas > far:
			ut.rows = append(ut.rows, []string{"predicted peak N*", fmt.Sprintf("none within %s replicas (κ ≈ 0; N* = %.3g)", num(far), u.PeakReplicas)})
		case u.HasPeak:
			ut.rows = append(ut.rows, []string{"predicted peak N*", fmt.Sprintf("%.1f replicas", u.PeakReplicas)},
				[]string{"X(N*)", num(u.PeakRPS) + " req/s"})
		default:
			ut.rows = append(ut.rows, []string{"predicted peak N*", "none: κ = 0, throughput keeps growing (towards λ/σ when σ > 0)"})
		}
		if u.HPAMaxReplicas > 0 {
			ex := ""
			if u.Extrapolated {
				ex = fmt.Sprintf(" (extrapolated beyond the %d replicas measured)", u.MaxMeasured)
			}
			ut.rows = append(ut.rows, []string{fmt.Sprintf("X at the HPA maximum (%d)", u.HPAMaxReplicas), "≈ " + num(u.AtHPAMaxRPS) + " req/s, estimate" + ex})
		}
		ut.notes = append(ut.notes, fmt.Sprintf("X(N) = λN ÷ (1 + σ(N−1) + κN(N−1)), N = replicas, fitted to the max sustainable rates of %d replica counts (%s)", u.Points, u.Status))
		if u.Reason != "" {
			ut.notes = append(ut.notes, u.Reason)
		}
	}
	ts = append(ts, ut)

	if g := a.Guide; g != nil {
		gt := table{title: "The guide's capacity table against the measurement: " + g.Section, notes: []string{"measured basis: " + g.Basis}}
		if len(g.Matrix) > 0 {
			gt.header = []string{"sites", "inspections/day", "replicas (guide)", "peak req/s needed", "measured × replicas", "load", "USL estimate", "USL load", "replicas needed (measured)"}
			gt.align = []texttable.Align{texttable.Right, texttable.Right, texttable.Right, texttable.Right, texttable.Right, texttable.Right, texttable.Right, texttable.Right, texttable.Right}
			for _, m := range g.Matrix {
				us, ul := "–", "–"
				if m.USLRPS > 0 {
					us, ul = num(m.USLRPS), num(m.USLLoad*100)+"%"
				}
				gt.rows = append(gt.rows, []string{fmt.Sprint(m.Sites), num(float64(m.InspectionsPerDay)), fmt.Sprint(m.Replicas), num(m.PeakRPS),
					num(m.LinearRPS), num(m.Load*100) + "%", us, ul, fmt.Sprint(m.NeededReplicas)})
			}
			gt.notes = append(gt.notes, "load = peak req/s needed ÷ (capacity × planning utilisation): above 100% the guide's replicas would not carry the row's peak; the USL columns extrapolate the fit and are estimates")
		}
		if f := g.Formula; f != nil {
			ft := table{title: r.Service + " " + f.Section + " against the measurement: " + f.Operation + " at " + num(f.RatePerS) + " req/s, " + num(f.Utilisation*100) + "% CPU",
				header: []string{"source", "replicas"}, align: []texttable.Align{texttable.Left, texttable.Right},
				rows: [][]string{{"§8.2 formula (§8.1's duration and CPU, " + num(f.CPUPerReplicaMillis) + "m replicas)", fmt.Sprintf("%s → %d", num(f.GuideReplicas), wholeUp(f.GuideReplicas))},
					{"measured per-pod capacity", fmt.Sprintf("%s → %d", num(f.MeasuredReplicas), wholeUp(f.MeasuredReplicas))}}}
			if f.USLReplicas > 0 {
				ft.rows = append(ft.rows, []string{"USL fit (estimate)", fmt.Sprint(f.USLReplicas)})
			}
			ts = append(ts, ft)
		}
		if len(g.Bands) > 0 {
			gt.header = []string{"daily requests", "replicas (guide)", "min carry/day", "max carry/day", "USL max carry/day", "max carries the band"}
			gt.align = []texttable.Align{texttable.Left, texttable.Right, texttable.Right, texttable.Right, texttable.Right, texttable.Left}
			for _, b := range g.Bands {
				us := "–"
				if b.USLMaxCarriesPerDay > 0 {
					us = num(b.USLMaxCarriesPerDay)
				}
				yes := "yes"
				if !b.Carries {
					yes = "NO"
				}
				if b.To == 0 {
					yes = "(open band)"
				}
				gt.rows = append(gt.rows, []string{b.DailyRequests, fmt.Sprintf("%d–%d", b.MinReplicas, b.MaxReplicas), num(b.MinCarriesPerDay), num(b.MaxCarriesPerDay), us, yes})
			}
		}
		ts = append(ts, gt)
	}
	return head, ts
}

// wholeUp is the whole number of replicas a fractional count needs.
func wholeUp(x float64) int { return int(math.Ceil(x - 1e-9)) }

func ints(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// WriteText writes the report for the terminal.
func WriteText(w io.Writer, r *Record) error {
	head, ts := tables(r)
	e := &texttable.Errf{W: w}
	for _, h := range head {
		e.P("%s", h)
	}
	for _, t := range ts {
		e.P("\n%s", t.title)
		if len(t.header) > 0 {
			e.Table(t.header, t.rows, t.align...)
		}
		for _, n := range t.notes {
			e.P("  %s", n)
		}
	}
	return e.Err
}

// WriteMarkdown writes sweep.md.
func WriteMarkdown(w io.Writer, r *Record) error {
	head, ts := tables(r)
	e := &texttable.Errf{W: w}
	e.P("# Replica sweep\n")
	for _, h := range head {
		e.P("%s\n", h)
	}
	for _, t := range ts {
		e.P("## %s\n", t.title)
		if len(t.header) > 0 {
			e.MD(t.header, t.rows, t.align...)
			e.P("")
		}
		for _, n := range t.notes {
			e.P("- %s", n)
		}
		e.P("")
	}
	return e.Err
}

// Chart is capacity against replicas: the max sustainable rates (filled),
// the first failing ones (hollow), linear scaling from the base count, and
// the USL curve out to the HPA maximum.
func Chart(r *Record) *chart.Chart {
	c := chart.New("capacity", "Capacity vs replicas", "replicas", "req/s")
	c.YZero = true
	c.XMin = 0
	a := r.Analysis
	if a == nil {
		return c
	}
	var ok, fail []chart.Point
	maxN := 0.0
	for _, row := range a.Rows {
		maxN = math.Max(maxN, float64(row.Replicas))
		if row.CapacityRPS.Lo > 0 {
			ok = append(ok, chart.Point{X: float64(row.Replicas), Y: row.CapacityRPS.Lo})
		}
		if row.CapacityRPS.Hi > 0 {
			fail = append(fail, chart.Point{X: float64(row.Replicas), Y: row.CapacityRPS.Hi, Hollow: true})
		}
	}
	c.Series = append(c.Series, chart.Series{Name: "max sustainable", Color: "#1f77b4", Pts: ok, Markers: true},
		chart.Series{Name: "first failing", Color: "#d62728", Pts: fail, Markers: true})
	u := a.USL
	end := maxN
	if u.HPAMaxReplicas > 0 {
		end = math.Max(end, float64(u.HPAMaxReplicas))
	}
	for _, row := range a.Rows {
		if row.Replicas == a.BaseReplicas && row.CapacityRPS.Lo > 0 {
			per := row.CapacityRPS.Lo / float64(row.Replicas)
			c.Series = append(c.Series, chart.Series{Name: "linear from " + fmt.Sprint(a.BaseReplicas), Color: "#7f7f7f", Dash: "4 4", Line: true, Width: 1,
				Pts: []chart.Point{{X: 0, Y: 0}, {X: end, Y: per * end}}})
		}
	}
	if u.Fitted() {
		var pts []chart.Point
		for i := 0; i <= 100; i++ {
			n := end * float64(i) / 100
			pts = append(pts, chart.Point{X: n, Y: u.X(n)})
		}
		c.Series = append(c.Series, chart.Series{Name: "USL fit (estimate)", Color: "#2ca02c", Pts: pts, Line: true})
		if u.HPAMaxReplicas > 0 {
			c.VLines = append(c.VLines, chart.VLine{X: float64(u.HPAMaxReplicas), Color: "#9467bd", Dash: "2 3", Label: fmt.Sprintf("HPA max %d", u.HPAMaxReplicas)})
		}
	}
	c.XMax = end
	return c
}

// WriteHTML writes sweep.html: the report's tables and the chart,
// self-contained (no scripts, fonts or network requests).
func WriteHTML(w io.Writer, r *Record) error {
	head, ts := tables(r)
	var b strings.Builder
	esc := html.EscapeString
	b.WriteString("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Replica sweep</title>\n")
	b.WriteString("<style>body{font-family:sans-serif;max-width:1040px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:.5em 0}" +
		"td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}p.note{color:#555;font-size:90%}</style>\n</head><body>\n<h1>Replica sweep</h1>\n")
	for _, h := range head {
		b.WriteString("<p>" + esc(h) + "</p>\n")
	}
	b.WriteString(Chart(r).SVG() + "\n")
	for _, t := range ts {
		b.WriteString("<h2>" + esc(t.title) + "</h2>\n")
		if len(t.header) > 0 {
			b.WriteString("<table><tr>")
			for _, h := range t.header {
				b.WriteString("<th>" + esc(h) + "</th>")
			}
			b.WriteString("</tr>\n")
			for _, row := range t.rows {
				b.WriteString("<tr>")
				for _, c := range row {
					b.WriteString("<td>" + esc(c) + "</td>")
				}
				b.WriteString("</tr>\n")
			}
			b.WriteString("</table>\n")
		}
		for _, n := range t.notes {
			b.WriteString("<p class=\"note\">" + esc(n) + "</p>\n")
		}
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteFiles writes sweep.md and sweep.html into the sweep directory,
// each atomically.
func WriteFiles(dir string, r *Record) error {
	if err := atomicfile.Write(filepath.Join(dir, MarkdownFile), func(w io.Writer) error { return WriteMarkdown(w, r) }); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, HTMLFile), func(w io.Writer) error { return WriteHTML(w, r) })
}

// resumed says how often a sweep was continued, if it was.
func resumed(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (resumed %d time(s))", n)
}
