package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/kit/atomicfile"
)

// Schema identifies this version of sweep.json.
const Schema = "loadgen/sweep/v1"

// FileName is the sweep record in a sweep directory.
const FileName = "sweep.json"

// Status is how far a sweep got.
type Status string

// The statuses of a sweep.
const (
	Running     Status = "running"
	Completed   Status = "completed"   // every replica count was swept
	Interrupted Status = "interrupted" // Ctrl-C (or SIGTERM)
	Aborted     Status = "aborted"     // scaling, readiness or a campaign's record failed
)

// Record is sweep.json: the sweep's settings, each campaign as it ended,
// the scaler (and whether the original replica count was restored), and
// the analysis of what was measured so far. It is rewritten atomically
// after every campaign, so an interrupted sweep leaves a readable record.
type Record struct {
	Schema      string     `json:"schema"`
	Status      Status     `json:"status"`
	AbortReason string     `json:"abort_reason,omitempty"`
	StartedAt   time.Time  `json:"started_at"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	Target      string     `json:"target"`
	Scenario    string     `json:"scenario"`
	Endpoint    string     `json:"endpoint"`
	Service     string     `json:"service"`
	Benchmarks  string     `json:"benchmarks,omitempty"`
	// Replicas are the replica counts in the order they are run.
	Replicas []int `json:"replicas"`
	// HPAMaxReplicas is the replica count the USL fit is evaluated at.
	HPAMaxReplicas int `json:"hpa_max_replicas,omitempty"`
	// Resumed counts the sessions that continued the sweep (--resume).
	Resumed int `json:"resumed,omitempty"`
	// Config is one replica's campaign: each campaign multiplies its
	// rates (start, step, max) by its replica count.
	Config    campaign.Config `json:"config"`
	Scaler    ScalerRecord    `json:"scaler"`
	Campaigns []CampaignEntry `json:"campaigns"`
	Analysis  *Analysis       `json:"analysis,omitempty"`
}

// ScalerRecord is what was scaled, and how it was left.
type ScalerRecord struct {
	// Kind is embedded, admin or kubernetes; Object what it scales.
	Kind   string `json:"kind"`
	Object string `json:"object"`
	// Namespace and Name are the Deployment a kubernetes scaler scales
	// (Object names it for a reader; --resume scales these).
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	// OriginalReplicas is the count before the sweep; Restored whether it
	// was set back at the end (RestoreError when that failed).
	OriginalReplicas int    `json:"original_replicas"`
	Restored         bool   `json:"restored"`
	RestoreError     string `json:"restore_error,omitempty"`
}

// CampaignEntry is one campaign of the sweep.
type CampaignEntry struct {
	Replicas int `json:"replicas"`
	// Dir is the campaign's run directory, relative to the sweep's.
	Dir string `json:"dir"`
	// Status is run.json's (completed, interrupted, aborted,
	// inconclusive), or "not_started" when scaling failed first.
	Status            string  `json:"status"`
	Found             bool    `json:"found"`
	MaxSustainableRPS float64 `json:"max_sustainable_rps"`
	FirstFailingRPS   float64 `json:"first_failing_rps"`
	Reason            string  `json:"reason,omitempty"`
	GeneratorBound    bool    `json:"generator_bound,omitempty"`
	ReadyAfterS       float64 `json:"ready_after_s"`
	// StartedAt is when the sweep began scaling for the campaign; for one
	// a resumed sweep continued, when its run began.
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Error      string     `json:"error,omitempty"`
}

// Write replaces dir/sweep.json atomically.
func (r *Record) Write(dir string) error {
	return atomicfile.Write(filepath.Join(dir, FileName), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	})
}

// Read reads dir/sweep.json. It refuses, naming the file and the fields, a
// record that is not JSON, has another schema (a newer loadgen/sweep/vN
// says so), or lacks what every sweep writes before its first campaign
// (check).
func Read(dir string) (*Record, error) {
	path := filepath.Join(dir, FileName)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Schema != Schema {
		if v, ok := strings.CutPrefix(r.Schema, "loadgen/sweep/v"); ok && v > "1" {
			return nil, fmt.Errorf("%s has schema %q, written by a newer loadgen: this one reads %q", path, r.Schema, Schema)
		}
		return nil, fmt.Errorf("%s: schema %q, want %q", path, r.Schema, Schema)
	}
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &r, nil
}

// check refuses a sweep.json that has the schema but not what every sweep
// writes before its first campaign (a status, when it started, its target,
// scenario and replica counts), or campaigns that are not the sweep's:
// another replica count, a directory outside the sweep's.
func (r *Record) check() error {
	var problems []string
	switch r.Status {
	case Running, Completed, Interrupted, Aborted:
	case "":
		problems = append(problems, "status: missing: want running, completed, interrupted or aborted")
	default:
		problems = append(problems, fmt.Sprintf("status %q: want running, completed, interrupted or aborted", r.Status))
	}
	if r.StartedAt.IsZero() {
		problems = append(problems, "started_at: missing: want the time the sweep started")
	}
	if r.Target == "" {
		problems = append(problems, "target: missing")
	}
	if r.Scenario == "" {
		problems = append(problems, "scenario: missing")
	}
	counts := map[int]bool{}
	if len(r.Replicas) == 0 {
		problems = append(problems, "replicas: lists no replica counts: want the counts swept, e.g. [1, 2, 4]")
	}
	for i, n := range r.Replicas {
		switch {
		case n < 1 || n > 1000:
			problems = append(problems, fmt.Sprintf("replicas[%d] %d: want 1–1000", i, n))
		case counts[n]:
			problems = append(problems, fmt.Sprintf("replicas[%d] %d: given twice", i, n))
		}
		counts[n] = true
	}
	for i, c := range r.Campaigns {
		if !counts[c.Replicas] {
			problems = append(problems, fmt.Sprintf("campaigns[%d].replicas %d: not one of replicas %v", i, c.Replicas, r.Replicas))
		}
		if c.Dir != "" && c.Dir != CampaignDir(c.Replicas) {
			problems = append(problems, fmt.Sprintf("campaigns[%d].dir %q: want %q, the campaign's directory in the sweep's", i, c.Dir, CampaignDir(c.Replicas)))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// Measurements are the campaigns as Analyze takes them.
func (r *Record) Measurements() []Measured {
	var out []Measured
	for _, c := range r.Campaigns {
		if c.Status == "not_started" {
			continue
		}
		m := Measured{Replicas: c.Replicas, Found: c.Found, MaxSustainableRPS: c.MaxSustainableRPS, FirstFailingRPS: c.FirstFailingRPS}
		if !c.Found {
			m.Note = fmt.Sprintf("%s: %s", c.Status, c.Reason)
		}
		out = append(out, m)
	}
	return out
}
