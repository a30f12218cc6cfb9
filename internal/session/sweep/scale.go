package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Scaler sets the replica count of what a sweep loads. Its methods return
// when ctx ends.
type Scaler interface {
	// Kind is "embedded", "admin" or "kubernetes"; Object names what is
	// scaled ("deployment greenlang-gl008/steam-trap-inspector").
	Kind() string
	Object() string
	// Current is the replica count asked for now.
	Current(ctx context.Context) (int, error)
	// Scale asks for n replicas.
	Scale(ctx context.Context, n int) error
	// WaitReady returns once n replicas are ready, calling progress with a
	// line whenever what it waits on changes.
	WaitReady(ctx context.Context, n int, progress func(string)) error
}

// AdminScaler scales the reference target (loadgen target, or the one
// `--target embedded` runs inside the driver) through its loopback admin
// API: POST /admin/replicas, GET /admin/state.
type AdminScaler struct {
	// BaseURL is the target's; Embedded says it runs inside the driver.
	BaseURL  string
	Embedded bool
	// Client defaults to one with a 10 s timeout; Poll (default 100 ms) is
	// how often WaitReady asks.
	Client *http.Client
	Poll   time.Duration
}

// adminState is the part of the target's /admin/state a sweep reads.
type adminState struct {
	Replicas int `json:"replicas"`
	PodsUp   int `json:"pods_up"`
}

// Kind implements Scaler.
func (a *AdminScaler) Kind() string {
	if a.Embedded {
		return "embedded"
	}
	return "admin"
}

// Object implements Scaler.
func (a *AdminScaler) Object() string { return "reference target " + a.BaseURL }

func (a *AdminScaler) client() *http.Client {
	if a.Client != nil {
		return a.Client
	}
	return &http.Client{Timeout: 10 * time.Second}
}

func (a *AdminScaler) do(ctx context.Context, method, path string, body any) (adminState, error) {
	var st adminState
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return st, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(a.BaseURL, "/")+path, rd)
	if err != nil {
		return st, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.client().Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return st, err
	}
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(data)))
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("%s %s: not the reference target's admin API: %w", method, path, err)
	}
	return st, nil
}

// Current implements Scaler.
func (a *AdminScaler) Current(ctx context.Context) (int, error) {
	st, err := a.do(ctx, http.MethodGet, "/admin/state", nil)
	return st.Replicas, err
}

// Scale implements Scaler.
func (a *AdminScaler) Scale(ctx context.Context, n int) error {
	st, err := a.do(ctx, http.MethodPost, "/admin/replicas", map[string]int{"replicas": n})
	if err == nil && st.Replicas != n {
		err = fmt.Errorf("asked for %d replicas, the target has %d", n, st.Replicas)
	}
	return err
}

// WaitReady implements Scaler: the target's pods start at once, so this
// checks that n of them are up.
func (a *AdminScaler) WaitReady(ctx context.Context, n int, progress func(string)) error {
	poll := a.Poll
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}
	last := ""
	for {
		st, err := a.do(ctx, http.MethodGet, "/admin/state", nil)
		if err != nil {
			return err
		}
		if st.Replicas == n && st.PodsUp == n {
			return nil
		}
		if line := fmt.Sprintf("%d of %d pods up", st.PodsUp, n); line != last {
			progress(line)
			last = line
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d pods up (%s): %w", n, last, ctx.Err())
		case <-time.After(poll):
		}
	}
}
