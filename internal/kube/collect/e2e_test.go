package collect_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.k6.io/k6/v2/lib"

	"github.com/greenlang/loadgen/internal/kube/collect"
	steamtrap "github.com/greenlang/loadgen/xk6-steamtrap"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// e2eScript is a small open-model load on the loopback sink.
const e2eScript = `
import http from 'k6/http';

export const options = {
  scenarios: {
    load: {
      executor: 'constant-arrival-rate', rate: Number(__ENV.RATE), timeUnit: '1s',
      duration: __ENV.DURATION, preAllocatedVUs: 5, maxVUs: 20, gracefulStop: '5s',
    },
  },
};

export default function () {
  http.get(__ENV.SINK);
}
`

// e2e is one real k6 run through bin/loadgen with both forms of the
// steamtrap output: to a file and to a collect.Server, over TLS as the
// k6-operator executor serves it.
type e2e struct {
	t       *testing.T
	bin     string
	server  *collect.Server
	url     string // the collector's URL for step s1
	env     []string
	dir     string
	file    string
	sink    string
	cmdArgs []string
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	certs, err := collect.NewCertificates([]string{"127.0.0.1"}, time.Now(), collect.CertificateValidity)
	require.NoError(t, err)
	return newE2EOver(t, certs.ServerConfig(), steamtrap.CollectCAEnv+"="+string(certs.CAPEM))
}

// newE2EOver serves the collector with tlsConfig (nil: plain HTTP), k6
// running with env.
func newE2EOver(t *testing.T, tlsConfig *tls.Config, env ...string) *e2e {
	t.Helper()
	bin := os.Getenv("LOADGEN_BIN")
	if bin == "" {
		t.Skip("LOADGEN_BIN is unset: set it to a built bin/loadgen (make build) to run k6")
	}
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write([]byte(`{"state":"good"}`))
	}))
	t.Cleanup(sink.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := collect.New(key)
	addr, err := s.Listen(ctx, "127.0.0.1:0", tlsConfig)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "load.js"), []byte(e2eScript), 0o600))
	scheme := "https://"
	if tlsConfig == nil {
		scheme = "http://"
	}
	return &e2e{t: t, bin: bin, server: s, url: scheme + addr.String() + measure.CollectPath("s1"), env: env,
		dir: dir, file: filepath.Join(dir, "s1.ndjson"), sink: sink.URL}
}

