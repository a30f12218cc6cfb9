package live

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/breakpoint"
	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/ramp"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/core/stress"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// dashboardFile is the Grafana dashboard the test checks.
var dashboardFile = filepath.Join("..", "..", "..", "deploy", "grafana", "loadgen.json")

// exposed gathers every metric loadgen exposes, from the real registries: the
// live gauges (--metrics-addr), every series touched so that labelled ones
// appear, and a pushed result (--push-gateway). It maps each name to the
// label names a query may match on it: its own, its grouping labels, and the
// job and instance that a scrape adds.
func exposed(t *testing.T) map[string][]string {
	t.Helper()
	m := NewMetrics()
	m.StepStart(stress.StepInfo{Index: 1, RPS: 100})
	m.Second(measure.Second{Requests: 100, Errors: 1, DroppedIterations: 1, P95Millis: 12})
	m.StepEnd(runrecord.Step{Verdict: breakpoint.Pass}, ramp.Progress{Lo: 100})
	run := &runrecord.Run{Scenario: "gl008-step", Target: "embedded", Status: runrecord.Completed, StartedAt: time.Now(),
		Config: campaign.Config{Endpoint: "inspection", Replicas: 1}, Breakpoint: breakpoint.Breakpoint{Found: true, MaxSustainableRPS: 250, FirstFailingRPS: 256}}
	names := map[string][]string{}
	for _, src := range []struct {
		reg    *prometheus.Registry
		labels []string
	}{
		{m.Registry(), []string{"job", "instance"}},
		{resultRegistry("run-1", run, time.Now()), append([]string{"job", "instance"}, SeriesLabels...)},
	} {
		mfs, err := src.reg.Gather()
		require.NoError(t, err)
		for _, mf := range mfs {
			ls := slices.Clone(src.labels)
			for _, metric := range mf.GetMetric() {
				for _, l := range metric.GetLabel() {
					ls = append(ls, l.GetName())
				}
			}
			names[mf.GetName()] = ls
		}
	}
	return names
}

// grafanaIntervals are Grafana's built-in range variables, which stand where
// PromQL wants a duration; every other variable stands in a quoted matcher.
var grafanaIntervals = regexp.MustCompile(`\$(__rate_interval|__interval|__range)\b|\$\{(__rate_interval|__interval|__range)\}`)

// labelValues is a query variable: label_values(SELECTOR, label).
var labelValues = regexp.MustCompile(`^label_values\((.+),\s*\w+\)$`)

type dashPanel struct {
	ID         int             `json:"id"`
	Type       string          `json:"type"`
	Title      string          `json:"title"`
	Datasource json.RawMessage `json:"datasource"`
	Targets    []struct {
		Expr       string          `json:"expr"`
		Datasource json.RawMessage `json:"datasource"`
	} `json:"targets"`
	Panels []dashPanel `json:"panels"`
}

type dashboard struct {
	Panels     []dashPanel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

// TestDashboardQueriesOnlyWhatLoadgenExposes parses every PromQL expression
// of deploy/grafana/loadgen.json (panel targets and query variables) with
// Prometheus' own parser and checks that each metric it selects, and each
// label it matches on, is one loadgen exposes.
func TestDashboardQueriesOnlyWhatLoadgenExposes(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(dashboardFile)
	require.NoError(t, err)
	var d dashboard
	require.NoError(t, json.Unmarshal(b, &d))
	known := exposed(t)

	var exprs []string // "where: expr"
	hasDatasourceVar := false
	for _, v := range d.Templating.List {
		switch v.Type {
		case "datasource":
			hasDatasourceVar = true
			assert.Equal(t, "datasource", v.Name)
		case "query":
			var q struct {
				Query string `json:"query"`
			}
			require.NoError(t, json.Unmarshal(v.Query, &q), "variable %s", v.Name)
			sm := labelValues.FindStringSubmatch(q.Query)
			require.NotNil(t, sm, "variable %s: want label_values(SELECTOR, label), got %q", v.Name, q.Query)
			exprs = append(exprs, "variable "+v.Name+"\x00"+sm[1])
		}
	}
	assert.True(t, hasDatasourceVar, "the dashboard has a datasource variable")

	ids := map[int]bool{}
	var walk func([]dashPanel)
	walk = func(ps []dashPanel) {
		for _, p := range ps {
			assert.False(t, ids[p.ID], "panel id %d used twice", p.ID)
			ids[p.ID] = true
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			assert.NotEmpty(t, p.Targets, "panel %q queries nothing", p.Title)
			assert.JSONEq(t, `{"type":"prometheus","uid":"${datasource}"}`, string(p.Datasource), "panel %q", p.Title)
			for _, tg := range p.Targets {
				assert.JSONEq(t, `{"type":"prometheus","uid":"${datasource}"}`, string(tg.Datasource), "panel %q", p.Title)
				exprs = append(exprs, "panel "+p.Title+"\x00"+tg.Expr)
			}
		}
	}
	walk(d.Panels)
	require.NotEmpty(t, exprs)

	used := map[string]bool{}
	pp := parser.NewParser(parser.Options{})
	for _, e := range exprs {
		where, expr, _ := strings.Cut(e, "\x00")
		node, err := pp.ParseExpr(grafanaIntervals.ReplaceAllString(expr, "5m"))
		if !assert.NoError(t, err, "%s: %s", where, expr) {
			continue
		}
		selectors := 0
		parser.Inspect(node, func(n parser.Node, _ []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			selectors++
			if !assert.NotEmpty(t, vs.Name, "%s: a selector without a metric name: %s", where, vs) {
				return nil
			}
			used[vs.Name] = true
			labels, ok := known[vs.Name]
			if !assert.True(t, ok, "%s: %s is not a metric loadgen exposes", where, vs.Name) {
				return nil
			}
			for _, lm := range vs.LabelMatchers {
				if lm.Name != "__name__" {
					assert.Contains(t, labels, lm.Name, "%s: %s has no label %s", where, vs.Name, lm.Name)
				}
			}
			return nil
		})
		assert.Positive(t, selectors, "%s selects no metric: %s", where, expr)
	}
	// The dashboard shows the headline figures of both sources.
	for _, name := range []string{"loadgen_offered_rps", "loadgen_achieved_rps", "loadgen_latency_p95_ms", "loadgen_campaign_max_sustainable_rps"} {
		assert.True(t, used[name], "the dashboard does not show %s", name)
	}
}
