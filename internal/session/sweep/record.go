package sweep

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// Read reads dir/sweep.json.
func Read(dir string) (*Record, error) {
	data, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, FileName), err)
	}
	if r.Schema != Schema {
		return nil, fmt.Errorf("%s: schema %q, want %q", filepath.Join(dir, FileName), r.Schema, Schema)
	}
	return &r, nil
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
