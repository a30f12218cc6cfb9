package preflight

import (
	"errors"
	"fmt"
	"strings"
)

// Guide's thresholds (GL-008 "Pre-Scaling Checklist").
const (
	GuideInstanceType   = "n1-standard-4"
	GuideMinNodes       = 5
	GuideMinConnections = 200
	GuideAlertsNS       = "monitoring"
	GuideAlertsSelector = "app=steam-trap-inspector"
	// InstanceTypeLabel is the well-known node label the guide selects on.
	InstanceTypeLabel = "node.kubernetes.io/instance-type"
)

// Node is what check 1 needs of a Kubernetes node.
type Node struct {
	Name         string
	InstanceType string // its node.kubernetes.io/instance-type label
	// Ready is its Ready condition being True.
	Ready bool
	// Unschedulable is a cordoned node (spec.unschedulable): Ready, but it
	// takes no new pods.
	Unschedulable bool
}

// NodesObserved are check 1's figures.
type NodesObserved struct {
	InstanceType string `json:"instance_type"`
	Ready        int    `json:"ready"`
	NotReady     int    `json:"not_ready"`
	Cordoned     int    `json:"cordoned"`
	Min          int    `json:"min"`
}

// JudgeNodes is check 1: the nodes of the instance type that are Ready and
// schedulable, at least min of them. (The guide's `kubectl get nodes … |
// grep Ready | wc -l` also counts NotReady and cordoned nodes, which cannot
// take the new pods; they are counted apart here.)
func JudgeNodes(nodes []Node, instanceType string, min int) Check {
	o := NodesObserved{InstanceType: instanceType, Min: min}
	for _, n := range nodes {
		switch {
		case n.InstanceType != instanceType:
		case !n.Ready:
			o.NotReady++
		case n.Unschedulable:
			o.Cordoned++
		default:
			o.Ready++
		}
	}
	var aside []string
	if o.NotReady > 0 {
		aside = append(aside, fmt.Sprintf("%d NotReady", o.NotReady))
	}
	if o.Cordoned > 0 {
		aside = append(aside, fmt.Sprintf("%d cordoned", o.Cordoned))
	}
	extra := ""
	if len(aside) > 0 {
		extra = "; not counted: " + strings.Join(aside, ", ")
	}
	c := Check{Source: fmt.Sprintf("Kubernetes API: nodes with %s=%s", InstanceTypeLabel, instanceType), Observed: o}
	if o.Ready < min {
		c.Status = Warning
		c.Detail = fmt.Sprintf("only %d Ready %s node(s), %d wanted: consider adding nodes%s", o.Ready, instanceType, min, extra)
	} else {
		c.Status = OK
		c.Detail = fmt.Sprintf("%d Ready %s node(s) (≥ %d)%s", o.Ready, instanceType, min, extra)
	}
	return c
}

// Database is what checks 2 and 4 read from PostgreSQL.
type Database struct {
	// Name is the database whose size was read.
	Name           string
	MaxConnections int
	SizeBytes      int64
	// Version is the server's server_version.
	Version string
}

// ConnectionsObserved are check 2's figures.
type ConnectionsObserved struct {
	MaxConnections int `json:"max_connections"`
	Min            int `json:"min"`
}

// JudgeConnections is check 2: max_connections, with a warning under min.
func JudgeConnections(d Database, min int) Check {
	c := Check{Source: "PostgreSQL: SHOW max_connections", Observed: ConnectionsObserved{MaxConnections: d.MaxConnections, Min: min}}
	if d.MaxConnections < min {
		c.Status = Warning
		c.Detail = fmt.Sprintf("max_connections %d may be insufficient (the guide wants ≥ %d)", d.MaxConnections, min)
	} else {
		c.Status = OK
		c.Detail = fmt.Sprintf("max_connections %d (≥ %d)", d.MaxConnections, min)
	}
	return c
}

// DiskObserved are check 4's figures.
type DiskObserved struct {
	Database  string `json:"database"`
	SizeBytes int64  `json:"size_bytes"`
}

// JudgeDisk is check 4: the database's size is read; whether its volume has
// more than 30% free is for a person to verify (PostgreSQL does not tell),
// so the check is Manual, as the guide's is.
func JudgeDisk(d Database) Check {
	return Check{Status: Manual, Source: "PostgreSQL: pg_database_size",
		Observed: DiskObserved{Database: d.Name, SizeBytes: d.SizeBytes},
		Detail:   fmt.Sprintf("database %s is %s; ensure > 30%% free disk on its volume (manual)", d.Name, PrettySize(d.SizeBytes))}
}

