package calibrate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/core/k6step"
	"github.com/greenlang/loadgen/scenarios"
)

// PerCPURPS is the prior: the open-model ceiling of one CPU of k6 with
// the step scenarios' payloads on the project machine (docs/perf.md:
// gl008-step 4,375–5,032, gl006-step 4,464–5,220 req/s). The staircase
// spans it from LowFactor to HighFactor times, so that a machine several
// times slower or faster is still measured, not assumed.
const (
	PerCPURPS  = 4500
	LowFactor  = 0.3
	HighFactor = 1.6
	// StairRatio is one stair over the one below: the ceiling lies between
	// the highest passing stair and the next (an interval of 12%).
	StairRatio = 1.12
	// StairLength is each stair's; Slack the requests of how long may be in
	// flight or a little late at a stair's end (Judge). 15 stairs, 3.3 s:
	// with k6's start and its VUs' (about 0.6 ms a VU), about 4½ s on the
	// project machine.
	StairLength = 220 * time.Millisecond
	Slack       = 10 * time.Millisecond
	// SkipPerCPU: a campaign whose highest rate is at most this per CPU
	// k6 may use is not calibrated; no generator measured with loadgen
	// offered less than twice as much (docs/perf.md).
	SkipPerCPU = 1000
	// MaxOtherCPUs is how much CPU others (neither k6 nor this process) may
	// use during a calibration whose ceiling is cached; more, and the figure
	// is used for this campaign only and measured again next time.
	MaxOtherCPUs = 0.3
)

// NewPlan is the staircase for k6 that may use cpus CPUs: geometric
// from LowFactor to HighFactor times PerCPURPS × cpus.
func NewPlan(cpus float64) Plan {
	expect := PerCPURPS * math.Max(cpus, 1)
	var rates []int
	for r := LowFactor * expect; r <= HighFactor*expect*1.0001; r *= StairRatio {
		rates = append(rates, int(math.Round(r/10)*10))
	}
	return Plan{Rates: rates, Stair: StairLength, Slack: Slack, PoolRPS: int(expect)}
}

// Request is a calibration as a campaign asks for it.
type Request struct {
	K6     []string
	Config campaign.Config
	// Env is k6's environment without secrets (the sink needs none).
	Env []string
	// CacheDir is where ceilings are kept ("" = Dir()).
	CacheDir string
	// Force measures again whatever the cache holds.
	Force bool
	// Now is the clock (nil = time.Now).
	Now func() time.Time
	// Progress is told when a measurement starts (nil: nothing).
	Progress io.Writer
}

// Result is a calibration's outcome: the ceiling, and whether it came from
// the cache or was kept in it.
type Result struct {
	Ceiling
	Cached bool   `json:"cached"`
	Kept   bool   `json:"kept"`
	Note   string `json:"note,omitempty"`
	File   string `json:"file,omitempty"`
}

// ErrNoCPUInfo is returned when the CPUs k6 may use cannot be read.
var ErrNoCPUInfo = errors.New("calibrate: the CPUs k6 may use are unknown")

// Get returns the generator's ceiling for the request: the cached one, or
// a new measurement (kept when the machine was quiet enough). Only one
// calibration runs at a time on a machine: another waits for it (a file
// lock in the cache directory) and then reads what it kept.
func Get(ctx context.Context, req Request) (Result, error) {
	now := time.Now
	if req.Now != nil {
		now = req.Now
	}
	dir := req.CacheDir
	if dir == "" {
		d, err := Dir()
		if err != nil {
			return Result{}, err
		}
		dir = d
	}
	key, err := KeyFor(req.K6, req.Config, req.Env)
	if err != nil {
		return Result{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Result{}, err
	}
	unlock, err := lock(ctx, filepath.Join(dir, ".lock"))
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	file := filepath.Join(dir, key.ID()+".json")
	if !req.Force {
		if c, ok := lookup(dir, key, now()); ok {
			return Result{Ceiling: c, Cached: true, File: file}, nil
		}
	}
	if req.Progress != nil {
		fmt.Fprintf(req.Progress, "generator: calibrating the open-model ceiling of %s on this machine (about 5 s, once per machine and build)…\n", Workload(req.Config))
	}
	c, err := Measure(ctx, Measurement{K6: req.K6, Config: req.Config, Env: req.Env, Plan: NewPlan(key.Machine.AllowedCPUs)})
	if err != nil {
		return Result{}, err
	}
	c.Key = key
	res := Result{Ceiling: c}
	if c.OtherCPUs > MaxOtherCPUs {
		res.Note = fmt.Sprintf("other processes used about %.1f CPUs while it ran: not kept, measured again next time", c.OtherCPUs)
		return res, nil
	}
	if err := store(dir, c); err != nil {
		res.Note = fmt.Sprintf("not kept: %v", err)
		return res, nil
	}
	res.Kept, res.File = true, file
	return res, nil
}

// KeyFor is the cache key of a calibration of cfg's workload by k6.
func KeyFor(k6 []string, cfg campaign.Config, env []string) (Key, error) {
	if len(k6) == 0 {
		return Key{}, errors.New("calibrate: no k6 command")
	}
	build, err := BuildID(k6[0])
	if err != nil {
		return Key{}, fmt.Errorf("calibrate: the k6 build: %w", err)
	}
	s, err := scenarios.Resolve(cfg.Scenario)
	if err != nil {
		return Key{}, err
	}
	sum := sha256.Sum256(s.Source)
	allowed := k6step.SelfAllowedCPUs()
	if allowed <= 0 {
		return Key{}, ErrNoCPUInfo
	}
	k := Key{Machine: ThisMachine(allowed), K6Build: build, Script: s.Name, ScriptID: hex.EncodeToString(sum[:]),
		Endpoint: cfg.Endpoint, Runners: cfg.RunnerCount()}
	for _, kv := range k6step.ChildEnv(env, cfg.RunnerCount()) {
		for _, name := range []string{"GOGC=", "GOMAXPROCS=", "GOMEMLIMIT="} {
			if strings.HasPrefix(kv, name) {
				k.Env = append(k.Env, kv)
			}
		}
	}
	return k, nil
}

// lock takes an exclusive lock on path, waiting for it until ctx ends.
func lock(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); _ = f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Workload names what a calibration measures: the script, its endpoint
// and the runners ("gl008-step inspection (2 runners)").
func Workload(cfg campaign.Config) string {
	s := cfg.Scenario
	if cfg.Endpoint != "" {
		s += " " + cfg.Endpoint
	}
	if n := cfg.RunnerCount(); n > 1 {
		return fmt.Sprintf("%s (%d runners)", s, n)
	}
	return s
}
