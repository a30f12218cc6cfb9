// Package browser renders a page in headless Chromium for tests: its DOM
// after scripts ran, and a screenshot, each with what Chromium logged
// checked for console messages, script errors and failed requests.
package browser

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Chromium is a headless Chromium with its own profile directory and
// every host name unresolvable (a page must need nothing off the machine).
type Chromium struct {
	bin, profile string
}

// Find finds a Chromium to render with. Without one the test is skipped,
// except in CI (CI set), where it must run: `make chromium` installs
// Debian's package.
func Find(t *testing.T) Chromium {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return Chromium{bin: p, profile: filepath.Join(t.TempDir(), "profile")}
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is needed in CI: run `make chromium` (apt-get install -y chromium)")
	}
	t.Skip("chromium not found (make chromium installs it); skipping the browser check")
	return Chromium{}
}

// trouble matches what Chromium logs for script errors, console messages
// and failed requests.
var trouble = regexp.MustCompile(`(?i)CONSOLE[(:]|Uncaught|Failed to load resource|net::ERR_|Refused to|Content Security Policy`)

func (c Chromium) run(t *testing.T, ctx context.Context, extra ...string) []byte {
	t.Helper()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + c.profile,
		"--enable-logging=stderr", "--v=0", "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars"}
	cmd := exec.CommandContext(ctx, c.bin, append(args, extra...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "chromium %s: %s", extra[0], stderr.String())
	for _, line := range strings.Split(stderr.String(), "\n") {
		assert.NotRegexp(t, trouble, line, "chromium reported a problem")
	}
	return stdout.Bytes()
}

// DOM is the page's DOM as Chromium has it after loading it (--dump-dom).
func (c Chromium) DOM(t *testing.T, ctx context.Context, page string) string {
	t.Helper()
	return string(c.run(t, ctx, "--dump-dom", "file://"+page))
}

// Screenshot renders the page in a window of size ("1200,900") and returns
// the PNG, written to shot.
func (c Chromium) Screenshot(t *testing.T, ctx context.Context, page, size, shot string) []byte {
	t.Helper()
	c.run(t, ctx, "--screenshot="+shot, "--window-size="+size, "file://"+page)
	png, err := os.ReadFile(shot)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")), "a PNG screenshot")
	return png
}