// PrettySize formats a byte count in the manner of the guide's
// pg_size_pretty: whole numbers of bytes, kB, MB, GB, TB (powers of 1024),
// a unit kept until the value reaches 10 240 of it.
func PrettySize(b int64) string {
	units := []string{"bytes", "kB", "MB", "GB", "TB", "PB"}
	size := float64(b)
	i := 0
	for i < len(units)-1 && abs(size) >= 10*1024-0.5 {
		size /= 1024
		i++
	}
	return fmt.Sprintf("%.0f %s", roundHalfUp(size), units[i])
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func roundHalfUp(x float64) float64 {
	if x < 0 {
		return -roundHalfUp(-x)
	}
	return float64(int64(x + 0.5))
}

// AlertsObserved are check 8's figures.
type AlertsObserved struct {
	Namespace string   `json:"namespace"`
	Selector  string   `json:"selector"`
	Rules     []string `json:"rules"`
	// NoCRD: the cluster does not serve PrometheusRules at all (their CRD,
	// prometheus-operator's, is not installed).
	NoCRD bool `json:"no_crd,omitempty"`
}

// ErrNoPrometheusRuleCRD is what a Rules source returns when the cluster
// does not serve prometheusrules.monitoring.coreos.com/v1 at all: the
// question was answered (there can be no rules), so check 8 is a warning,
// not an error.
var ErrNoPrometheusRuleCRD = errors.New("the cluster does not serve prometheusrules.monitoring.coreos.com/v1: the PrometheusRule CRD (prometheus-operator's) is not installed")

// JudgeNoPrometheusRuleCRD is check 8 when the cluster has no PrometheusRule
// CRD: a warning, as the guide's script warns when it finds no rule.
func JudgeNoPrometheusRuleCRD(namespace, selector string) Check {
	return Check{Status: Warning,
		Source:   fmt.Sprintf("Kubernetes API: prometheusrules.monitoring.coreos.com in %s, %s", namespace, selector),
		Observed: AlertsObserved{Namespace: namespace, Selector: selector, Rules: []string{}, NoCRD: true},
		Detail:   "no PrometheusRule CRD in the cluster (prometheusrules.monitoring.coreos.com/v1 is not served; is prometheus-operator installed?): no monitoring alerts"}
}

// JudgeAlerts is check 8: at least one PrometheusRule.
func JudgeAlerts(rules []string, namespace, selector string) Check {
	if rules == nil {
		rules = []string{}
	}
	c := Check{Source: fmt.Sprintf("Kubernetes API: prometheusrules.monitoring.coreos.com in %s, %s", namespace, selector),
		Observed: AlertsObserved{Namespace: namespace, Selector: selector, Rules: rules}}
	if len(rules) == 0 {
		c.Status = Warning
		c.Detail = fmt.Sprintf("no PrometheusRules in namespace %s with %s: no monitoring alerts", namespace, selector)
	} else {
		c.Status = OK
		c.Detail = fmt.Sprintf("%d PrometheusRule(s) in %s: %s", len(rules), namespace, strings.Join(rules, ", "))
	}
	return c
}

// TargetProbe is what probing the target found.
type TargetProbe struct {
	URL       string `json:"url"`
	HealthURL string `json:"health_url"`
	// Connected: something accepted a TCP connection at the URL's host.
	Connected    bool    `json:"connected"`
	ConnectError string  `json:"connect_error,omitempty"`
	Status       int     `json:"status,omitempty"`
	HTTPError    string  `json:"http_error,omitempty"`
	Millis       float64 `json:"ms,omitempty"`
}

// JudgeTarget is the target check: it accepts connections and its health
// endpoint answers 2xx.
func JudgeTarget(p TargetProbe) Check {
	c := Check{Source: "TCP connect, then GET " + p.HealthURL, Observed: p}
	switch {
	case !p.Connected:
		c.Status = Warning
		c.Detail = fmt.Sprintf("nothing accepts connections at %s: %s", p.URL, p.ConnectError)
	case p.HTTPError != "":
		c.Status = Warning
		c.Detail = fmt.Sprintf("GET %s failed: %s", p.HealthURL, p.HTTPError)
	case p.Status < 200 || p.Status > 299:
		c.Status = Warning
		c.Detail = fmt.Sprintf("GET %s answered %d", p.HealthURL, p.Status)
	default:
		c.Status = OK
		c.Detail = fmt.Sprintf("GET %s answered %d in %.0f ms", p.HealthURL, p.Status, p.Millis)
	}
	return c
}
