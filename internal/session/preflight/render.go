package preflight

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteText prints the checklist as the guide's script does: one line per
// check, numbered [n/8] (the checks loadgen adds as [+]), its status and
// what was found, then the verdict.
func WriteText(w io.Writer, r Report) error {
	var b strings.Builder
	b.WriteString("=== GL-008 Pre-Scaling Checklist ===\n\n")
	width := 0
	for _, c := range r.Checks {
		width = max(width, len([]rune(c.Title)))
	}
	for _, c := range r.Checks {
		num := "[+]  "
		if c.N > 0 {
			num = fmt.Sprintf("[%d/%d]", c.N, GuideChecks)
		}
		fmt.Fprintf(&b, "%s %-*s  %-8s %s\n", num, width, c.Title, c.Status, c.Detail)
	}
	b.WriteString("\n")
	if r.Ready {
		b.WriteString("Ready to scale\n")
	} else {
		by := map[Status][]string{}
		for _, c := range r.Checks {
			if c.Blocks() {
				by[c.Status] = append(by[c.Status], c.ID)
			}
		}
		var parts []string
		for _, g := range []struct {
			s    Status
			what string
		}{{Warning, "address the warnings (%s)"}, {Error, "fix what could not be asked (%s)"},
			{Skipped, "run the skipped checks or accept them with --skip (%s)"}} {
			if ids := by[g.s]; len(ids) > 0 {
				parts = append(parts, fmt.Sprintf(g.what, strings.Join(ids, ", ")))
			}
		}
		fmt.Fprintf(&b, "Not ready: %s before scaling\n", strings.Join(parts, "; "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as indented JSON (schema loadgen/preflight/v1).
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
