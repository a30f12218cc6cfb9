package reftarget

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/greenlang/loadgen/internal/kit/exitcode"
	"github.com/greenlang/loadgen/internal/kube/hpa"
)

// Resolve is c as `loadgen target` states it: cpu (--gl006-cpu) parsed into
// GL006CPUMillis, the HPA that HPAName names (--hpa: gl008, gl006 or a file)
// loaded, with its minReplicas as the replica count unless replicasGiven.
// A bad --hpa is said on its own; every other problem is said at once, as
// bad input ("target: …").
func (c Config) Resolve(cpu string, replicasGiven bool) (Config, error) {
	var problems []string
	if m, err := ParseCPU(cpu); err != nil {
		problems = append(problems, err.Error())
	} else {
		c.GL006CPUMillis = m
	}
	if c.HPAName != "" {
		spec, err := hpa.LoadFlag(c.HPAName)
		if err != nil {
			return c, err
		}
		c.HPA = spec
		if !replicasGiven {
			c.Replicas = int(spec.Min)
		}
	}
	for _, err := range c.Validate() {
		problems = append(problems, err.Error())
	}
	return c, exitcode.Problems("target: ", problems)
}

// ParseCPU parses a Kubernetes CPU quantity, millicores ("1500m") or cores
// ("1.5"), into millicores.
func ParseCPU(s string) (int64, error) {
	v, milli := strings.CutSuffix(strings.TrimSpace(s), "m")
	f, err := strconv.ParseFloat(v, 64)
	if err == nil && !milli {
		f *= 1000
	}
	if err != nil || !(f >= 1 && f <= math.MaxInt32) || f != math.Trunc(f) {
		return 0, fmt.Errorf("gl006-cpu %q: want millicores such as 1000m, or cores such as 1.5", s)
	}
	return int64(f), nil
}

// Serve runs a target of cfg until ctx ends (a clean shutdown: nil) or a
// crash fault crashes it (exit 3, exitcode.Interrupted), calling listening
// with its base URL once it accepts connections.
func Serve(ctx context.Context, cfg Config, listening func(url string)) error {
	srv, err := New(cfg)
	if err != nil {
		return exitcode.Usage("target: %v", err)
	}
	if err := srv.Start(ctx); err != nil {
		return exitcode.Usage("%v", err)
	}
	listening(srv.URL())
	<-srv.Done()
	if srv.Crashed() {
		return exitcode.New(exitcode.Interrupted, errors.New("target crashed (injected fault)"))
	}
	if err := srv.Close(); err != nil {
		return exitcode.New(exitcode.Interrupted, err)
	}
	return nil
}