// start starts k6 at rate req/s for duration, with extra arguments.
func (e *e2e) start(ctx context.Context, rate int, duration string, extra ...string) (*exec.Cmd, *strings.Builder) {
	args := append([]string{"k6", "run", "--quiet", "--no-color", "--no-usage-report", "--summary-mode=disabled",
		"--out", "steamtrap=" + e.file, "--out", "steamtrap=" + e.url, "--tag", "instance_id=e2e",
		"-e", "SINK=" + e.sink, "-e", "RATE=" + strconv.Itoa(rate), "-e", "DURATION=" + duration}, extra...)
	args = append(args, filepath.Join(e.dir, "load.js"))
	cmd := exec.CommandContext(ctx, e.bin, args...)
	cmd.Env = append(append(os.Environ(), steamtrap.CollectTokenEnv+"="+e.server.StepToken("s1")), e.env...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(e.t, cmd.Start())
	return cmd, &out
}

// results reads the file and the collected stream, checks that they agree,
// and returns both headers.
func (e *e2e) results() (file, collected measure.Header) {
	t := e.t
	t.Helper()
	f, err := os.Open(e.file)
	require.NoError(t, err)
	defer f.Close()
	fh, fsecs, err := measure.ReadAll(f, e.file)
	require.NoError(t, err)
	streams := e.server.Done("s1")
	require.Len(t, streams, 1)
	st := streams[0]
	assert.Equal(t, "e2e", st.Runner, "the instance_id tag")
	assert.Equal(t, "", st.Segment)
	assert.Positive(t, st.Batches)
	requireSameRecords(t, measure.FoldLate(fsecs), measure.FoldLate(st.Seconds))
	assert.Equal(t, fh.BeganAt, st.Header.BeganAt)
	return fh, st.Header
}

func TestEndToEndCollectedStreamIsTheFile(t *testing.T) {
	e := newE2E(t)
	e.server.Expect("s1", collect.Expectation{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd, out := e.start(ctx, 50, "4s")
	require.NoError(t, cmd.Wait(), out.String())

	fh, ch := e.results()
	t.Logf("output created %s, load began %s", fh.CreatedAt.Format(time.StampMilli), fh.BeganAt.Format(time.StampMilli))
	w := measure.Merge(readSeconds(t, e.file)...)
	assert.InDelta(t, 200, w.Requests, 10, "50 req/s for 4 s")
	assert.Zero(t, w.Errors)
	assert.False(t, fh.BeganAt.IsZero())
	assert.False(t, fh.BeganAt.Before(fh.CreatedAt))
	assert.Less(t, fh.BeganAt.Sub(fh.CreatedAt), 10*time.Second)
	assert.Equal(t, fh.CreatedAt.Round(time.Second), ch.CreatedAt.Round(time.Second))
}

// TestEndToEndPausedRunBeginsWhenResumed starts k6 --paused, as k6-operator
// starts its runners, and resumes it through k6's REST API 2 s later: the
// output was created before the pause, the load began after it.
func TestEndToEndPausedRunBeginsWhenResumed(t *testing.T) {
	e := newE2E(t)
	e.server.Expect("s1", collect.Expectation{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	api := freeAddr(t)
	cmd, out := e.start(ctx, 20, "3s", "--paused", "--address", api)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// Wait until k6 has initialized and is paused before the run.
	require.Eventually(t, func() bool {
		st, err := k6Status(ctx, api)
		return err == nil && st.Paused && st.Status == lib.ExecutionStatusPausedBeforeRun
	}, time.Minute, 50*time.Millisecond, "k6 did not pause: %s", out)
	time.Sleep(2 * time.Second)
	resumed := time.Now()
	resp := k6Patch(t, ctx, api, `{"data":{"type":"status","id":"default","attributes":{"paused":false}}}`)
	after := time.Now()
	require.Equal(t, http.StatusOK, resp, "PATCH /v1/status")
	require.NoError(t, <-exited, out.String())

	fh, ch := e.results()
	t.Logf("output created %s, resumed %s (answered %s), load began %s",
		fh.CreatedAt.Format(time.StampMilli), resumed.Format(time.StampMilli), after.Format(time.StampMilli), fh.BeganAt.Format(time.StampMilli))
	assert.Less(t, fh.CreatedAt, resumed.Add(-1500*time.Millisecond), "the output started before the pause")
	require.False(t, fh.BeganAt.IsZero())
	assert.False(t, fh.BeganAt.Before(resumed.Truncate(time.Millisecond)), "began %s, resumed %s", fh.BeganAt, resumed)
	assert.Less(t, fh.BeganAt, after.Add(time.Second), "began %s, resume answered %s", fh.BeganAt, after)
	assert.Equal(t, fh.BeganAt, ch.Began(), "the collected stream's start is the same")
}

// TestEndToEndOverPlainHTTPOnlyWhenAllowed: k6 refuses to send to an
// http:// collector unless STEAMTRAP_COLLECT_INSECURE allows it, and then
// delivers, warning that the token travels in clear.
func TestEndToEndOverPlainHTTPOnlyWhenAllowed(t *testing.T) {
	e := newE2EOver(t, nil)
	e.server.Expect("s1", collect.Expectation{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd, out := e.start(ctx, 10, "1s")
	require.Error(t, cmd.Wait(), "k6 refuses the output")
	assert.Contains(t, out.String(), "is plain http: the token and the records would travel in clear")
	assert.Empty(t, e.server.Done("s1"))

	e.server.Expect("s1", collect.Expectation{})
	e.env = []string{steamtrap.CollectInsecureEnv + "=true"}
	cmd, out = e.start(ctx, 20, "2s")
	require.NoError(t, cmd.Wait(), out.String())
	assert.Contains(t, out.String(), "travel in clear")
	e.results()
}

// TestEndToEndRefusesACollectorOfAnotherCA: k6 given another campaign's CA
// does not hand the collector its token: the handshake fails, the output
// gives up and says why, and the collector keeps nothing.
func TestEndToEndRefusesACollectorOfAnotherCA(t *testing.T) {
	certs, err := collect.NewCertificates([]string{"127.0.0.1"}, time.Now(), collect.CertificateValidity)
	require.NoError(t, err)
	other, err := collect.NewCertificates([]string{"127.0.0.1"}, time.Now(), collect.CertificateValidity)
	require.NoError(t, err)
	e := newE2EOver(t, certs.ServerConfig(), steamtrap.CollectCAEnv+"="+string(other.CAPEM))
	e.server.Expect("s1", collect.Expectation{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd, out := e.start(ctx, 10, "2s")
	_ = cmd.Wait()
	assert.Contains(t, out.String(), "certificate signed by unknown authority")
	assert.Contains(t, out.String(), "the collector's certificate is not one to trust")
	assert.NotContains(t, out.String(), e.server.StepToken("s1"))
	assert.Empty(t, e.server.Done("s1"), "nothing accepted")
}

// k6Status is the part of GET /v1/status the test needs.
type k6StatusAttrs struct {
	Paused bool                `json:"paused"`
	Status lib.ExecutionStatus `json:"status"`
}

func k6Status(ctx context.Context, addr string) (k6StatusAttrs, error) {
	var body struct {
		Data struct {
			Attributes k6StatusAttrs `json:"attributes"`
		} `json:"data"`
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v1/status", nil)
	if err != nil {
		return body.Data.Attributes, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return body.Data.Attributes, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&body)
	return body.Data.Attributes, err
}

func k6Patch(t *testing.T, ctx context.Context, addr, body string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, "http://"+addr+"/v1/status", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func readSeconds(t *testing.T, path string) []measure.Second {
	t.Helper()
	secs, err := measure.ReadFile(path)
	require.NoError(t, err)
	return secs
}
