package stress

import (
	"fmt"

	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/k6step"
	"github.com/greenlang/loadgen/internal/kit/redact"
)

// StepSpec is the step a campaign asks its StepRunner for: step idx
// (attempt) at rps req/s with its VU pool, loading baseURL, with the
// campaign's script environment. A baseURL with a password is left out:
// it reaches k6 as a secret (session.Secrets), never on its command line.
func StepSpec(cfg campaign.Config, baseURL string, idx, attempt, rps, pre, maxVUs int) k6step.Spec {
	env := map[string]string{"BASE_URL": baseURL, "ENDPOINT": cfg.Endpoint, "SEED": fmt.Sprint(cfg.Seed)}
	if redact.Password(baseURL) != "" {
		delete(env, "BASE_URL")
	}
	for k, v := range cfg.Env {
		env[k] = v
	}
	if cfg.Timeout > 0 {
		env["TIMEOUT"] = fmt.Sprintf("%dms", cfg.Timeout.D().Milliseconds())
	}
	return k6step.Spec{Index: idx, Attempt: attempt, RPS: rps, Duration: cfg.StepDuration.D(),
		PreVUs: pre, MaxVUs: maxVUs, RequestTimeout: cfg.RequestTimeout(), ScriptEnv: env}
}

// FirstStep is a new campaign's first step as Execute would run it, before
// anything was measured (what a dry run shows).
func FirstStep(cfg campaign.Config, baseURL string) (k6step.Spec, error) {
	plan, err := NewPlan(cfg)
	if err != nil {
		return k6step.Spec{}, badInput("%v", err)
	}
	step, ok := plan.Next()
	if !ok {
		return k6step.Spec{}, badInput("the campaign has no step to run")
	}
	pre, maxVUs := SizeVUs(cfg, step.RPS, 0)
	return StepSpec(cfg, baseURL, 1, 1, step.RPS, pre, maxVUs), nil
}
