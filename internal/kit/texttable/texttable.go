// Package texttable renders the terminal and Markdown tables of loadgen's
// reports: terminal tables through tablewriter (light box drawing), Markdown
// as plain GitHub pipe tables, both deterministic.
package texttable

import (
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Align is a column's alignment.
type Align = tw.Align

// Right and Left align a column.
const (
	Right = tw.AlignRight
	Left  = tw.AlignLeft
)

// Write renders a terminal table with the given header and rows; align
// holds one alignment per column (missing ones are left-aligned).
func Write(w io.Writer, header []string, rows [][]string, align ...tw.Align) error {
	al := make(tw.Alignment, len(header))
	for i := range al {
		al[i] = Left
		if i < len(align) {
			al[i] = align[i]
		}
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleLight)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignCenter),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: al}),
		tablewriter.WithTrimSpace(tw.Off),
	)
	hs := make([]any, len(header))
	for i, h := range header {
		hs[i] = h
	}
	t.Header(hs...)
	if err := t.Bulk(rows); err != nil {
		return err
	}
	return t.Render()
}

// Markdown renders a GitHub pipe table; align as in Write.
func Markdown(w io.Writer, header []string, rows [][]string, align ...tw.Align) error {
	var b strings.Builder
	b.WriteString("|")
	for _, h := range header {
		b.WriteString(" " + mdCell(h) + " |")
	}
	b.WriteString("\n|")
	for i := range header {
		if i < len(align) && align[i] == Right {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	for _, r := range rows {
		b.WriteString("|")
		for i := range header {
			c := ""
			if i < len(r) {
				c = r[i]
			}
			b.WriteString(" " + mdCell(c) + " |")
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// Errf writes formatted text and keeps the first error, so renderers can
// write many lines and check once.
type Errf struct {
	W   io.Writer
	Err error
}

// P writes a formatted line (a newline is added).
func (e *Errf) P(format string, args ...any) {
	if e.Err != nil {
		return
	}
	_, e.Err = fmt.Fprintf(e.W, format+"\n", args...)
}

// Table writes a terminal table.
func (e *Errf) Table(header []string, rows [][]string, align ...tw.Align) {
	if e.Err != nil {
		return
	}
	e.Err = Write(e.W, header, rows, align...)
}

// MD writes a Markdown table.
func (e *Errf) MD(header []string, rows [][]string, align ...tw.Align) {
	if e.Err != nil {
		return
	}
	e.Err = Markdown(e.W, header, rows, align...)
}
