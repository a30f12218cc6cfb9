package signoff_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/reporting/junit"
	"github.com/greenlang/loadgen/internal/session/signoff"
	"github.com/greenlang/loadgen/internal/testutil/browser"
)

// fixtureRun is a campaign's run directory from the report package's
// fixtures: a GL-008 inspection campaign against one replica.
var fixtureRun = filepath.Join("..", "..", "reporting", "report", "testdata", "runs", "gl008-1replica")

func num(x float64) *float64 { return &x }

// rejected is a sign-off record as the runner leaves it: one campaign,
// its breaking point below the band, a skipped and an inconclusive gate.
func rejected(t *testing.T) (dir string, rec *signoff.Record) {
	t.Helper()
	dir = t.TempDir()
	abs, err := filepath.Abs(fixtureRun)
	require.NoError(t, err)
	require.NoError(t, os.Symlink(abs, filepath.Join(dir, "run")))
	gates := []signoff.Gate{
		{Name: "inspection.breaking_point", Check: "inspection", Verdict: signoff.Fail, Interval: "[125, 131)", Value: num(125), Unit: "req/s per pod",
			Limit: "≥ 225 (documented 250 req/s per pod −10%)", LimitValue: num(225), Reason: "below the band: <b>max sustainable</b> 125 req/s", Evidence: "run/run.json"},
		{Name: "inspection.p95_ms", Check: "inspection", Verdict: signoff.Undecided, Unit: "ms", Limit: "≤ 250 ms", Reason: "no judged step at the documented rate"},
		{Name: "regression.regression", Check: "regression", Verdict: signoff.Skipped, Reason: "not applicable: no --baseline sign-off was given"},
	}
	rec = &signoff.Record{Schema: signoff.Schema, Verdict: signoff.Rejected, ExitCode: 1, Summary: "REJECTED: inspection.breaking_point failed",
		Plan: "gl008-release", PlanSource: "gl008-release.yaml", Service: "GL-008", Quick: true, Target: "embedded", Embedded: true,
		StartedAt: time.Date(2026, 12, 7, 23, 0, 0, 0, time.UTC), Command: "loadgen signoff --plan gl008-release --target embedded --quick --out x",
		Versions:    signoff.Versions{Loadgen: "v1.2.3", GitCommit: "abc", K6: "2.2.0", Go: "go1.26", Target: "embedded"},
		Inputs:      []signoff.Input{{What: "plan", Path: "plan.yaml", SHA256: strings.Repeat("a", 64)}},
		Calibration: "the embedded reference target simulates the guide's own figures",
		Checks: []signoff.CheckRecord{
			{Name: "inspection", Kind: "campaign", Endpoint: "inspection", Dir: "run", Status: signoff.StatusDone, Gates: gates[:2]},
			{Name: "regression", Kind: "regression", Status: signoff.StatusSkipped, Note: "not applicable", Gates: gates[2:]},
		},
		Gates: gates, NotChecked: []string{"regression (regression): not applicable"}}
	return dir, rec
}

func TestReportsOfARejectedSignoff(t *testing.T) {
	dir, rec := rejected(t)
	require.NoError(t, signoff.WriteReports(dir, rec))
	md, err := os.ReadFile(filepath.Join(dir, signoff.MDFile))
	require.NoError(t, err)
	assert.Contains(t, string(md), "# Sign-off gl008-release (GL-008): REJECTED")
	assert.Contains(t, string(md), "| inspection.breaking_point | **fail** | [125, 131) |")
	assert.Contains(t, string(md), "## Not checked")

	f, err := os.Open(filepath.Join(dir, signoff.JUnitFile))
	require.NoError(t, err)
	defer f.Close()
	doc, err := junit.Read(f)
	require.NoError(t, err, "a valid JUnit report")
	s := doc.Suites[0]
	require.Len(t, s.Cases, 3)
	assert.Equal(t, 1, s.Failures)
	assert.Equal(t, 2, s.Skipped)
	require.NotNil(t, s.Cases[0].Failure)
	require.NotNil(t, s.Cases[1].Skipped)
	assert.Contains(t, s.Cases[1].Skipped.Message, "inconclusive (not a pass)")

	html, err := os.ReadFile(filepath.Join(dir, signoff.HTMLFile))
	require.NoError(t, err)
	page := string(html)
	assert.Contains(t, page, `<div id="verdict" class="v-rejected">REJECTED</div>`)
	assert.Contains(t, page, "&lt;b&gt;max sustainable&lt;/b&gt;", "text is escaped")
	assert.Regexp(t, `<svg [^>]*id="c1-chart-latency"`, page, "the campaign's charts, their ids prefixed per check")
	assert.NotContains(t, page, "<script", "no script")
	assert.NotRegexp(t, `(src|href)="https?:`, page, "nothing fetched")
}

// TestSignoffHTMLInChromium renders signoff.html in headless Chromium
// with every host name unresolvable: the DOM holds the verdict and the
// gate table, the charts parsed, Chromium logged no console message,
// script error or failed request, and a screenshot of the first screen
// is a rendered page.
func TestSignoffHTMLInChromium(t *testing.T) {
	bin := browser.Find(t)
	dir, rec := rejected(t)
	require.NoError(t, signoff.WriteReports(dir, rec))
	page := filepath.Join(dir, signoff.HTMLFile)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dom := bin.DOM(t, ctx, page)
	assert.Regexp(t, `<div id="verdict" class="v-rejected">REJECTED</div>`, dom, "the verdict, first")
	assert.Less(t, strings.Index(dom, `id="verdict"`), strings.Index(dom, `id="gates"`), "the verdict comes before the gate table")
	assert.Less(t, strings.Index(dom, `id="gates"`), strings.Index(dom, `id="check-inspection"`), "the gate table before the checks")
	for _, g := range rec.Gates {
		assert.Regexp(t, `<tr data-gate="`+regexp.QuoteMeta(g.Name)+`" data-verdict="`+string(g.Verdict)+`">`, dom, "the gate table has %s", g.Name)
	}
	assert.Regexp(t, `<svg [^>]*id="c1-chart-latency"`, dom, "the campaign's charts")
	assert.GreaterOrEqual(t, strings.Count(dom, "<polyline"), 3, "series were drawn")
	assert.NotContains(t, dom, "<parsererror", "the inline SVG parsed")

	png := bin.Screenshot(t, ctx, page, "1200,900", filepath.Join(dir, "first-screen.png"))
	assert.Greater(t, len(png), 20_000, "the first screen is a rendered page, not a blank one")
	if out := os.Getenv("LOADGEN_REPORT_SCREENSHOTS"); out != "" {
		require.NoError(t, os.WriteFile(filepath.Join(out, "signoff-first-screen.png"), png, 0o644))
	}
}

func TestCheckPlan(t *testing.T) {
	_, rec := rejected(t)
	plan := []byte("schema: x\n")
	h := sha256.Sum256(plan)
	rec.Inputs[0].SHA256 = hex.EncodeToString(h[:])
	assert.NoError(t, rec.CheckPlan(plan))
	assert.Error(t, rec.CheckPlan(append(plan, '#')), "a plan edited since")
	rec.Inputs = nil
	assert.ErrorContains(t, rec.CheckPlan(plan), "records no plan.yaml")
}
