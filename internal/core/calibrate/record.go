package calibrate

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/runrecord"
	"github.com/greenlang/loadgen/internal/kit/numfmt"
)

// WithoutSecrets is env (nil: this process's) without API_TOKEN, BASE_URL,
// names that look like a secret's and any variable holding one of the
// secret values: a calibration's k6 loads the sink, which needs none of
// them (Request.Env).
func WithoutSecrets(env, secrets []string) []string {
	if env == nil {
		env = os.Environ()
	}
	var out []string
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		if _, secret := campaign.SecretLike(name); secret || name == "API_TOKEN" || name == "BASE_URL" || slices.Contains(secrets, value) {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// Record is the result as run.json keeps it (and preflight shows it):
// NextRPS is the stair above the ceiling, the first one k6 did not keep
// (the first stair when the ceiling is 0: k6 kept none).
func (r Result) Record() *runrecord.Calibration {
	at := r.MeasuredAt
	nextRPS := r.NextRPS
	if nextRPS == 0 && !r.AtLeast {
		nextRPS = next(r.Stairs, int(r.CeilingRPS))
	}
	return &runrecord.Calibration{CeilingRPS: r.CeilingRPS, NextRPS: float64(nextRPS), AtLeast: r.AtLeast, MeasuredAt: &at,
		Cached: r.Cached, Kept: r.Kept, Took: r.Took, PreVUs: r.PreVUs, K6CPUs: numfmt.Round(r.K6CPUs, 2), Note: r.Note}
}

// Figure is the interval the ceiling lies in: "4300–4820 req/s", "at least
// 7200 req/s" (no stair failed), "below 1350 req/s" (none kept).
func Figure(c *runrecord.Calibration) string {
	switch {
	case c.AtLeast:
		return fmt.Sprintf("at least %.0f req/s", c.CeilingRPS)
	case c.CeilingRPS == 0:
		return fmt.Sprintf("below %.0f req/s", c.NextRPS)
	}
	return fmt.Sprintf("%.0f–%.0f req/s", c.CeilingRPS, c.NextRPS)
}

// Describe says what a calibration found, in one line: the interval the
// ceiling lies in, the VU pool, and whether it was cached (when measured)
// or measured now (and why it was not kept).
func Describe(c *runrecord.Calibration) string {
	if c.Skipped != "" {
		return "not calibrated: " + c.Skipped
	}
	figure := Figure(c)
	switch {
	case c.AtLeast:
		figure += " (the staircase's top)"
	case c.CeilingRPS == 0:
		figure += " (the staircase's first stair)"
	}
	how := fmt.Sprintf("measured in %s", c.Took)
	if c.Cached {
		how = "measured " + c.MeasuredAt.Format("2006-01-02 15:04 MST") + ", cached"
	} else if c.Note != "" {
		how += "; " + c.Note
	}
	return fmt.Sprintf("open-model ceiling %s with %d VUs ready (%s)", figure, c.PreVUs, how)
}
