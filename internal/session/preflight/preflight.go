// Package preflight is the GL-008 guide's pre-scaling checklist (its eight
// checks, "Pre-Scaling Checklist") plus the two a load test adds: the load
// generator's ceiling against the campaign's highest rate, and the target
// reachable. It judges what the sources found and decides readiness; it
// does no I/O itself: every source is a function the caller supplies
// (internal/session/preflight/source holds the real ones: client-go, pgx, k6, HTTP).
package preflight

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Schema names the JSON form of a Report.
const Schema = "loadgen/preflight/v1"

// Status is a check's outcome.
type Status string

// Statuses. Ready means every check is OK or Manual, or Skipped by the
// user's own --skip; Warning, Error and a Skipped the user did not ask for
// make the checklist not ready.
const (
	// OK: the check ran and found what the guide asks for.
	OK Status = "ok"
	// Warning: the check ran and found less than the guide asks for.
	Warning Status = "warning"
	// Manual: no machine-readable source; a person must verify it.
	Manual Status = "manual"
	// Skipped: the check could not run because its source is not
	// configured (no cluster, no database URL), or --skip named it.
	Skipped Status = "skipped"
	// Error: the source is configured but could not be asked (refused,
	// denied, timed out).
	Error Status = "error"
)

// Check IDs, in the order they run and print. The first eight are the
// guide's, numbered as in its script.
const (
	NodesID        = "nodes"
	DBPoolID       = "db-pool"
	LoadBalancerID = "load-balancer"
	DiskID         = "disk"
	NetworkID      = "network"
	RateLimitsID   = "rate-limits"
	CostID         = "cost"
	AlertsID       = "alerts"
	GeneratorID    = "generator"
	TargetID       = "target"
)

// IDs are every check's ID in order.
var IDs = []string{NodesID, DBPoolID, LoadBalancerID, DiskID, NetworkID, RateLimitsID, CostID, AlertsID, GeneratorID, TargetID}

var titles = map[string]string{
	NodesID:        "Node capacity",
	DBPoolID:       "Database connection pool",
	LoadBalancerID: "Load balancer limits",
	DiskID:         "Disk space",
	NetworkID:      "Network bandwidth",
	RateLimitsID:   "External API rate limits",
	CostID:         "Cost budget",
	AlertsID:       "Monitoring alerts",
	GeneratorID:    "Load generator ceiling",
	TargetID:       "Target reachable",
}

// GuideChecks is how many of the checks are the guide's (numbered 1–8).
const GuideChecks = 8

// Check is one check's outcome.
type Check struct {
	// N is the guide's number (1–8), 0 for the checks loadgen adds.
	N      int    `json:"n"`
	ID     string `json:"id"`
	Title  string `json:"title"`
	Status Status `json:"status"`
	// Detail says what was found, in one line, or what to verify by hand.
	Detail string `json:"detail"`
	// Source is where the finding came from (an API, a query, a figure).
	Source string `json:"source,omitempty"`
	// Observed holds the check's figures (a typed struct per check).
	Observed any `json:"observed,omitempty"`
	// SkippedByUser is true when --skip named the check: it was not run,
	// and it does not stand in the way of readiness.
	SkippedByUser bool `json:"skipped_by_user,omitempty"`
}

// Blocks reports whether the check stands in the way of readiness.
func (c Check) Blocks() bool {
	switch c.Status {
	case OK, Manual:
		return false
	case Skipped:
		return !c.SkippedByUser
	}
	return true
}

// Report is the checklist's outcome.
type Report struct {
	Schema string  `json:"schema"`
	Ready  bool    `json:"ready"`
	Checks []Check `json:"checks"`
	// Blocking lists the IDs of the checks that make it not ready.
	Blocking []string `json:"blocking"`
}

// Finish sets Ready and Blocking from the checks.
func (r *Report) Finish() {
	r.Schema = Schema
	r.Blocking = []string{}
	for _, c := range r.Checks {
		if c.Blocks() {
			r.Blocking = append(r.Blocking, c.ID)
		}
	}
	r.Ready = len(r.Blocking) == 0
}

// Options are the checklist's thresholds and what the sources point at
// (for the details).
type Options struct {
	// InstanceType is the node.kubernetes.io/instance-type label value the
	// guide counts (n1-standard-4); MinNodes how many Ready nodes it asks
	// for (5).
	InstanceType string
	MinNodes     int
	// MinConnections is the max_connections under which the guide warns
	// (200).
	MinConnections int
	// AlertsNamespace and AlertsSelector are where the PrometheusRules are
	// looked for (monitoring, app=steam-trap-inspector).
	AlertsNamespace, AlertsSelector string
	// MaxRPS is the campaign's highest offered rate, req/s.
	MaxRPS float64
	// Skip lists check IDs the user skipped (--skip): they are not run.
	Skip []string
}

