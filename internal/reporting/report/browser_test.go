package report

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/testutil/browser"
)

// TestHTMLRendersInChromium renders each fixture's report in headless
// Chromium with every host name unresolvable, and checks that the page
// parsed into the expected charts and that Chromium logged no console
// message, script error or failed request.
func TestHTMLRendersInChromium(t *testing.T) {
	bin := browser.Find(t)
	for _, name := range []string{"gl008-1replica", "gl006-pinch-2replicas"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			page := filepath.Join(dir, "report.html")
			var b bytes.Buffer
			require.NoError(t, load(t, name, Options{}).WriteHTML(&b))
			require.NoError(t, os.WriteFile(page, b.Bytes(), 0o644))
			shot := filepath.Join(dir, "report.png")

			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			dom := bin.DOM(t, ctx, page)
			for _, id := range []string{"chart-latency", "chart-throughput", "chart-errors", "chart-timeline-rate", "chart-timeline-p95", "chart-timeline-errors", "chart-usl"} {
				assert.Regexp(t, `<svg [^>]*id="`+id+`"`, dom, "the browser's DOM has the %s chart", id)
			}
			assert.GreaterOrEqual(t, strings.Count(dom, "<polyline"), 10, "series were drawn")
			assert.GreaterOrEqual(t, strings.Count(dom, "<circle"), 20, "step markers were drawn")
			assert.Contains(t, dom, `class="vline"`, "breaking point markers")
			assert.NotContains(t, dom, "<parsererror", "the inline SVG parsed")
			assert.Contains(t, dom, "Comparison with the documented figures")

			png := bin.Screenshot(t, ctx, page, "1200,4800", shot)
			assert.Greater(t, len(png), 100_000, "the screenshot shows a rendered page, not a blank one")
			if out := os.Getenv("LOADGEN_REPORT_SCREENSHOTS"); out != "" {
				require.NoError(t, os.WriteFile(filepath.Join(out, name+".png"), png, 0o644))
			}
		})
	}
}
