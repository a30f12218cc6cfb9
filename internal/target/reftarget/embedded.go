package reftarget

import (
	"context"
	"errors"
	"fmt"
)

// ErrConfig is wrapped by errors in an embedded target's configuration.
var ErrConfig = errors.New("embedded target")

// StartEmbedded starts the reference target on a free loopback port, as
// `loadgen stress --target embedded` runs it inside the driver: replicas
// pods, capacityFactor and timeScale as in Config (0 = as documented). It
// returns the target's base URL and a function that stops it.
func StartEmbedded(replicas int, capacityFactor, timeScale float64) (url string, stop func(), err error) {
	cfg := DefaultConfig()
	cfg.Addr, cfg.Replicas = "127.0.0.1:0", replicas
	if capacityFactor > 0 {
		cfg.CapacityFactor = capacityFactor
	}
	if timeScale > 0 {
		cfg.TimeScale = timeScale
	}
	srv, err := New(cfg)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Start(ctx); err != nil {
		cancel()
		return "", nil, fmt.Errorf("embedded target: %w", err)
	}
	return srv.URL(), func() { cancel(); _ = srv.Close() }, nil
}

// StartEmbeddedConfig starts the reference target with cfg on a free
// loopback port (an HPA, a pod start-up time, …); it returns the server,
// its base URL and a function that stops it.
func StartEmbeddedConfig(cfg Config) (srv *Server, url string, stop func(), err error) {
	cfg.Addr = "127.0.0.1:0"
	if srv, err = New(cfg); err != nil {
		return nil, "", nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Start(ctx); err != nil {
		cancel()
		return nil, "", nil, fmt.Errorf("embedded target: %w", err)
	}
	return srv, srv.URL(), func() { cancel(); _ = srv.Close() }, nil
}