// Sources fetch what the checks judge. A nil source is not configured: its
// checks are Skipped with the matching *Missing reason.
type Sources struct {
	Nodes        func(context.Context) ([]Node, error)
	NodesMissing string
	// Rules returns ErrNoPrometheusRuleCRD (wrapped) when the cluster has
	// no PrometheusRule resource.
	Rules        func(context.Context) ([]string, error)
	RulesMissing string
	Database     func(context.Context) (Database, error)
	DBMissing    string
	// DBName is the (redacted) database address, for the details.
	DBName        string
	Generator     func(context.Context) (Generator, error)
	Target        func(context.Context) (TargetProbe, error)
	TargetMissing string
}

// Run runs every check in order, each with its source, and returns the
// finished report. Sources are called at most once each, and not at all for
// checks in opts.Skip.
func Run(ctx context.Context, src Sources, opts Options) Report {
	skipped := func(id string) bool { return slices.Contains(opts.Skip, id) }
	var r Report
	add := func(id string, run func() Check) {
		var c Check
		if skipped(id) {
			c = Check{Status: Skipped, Detail: "skipped by --skip", SkippedByUser: true}
		} else {
			c = run()
		}
		c.ID, c.Title = id, titles[id]
		if n := slices.Index(IDs, id); n < GuideChecks {
			c.N = n + 1
		}
		r.Checks = append(r.Checks, c)
	}

	add(NodesID, func() Check {
		if src.Nodes == nil {
			return missing(src.NodesMissing)
		}
		nodes, err := src.Nodes(ctx)
		if err != nil {
			return failed("Kubernetes API", err)
		}
		return JudgeNodes(nodes, opts.InstanceType, opts.MinNodes)
	})

	// The database is asked once, for checks 2 and 4.
	var (
		db      Database
		dbErr   error
		dbAsked bool
	)
	database := func() (Database, error) {
		if !dbAsked {
			db, dbErr = src.Database(ctx)
			dbAsked = true
		}
		return db, dbErr
	}
	add(DBPoolID, func() Check {
		if src.Database == nil {
			return missing(src.DBMissing)
		}
		d, err := database()
		if err != nil {
			return failed("PostgreSQL "+src.DBName, err)
		}
		return JudgeConnections(d, opts.MinConnections)
	})
	add(LoadBalancerID, func() Check {
		return manual("verify the load balancer's connection and request limits (and its health checks) for the planned load")
	})
	add(DiskID, func() Check {
		if src.Database == nil {
			c := missing(src.DBMissing)
			c.Detail += "; ensure > 30% free disk (manual)"
			return c
		}
		d, err := database()
		if err != nil {
			return failed("PostgreSQL "+src.DBName, err)
		}
		return JudgeDisk(d)
	})
	add(NetworkID, func() Check {
		return manual("verify network bandwidth between clients, load balancer, pods and database for the planned load")
	})
	add(RateLimitsID, func() Check {
		return manual("verify the external APIs' rate limits (and their quotas) allow the planned load")
	})
	add(CostID, func() Check {
		return manual("estimate the monthly cost increase of the scaling plan against the budget (`loadgen forecast` prints the guide's cost model)")
	})
	add(AlertsID, func() Check {
		if src.Rules == nil {
			return missing(src.RulesMissing)
		}
		rules, err := src.Rules(ctx)
		if errors.Is(err, ErrNoPrometheusRuleCRD) {
			return JudgeNoPrometheusRuleCRD(opts.AlertsNamespace, opts.AlertsSelector)
		}
		if err != nil {
			return failed("Kubernetes API", err)
		}
		return JudgeAlerts(rules, opts.AlertsNamespace, opts.AlertsSelector)
	})
	add(GeneratorID, func() Check {
		if src.Generator == nil {
			return missing("no load generator to measure")
		}
		g, err := src.Generator(ctx)
		if err != nil {
			return failed("calibration", err)
		}
		return JudgeGenerator(g, opts.MaxRPS)
	})
	add(TargetID, func() Check {
		if src.Target == nil {
			return missing(src.TargetMissing)
		}
		p, err := src.Target(ctx)
		if err != nil {
			return failed("probe", err)
		}
		return JudgeTarget(p)
	})
	r.Finish()
	return r
}

func missing(why string) Check {
	if why == "" {
		why = "no source configured"
	}
	return Check{Status: Skipped, Detail: why}
}

func manual(what string) Check {
	return Check{Status: Manual, Detail: what, Source: "manual verification"}
}

func failed(source string, err error) Check {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	return Check{Status: Error, Detail: fmt.Sprintf("cannot ask %s: %s", source, msg), Source: source}
}
