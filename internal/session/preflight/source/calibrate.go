package source

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/k6step"
	"github.com/greenlang/loadgen/internal/core/stress"
	"github.com/greenlang/loadgen/internal/session/preflight"
	"github.com/greenlang/loadgen/scenarios"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// CalibrationVUs is the calibration's closed-model pool, as the README's
// ceiling measurement (payloadbench --only ceiling) runs it.
const CalibrationVUs = 10

// Calibration is a short k6 run, as the driver runs a step (k6step: the
// steamtrap output, no summary, no thresholds), of the campaign's scenario
// with its payloads, closed model (CalibrationVUs VUs sending as fast as k6
// can, --vus/--duration over the script's scenario), for Duration against
// a loopback sink in this process that answers 200 at once: what k6 itself
// spends per request on this machine at full speed.
type Calibration struct {
	// K6 runs k6 (e.g. [loadgen, "k6"]).
	K6       []string
	Config   campaign.Config
	Duration time.Duration
}

// Run runs the calibration and returns its figures. ctx's end stops k6.
func (c Calibration) Run(ctx context.Context) (preflight.Calibration, error) {
	script, err := scenarios.Resolve(c.Config.Scenario)
	if err != nil {
		return preflight.Calibration{}, err
	}
	dir, err := os.MkdirTemp("", "loadgen-preflight-")
	if err != nil {
		return preflight.Calibration{}, err
	}
	defer os.RemoveAll(dir)
	scriptPath := script.Path
	if scriptPath == "" {
		scriptPath = filepath.Join(dir, script.Name+".js")
		if err := os.WriteFile(scriptPath, script.Source, 0o644); err != nil {
			return preflight.Calibration{}, err
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return preflight.Calibration{}, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{}"))
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	// API_TOKEN stays out: the sink needs none.
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "API_TOKEN=") })
	runner := &k6step.Runner{K6: c.K6, Script: scriptPath, Dir: dir, Env: env,
		ExtraArgs: []string{"--vus", fmt.Sprint(CalibrationVUs), "--duration", c.Duration.String()}}
	cfg := c.Config
	cfg.StepDuration = campaign.Duration(c.Duration)
	cfg.Timeout = campaign.Duration(5 * time.Second)
	spec := stress.StepSpec(cfg, "http://"+ln.Addr().String(), 1, 1, 1, CalibrationVUs, CalibrationVUs)
	res, err := runner.Run(ctx, spec, func(measure.Second) {})
	if err != nil {
		return preflight.Calibration{}, err
	}
	cal, err := Steady(res.Seconds, res.Proc)
	if err != nil {
		return cal, fmt.Errorf("%w (k6 log: %s)", err, strings.TrimSpace(tailFile(filepath.Join(dir, res.LogFile))))
	}
	return cal, nil
}

// Steady sums the calibration's steady seconds: every second k6 reported
// but its first and last (k6 starting and stopping), the requests completed
// in them and k6's CPU time in the same wall-clock seconds (a second
// without a CPU sample is left out of both).
func Steady(secs []measure.Second, proc k6step.ProcInfo) (preflight.Calibration, error) {
	cal := preflight.Calibration{VUs: CalibrationVUs, AllowedCPUs: proc.AllowedCPUs}
	if len(secs) < 3 {
		return cal, fmt.Errorf("k6 reported %d second(s), too few to measure", len(secs))
	}
	if proc.AllowedCPUs <= 0 {
		return cal, errors.New("the CPUs k6 may use are unknown (no /proc?)")
	}
	steady := make(map[int64]int64) // second → requests
	for _, s := range secs[1 : len(secs)-1] {
		steady[s.StartUnix] += s.Requests
	}
	var busy float64
	for _, p := range proc.Samples {
		if n, ok := steady[p.StartUnix]; ok {
			cal.Seconds++
			cal.Requests += n
			cal.CPUSeconds += p.CPUSeconds
			busy += p.CPUsBusy
		}
	}
	if cal.Seconds == 0 {
		return cal, errors.New("no CPU sample of k6 in its steady seconds")
	}
	cal.CPUsBusy = busy / float64(cal.Seconds)
	return cal, nil
}

func tailFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-4):], " | ")
}
