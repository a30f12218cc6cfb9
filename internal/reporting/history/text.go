package history

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/greenlang/loadgen/internal/kit/numfmt"
	"github.com/greenlang/loadgen/internal/kit/texttable"
)

// String names the series: "gl008-step · inspection · http://… · 2 replicas".
func (k Key) String() string {
	parts := []string{k.Scenario, k.Endpoint, k.Target, fmt.Sprintf("%d replica%s", k.Replicas, plural(k.Replicas))}
	for i, p := range parts {
		if p == "" {
			parts[i] = "–"
		}
	}
	return strings.Join(parts, " · ")
}

// Method says how the change points were found, in one sentence.
func (r Result) Method() string {
	o := r.Options
	return fmt.Sprintf("change points by E-Divisive means, each accepted when Welch's t-test gives p < %s and Student's p < %s, with at least %d runs on each side and a change of at least %s%% (or the campaigns' resolution, if coarser)",
		strconv.FormatFloat(o.MaxPValue, 'g', -1, 64), strconv.FormatFloat(o.MaxPValue/10, 'g', -1, 64), o.MinSegment, numfmt.Num(o.MinRelChange*100))
}

// Line describes a change point in words: "run R (#15, 2026-03-16): down
// 20% from 250 to 200 req/s (p = 1.2e-08)".
func (c ChangePoint) Line(s Series) string {
	dir := "up"
	if c.Down() {
		dir = "down"
	}
	return fmt.Sprintf("%s (#%d, %s): %s %s%% from %s to %s req/s (p = %s)", c.Run, c.Index, s.Points[c.Index].StartedAt.Format("2006-01-02"),
		dir, pct1(abs(c.ChangePct)), numfmt.Num(c.Before), numfmt.Num(c.After), pValue(c.PValue))
}

// WriteText writes one table per series, its change points marked, then
// the change points in words.
func (r Result) WriteText(w io.Writer) error {
	if len(r.Series) == 0 {
		_, err := fmt.Fprintln(w, "No completed runs: no series.")
		return err
	}
	for i, s := range r.Series {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "Series %d: %s — %d run%s\n", i+1, s.Key, len(s.Points), plural(len(s.Points)))
		h, rows, al := s.table()
		if err := texttable.Write(w, h, rows, al...); err != nil {
			return err
		}
		switch len(s.ChangePoints) {
		case 0:
			fmt.Fprintln(w, "No change point.")
		default:
			fmt.Fprintf(w, "Change point%s:\n", plural(len(s.ChangePoints)))
			for _, c := range s.ChangePoints {
				fmt.Fprintf(w, "  %s\n", c.Line(s))
			}
		}
	}
	_, err := fmt.Fprintf(w, "\n%s.\n", capitalize(r.Method()))
	return err
}

// table is the series' points with their change points marked.
func (s Series) table() ([]string, [][]string, []texttable.Align) {
	at := map[int]ChangePoint{}
	for _, c := range s.ChangePoints {
		at[c.Index] = c
	}
	rows := make([][]string, len(s.Points))
	for i, p := range s.Points {
		mark := ""
		if c, ok := at[i]; ok {
			mark = fmt.Sprintf("%s %s%% (%s → %s, p %s)", arrow(c), signed(c.ChangePct), numfmt.Num(c.Before), numfmt.Num(c.After), pValue(c.PValue))
		}
		rows[i] = []string{strconv.Itoa(i), p.StartedAt.Format("2006-01-02 15:04"), p.Run, numfmt.Num(p.MaxSustainableRPS), mark}
	}
	return []string{"#", "started (UTC)", "run", "max sustainable (req/s)", "change point"}, rows,
		[]texttable.Align{texttable.Right, texttable.Left, texttable.Left, texttable.Right, texttable.Left}
}

func arrow(c ChangePoint) string {
	if c.Down() {
		return "▼"
	}
	return "▲"
}

func signed(pct float64) string {
	if pct > 0 {
		return "+" + pct1(pct)
	}
	return "−" + pct1(-pct)
}

// pct1 is a percentage to one decimal, without a trailing ".0".
func pct1(pct float64) string { return numfmt.Num(numfmt.Round(pct, 1)) }

func pValue(p float64) string {
	if p == 0 {
		return "< 1e-300"
	}
	return strconv.FormatFloat(p, 'g', 2, 64)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
