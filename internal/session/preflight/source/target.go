package source

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/greenlang/loadgen/internal/core/stress"
	"github.com/greenlang/loadgen/internal/session/preflight"
)

// ProbeTimeout bounds each of the target probe's two steps.
const ProbeTimeout = 5 * time.Second

// Target probes the target as stress does before its first step (a TCP
// connect: stress.DialProbe), then GETs its health endpoint (base +
// healthPath). What failed is in the probe, not an error: the target's
// absence is the check's finding.
func Target(baseURL, healthPath string) func(context.Context) (preflight.TargetProbe, error) {
	return func(ctx context.Context) (preflight.TargetProbe, error) {
		p := preflight.TargetProbe{URL: baseURL, HealthURL: strings.TrimRight(baseURL, "/") + healthPath}
		if err := stress.DialProbe(ctx, baseURL); err != nil {
			p.ConnectError = err.Error()
			return p, nil
		}
		p.Connected = true
		hctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
		defer cancel()
		req, err := http.NewRequestWithContext(hctx, http.MethodGet, p.HealthURL, nil)
		if err != nil {
			return p, fmt.Errorf("health URL %s: %w", p.HealthURL, err)
		}
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			p.HTTPError = err.Error()
			return p, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
		p.Status = resp.StatusCode
		p.Millis = float64(time.Since(start).Microseconds()) / 1000
		return p, nil
	}
}
