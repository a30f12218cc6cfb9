package junit_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/analysis/baseline"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/reporting/junit"
	"github.com/greenlang/loadgen/internal/reporting/model"
)

// runs are the recorded run directories of internal/reporting/report's tests.
var runs = filepath.Join("..", "report", "testdata", "runs")

// schema is the Jenkins xUnit plugin's JUnit schema (see its header).
var schema = filepath.Join("testdata", "junit-10.xsd")

// xmllint finds libxml2's validator. Without it the schema check is
// skipped, except in CI (CI set), where it must run: the Makefile's test
// target installs Debian's libxml2-utils.
func xmllint(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("xmllint"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("xmllint is needed in CI: run `make xmllint` (apt-get install -y libxml2-utils)")
	}
	t.Skip("xmllint not found (make xmllint installs it); skipping the schema check")
	return ""
}

// validate checks doc against the JUnit schema with xmllint and returns
// its complaint, "" when the document is valid.
func validate(t *testing.T, doc []byte) string {
	t.Helper()
	bin := xmllint(t)
	f := filepath.Join(t.TempDir(), "junit.xml")
	require.NoError(t, os.WriteFile(f, doc, 0o644))
	out, err := exec.Command(bin, "--noout", "--nonet", "--schema", schema, f).CombinedOutput()
	if err != nil {
		return string(out) + err.Error()
	}
	return ""
}

func input(t *testing.T, name string, o model.Options) junit.Input {
	t.Helper()
	dir := filepath.Join(runs, name)
	run, err := runrecord.Read(dir)
	require.NoError(t, err)
	rep, err := model.Build(dir, run, o)
	require.NoError(t, err)
	return junit.Input{Dir: name, Run: run, Comparison: rep.Comparison, Hostname: "ci-runner"}
}

func render(t *testing.T, in junit.Input) ([]byte, *junit.Suites) {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, junit.Build(in).Write(&b))
	back, err := junit.Read(bytes.NewReader(b.Bytes()))
	require.NoError(t, err, b.String())
	require.Len(t, back.Suites, 1)
	return b.Bytes(), back
}

// byName returns the suite's test cases by name.
func byName(s junit.Suite) map[string]junit.Case {
	m := map[string]junit.Case{}
	for _, c := range s.Cases {
		m[c.Name] = c
	}
	return m
}

// TestReportsValidate builds the report of every recorded run and checks it
// against the schema with xmllint and with the strict reader, and that it
// has one test case per step and four more (the campaign and three gates).
func TestReportsValidate(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"gl008-1replica", "gl006-pinch-2replicas", "gl008-walk-service", "gl008-generator-bound", "pipeline-interrupted"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in := input(t, name, model.Options{})
			doc, back := render(t, in)
			assert.Empty(t, validate(t, doc))
			s := back.Suites[0]
			assert.Len(t, s.Cases, len(in.Run.Steps)+4)
			assert.Equal(t, len(s.Cases), back.Tests)
			for i, st := range in.Run.Steps {
				c := s.Cases[i]
				assert.Equal(t, in.Run.Scenario, c.Classname)
				assert.Contains(t, c.Name, st.Phase)
				assert.True(t, strings.HasPrefix(c.Name, "step "), c.Name)
			}
			assert.Equal(t, in.Run.StartedAt.UTC().Format("2006-01-02T15:04:05"), s.Timestamp)
			assert.NotEmpty(t, s.Hostname)
			assert.Contains(t, s.SystemOut, "breaking point")
		})
	}
}

