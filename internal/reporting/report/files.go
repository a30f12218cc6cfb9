package report

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/kit/atomicfile"
)

// Formats lists the report formats Write knows.
var Formats = []string{"text", "md", "html", "json"}

// Write renders the report in one format: text, md, html or json.
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case "text", "":
		return r.WriteText(w, false)
	case "md", "markdown":
		return r.WriteMarkdown(w)
	case "html":
		return r.WriteHTML(w)
	case "json":
		return r.WriteJSON(w)
	}
	return fmt.Errorf("format %q: want text, md, html or json", format)
}

// The files WriteFiles writes into a run directory.
const (
	MarkdownFile = "report.md"
	HTMLFile     = "report.html"
)

// WriteFiles writes report.md and report.html into the run directory dir,
// each atomically (a reader sees the old file or the new one). The stress
// command calls it when a campaign ends.
func WriteFiles(dir string, run *runrecord.Run, o Options) error {
	r, err := Build(dir, run, o)
	if err != nil {
		return err
	}
	return r.WriteFiles(dir)
}

// WriteFiles writes the built report as report.md and report.html into dir,
// atomically.
func (r *Report) WriteFiles(dir string) error {
	for _, f := range []struct {
		name   string
		render func(io.Writer) error
	}{{MarkdownFile, r.WriteMarkdown}, {HTMLFile, r.WriteHTML}} {
		if err := atomicfile.Write(filepath.Join(dir, f.name), f.render); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return nil
}
