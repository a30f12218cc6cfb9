package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromium finds a Chromium to render with. Without one the browser test is
// skipped, except in CI (CI set), where it must run: `make chromium`
// installs Debian's package.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is needed in CI: run `make chromium` (apt-get install -y chromium)")
	}
	t.Skip("chromium not found (make chromium installs it); skipping the browser check")
	return ""
}

// consoleTrouble matches what Chromium logs for script errors, console
// messages and failed requests.
var consoleTrouble = regexp.MustCompile(`(?i)CONSOLE[(:]|Uncaught|Failed to load resource|net::ERR_|Refused to|Content Security Policy`)

// TestHTMLRendersInChromium renders each fixture's report in headless
// Chromium with every host name unresolvable, and checks that the page
// parsed into the expected charts and that Chromium logged no console
// message, script error or failed request.
func TestHTMLRendersInChromium(t *testing.T) {
	bin := chromium(t)
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
			args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
				"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + filepath.Join(dir, "profile"),
				"--enable-logging=stderr", "--v=0", "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars"}
			cmd := exec.CommandContext(ctx, bin, append(args, "--dump-dom", "file://"+page)...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			require.NoError(t, cmd.Run(), "chromium --dump-dom: %s", stderr.String())
			dom := stdout.String()
			for _, id := range []string{"chart-latency", "chart-throughput", "chart-errors", "chart-timeline-rate", "chart-timeline-p95", "chart-timeline-errors", "chart-usl"} {
				assert.Regexp(t, `<svg [^>]*id="`+id+`"`, dom, "the browser's DOM has the %s chart", id)
			}
			assert.GreaterOrEqual(t, strings.Count(dom, "<polyline"), 10, "series were drawn")
			assert.GreaterOrEqual(t, strings.Count(dom, "<circle"), 20, "step markers were drawn")
			assert.Contains(t, dom, `class="vline"`, "breaking point markers")
			assert.NotContains(t, dom, "<parsererror", "the inline SVG parsed")
			assert.Contains(t, dom, "Comparison with the documented figures")
			for _, line := range strings.Split(stderr.String(), "\n") {
				assert.NotRegexp(t, consoleTrouble, line, "chromium reported a problem")
			}

			cmd = exec.CommandContext(ctx, bin, append(args, "--window-size=1200,4800", "--screenshot="+shot, "file://"+page)...)
			stderr.Reset()
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Run(), "chromium --screenshot: %s", stderr.String())
			png, err := os.ReadFile(shot)
			require.NoError(t, err)
			assert.True(t, bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")), "a PNG screenshot")
			assert.Greater(t, len(png), 100_000, "the screenshot shows a rendered page, not a blank one")
			for _, line := range strings.Split(stderr.String(), "\n") {
				assert.NotRegexp(t, consoleTrouble, line, "chromium reported a problem")
			}
			if out := os.Getenv("LOADGEN_REPORT_SCREENSHOTS"); out != "" {
				require.NoError(t, os.WriteFile(filepath.Join(out, name+".png"), png, 0o644))
			}
		})
	}
}