func TestStepCases(t *testing.T) {
	t.Parallel()
	in := input(t, "gl008-1replica", model.Options{})
	_, back := render(t, in)
	s := back.Suites[0]
	cases := byName(s)

	pass := cases["step 01 grow 100 req/s"]
	assert.Nil(t, pass.Failure)
	assert.Nil(t, pass.Skipped)
	assert.InDelta(t, in.Run.Steps[0].FinishedAt.Sub(in.Run.Steps[0].StartedAt).Seconds(), float64(pass.Time), 0.001, "the step's wall time")
	assert.Contains(t, pass.SystemOut, "offered 100 req/s")

	fail := cases["step 03 grow 400 req/s"]
	require.NotNil(t, fail.Failure)
	assert.Equal(t, in.Run.Steps[2].Reasons.String(), fail.Failure.Message)
	assert.Equal(t, "step failed: error_rate, error_count, saturation", fail.Failure.Type)
	assert.Contains(t, fail.Failure.Text, "saturation: served 251.7 req/s successfully")

	// Six failed steps; the campaign completed; no --min-rps, no baseline:
	// skipped; the guide comparison (250 per pod measured, documented 250):
	// a pass.
	assert.Equal(t, 6, s.Failures)
	assert.Equal(t, 0, s.Errors)
	assert.Equal(t, 2, s.Skipped)
	assert.Nil(t, cases["campaign completed"].Error)
	assert.Equal(t, "no floor set (--min-rps)", cases["gate: max sustainable ≥ --min-rps"].Skipped.Message)
	assert.Equal(t, "no baseline given (--baseline RUN)", cases["gate: against the baseline run"].Skipped.Message)
	guide := cases["gate: breaking point vs the documented figure"]
	assert.Nil(t, guide.Failure)
	assert.Nil(t, guide.Skipped)
	assert.Contains(t, guide.SystemOut, "meets (calibration check")
}

func TestInvalidAndExcludedStepsAreSkipped(t *testing.T) {
	t.Parallel()
	in := input(t, "gl008-generator-bound", model.Options{})
	doc, back := render(t, in)
	assert.Empty(t, validate(t, doc))
	cases := byName(back.Suites[0])
	ex := cases["step 02 grow 800 req/s"]
	require.NotNil(t, ex.Skipped)
	assert.Contains(t, ex.Skipped.Message, "excluded, does not count: the target restarted during the step")
	inv := cases["step 05 grow 1600 req/s (attempt 2)"]
	require.NotNil(t, inv.Skipped)
	assert.Contains(t, inv.Skipped.Message, "invalid (the load generator, not the target, limited the step")
	assert.Contains(t, inv.Skipped.Message, "achieved 72% of offered with the generator saturated")
	camp := cases["campaign completed"]
	require.NotNil(t, camp.Error)
	assert.Equal(t, "inconclusive", camp.Error.Type)
	assert.Contains(t, camp.Error.Message, "generator-bound at ~1150 req/s: add runners or a bigger generator")
	guide := cases["gate: breaking point vs the documented figure"]
	require.NotNil(t, guide.Skipped, "an inconclusive comparison is skipped, not failed")
	assert.Contains(t, guide.Skipped.Message, "inconclusive")
	assert.Equal(t, 1, back.Errors)
}

func TestInterruptedCampaign(t *testing.T) {
	t.Parallel()
	in := input(t, "pipeline-interrupted", model.Options{})
	in.Run.Config.MinRPS = 3
	_, back := render(t, in)
	cases := byName(back.Suites[0])
	camp := cases["campaign completed"]
	require.NotNil(t, camp.Error)
	assert.Equal(t, "interrupted", camp.Error.Type)
	assert.Equal(t, "the campaign is interrupted: interrupted during the step at 6 req/s (continue it with loadgen stress --resume pipeline-interrupted)", camp.Error.Message)
	gate := cases["gate: max sustainable ≥ --min-rps 3 req/s"]
	require.NotNil(t, gate.Skipped)
	assert.Equal(t, "the campaign is interrupted: the --min-rps gate judges a completed campaign", gate.Skipped.Message)
}

func TestGates(t *testing.T) {
	t.Parallel()
	// Read as two replicas, the run's 250 req/s is 125 per pod: below the
	// documented 250.
	in := input(t, "gl008-1replica", model.Options{Replicas: 2})
	in.Run.Config.MinRPS = 300
	base := filepath.Join(runs, "gl008-1replica")
	side, err := baseline.Load(base)
	require.NoError(t, err)
	in.Baseline = baseline.Compare(side, side)
	doc, back := render(t, in)
	assert.Empty(t, validate(t, doc))
	cases := byName(back.Suites[0])

	floor := cases["gate: max sustainable ≥ --min-rps 300 req/s"]
	require.NotNil(t, floor.Failure)
	assert.Equal(t, "max sustainable 250 req/s is below --min-rps 300", floor.Failure.Message)

	guide := cases["gate: breaking point vs the documented figure"]
	require.NotNil(t, guide.Failure)
	assert.Contains(t, guide.Failure.Message, "measured in [125, 126.5) req/s per pod, documented 250 req/s ±10%")
	assert.Contains(t, guide.Failure.Message, ": below")

	same := cases["gate: against the baseline run"]
	assert.Nil(t, same.Failure)
	assert.Nil(t, same.Skipped)
	assert.Contains(t, same.SystemOut, "Verdict: NO CHANGE")

	// A regression fails the baseline gate with its reasons.
	reg := *in.Baseline
	reg.Verdict, reg.Reasons = baseline.Regression, []string{"capacity: [200, 203) req/s (run) vs [250, 253) req/s (baseline)"}
	in.Baseline = &reg
	_, back = render(t, in)
	c := byName(back.Suites[0])["gate: against the baseline run"]
	require.NotNil(t, c.Failure)
	assert.Equal(t, "regression against gl008-1replica: capacity: [200, 203) req/s (run) vs [250, 253) req/s (baseline)", c.Failure.Message)
	assert.Equal(t, "regression", c.Failure.Type)

	reg.Verdict, reg.Reasons = baseline.Inconclusive, []string{"not comparable: different replicas: 2 (run) vs 1 (baseline)"}
	_, back = render(t, in)
	c = byName(back.Suites[0])["gate: against the baseline run"]
	require.NotNil(t, c.Skipped)
	assert.Equal(t, "inconclusive against gl008-1replica: not comparable: different replicas: 2 (run) vs 1 (baseline)", c.Skipped.Message)
}

// TestReadIsStrict mutates a valid report in ways a JUnit reader must not
// accept; both the strict reader and the schema reject each (where the
// schema can tell: it does not count test cases or see duplicate names).
func TestReadIsStrict(t *testing.T) {
	t.Parallel()
	good, _ := render(t, input(t, "gl008-walk-service", model.Options{}))
	doc := string(good)
	require.Contains(t, doc, `<testsuites name="loadgen" tests="7" failures="1" errors="0"`)
	require.Contains(t, doc, `<testsuite name="loadgen stress gl008-step inspection (gl008-walk-service)" tests="7" failures="1" errors="0" skipped="3"`)
	for _, c := range []struct {
		name, old, new string
		want           string
		schemaToo      bool
	}{
		{"unknown element", `<system-out>offered 100`, `<flaky/><system-out>offered 100`, "unknown element <flaky>", true},
		{"unknown attribute", `<testsuites name="loadgen"`, `<testsuites skipped="3" name="loadgen"`, "unknown attribute skipped on <testsuites>", true},
		{"misplaced element", `<testsuites name="loadgen" tests="7" failures="1" errors="0" time="510.000">`,
			`<testsuites name="loadgen" tests="7" failures="1" errors="0" time="510.000"><testcase name="x"></testcase>`, "element <testcase> inside <testsuites>", true},
		{"time not a number", `time="510.000">`, `time="soon">`, "time", true},
		{"text between elements", `<properties>`, `stray<properties>`, "text \"stray\" inside <testsuite>", false},
		{"tests miscounted", `skipped="3"`, `skipped="2"`, "skipped=2, but its test cases say 3", false},
		{"root total miscounted", `<testsuites name="loadgen" tests="7"`, `<testsuites name="loadgen" tests="8"`, "<testsuites> tests=8", false},
		{"two outcomes", `<skipped message="no floor set (--min-rps)">`, `<failure message="x"></failure><skipped message="no floor set (--min-rps)">`, "more than one of failure, error and skipped", false},
		{"duplicate name", `name="step 02 walk 200 req/s"`, `name="step 01 walk 100 req/s"`, "appears twice", false},
		{"missing name", `<testcase name="step 01 walk 100 req/s"`, `<testcase`, "<testcase> without its name attribute", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			require.Contains(t, doc, c.old)
			bad := strings.Replace(doc, c.old, c.new, 1)
			_, err := junit.Read(strings.NewReader(bad))
			require.ErrorIs(t, err, junit.ErrInvalid)
			assert.Contains(t, err.Error(), c.want)
			if c.schemaToo {
				assert.NotEmpty(t, validate(t, []byte(bad)), "the schema rejects it too")
			}
		})
	}
}
