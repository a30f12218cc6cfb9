// Package promtest starts a real Prometheus Pushgateway and a real Prometheus
// for tests: Debian's prometheus-pushgateway and prometheus (make test
// installs them), on loopback, on free ports, with temporary storage, and
// stopped when the test ends. Outside CI a missing binary skips the test; in
// CI (CI set) it fails it.
package promtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ScrapeInterval is how often the test Prometheus scrapes the Pushgateway.
const ScrapeInterval = time.Second

// startTimeout bounds how long a server may take to become ready.
const startTimeout = 30 * time.Second

// binary finds the first of names on PATH or in /usr/bin; without one it
// skips the test, or fails it in CI.
func binary(t testing.TB, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
		if p := filepath.Join("/usr/bin", n); isExecutable(p) {
			return p
		}
	}
	msg := fmt.Sprintf("%s not installed (make test installs Debian's package with apt-get)", strings.Join(names, " or "))
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	} else {
		t.Skip(msg)
	}
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// start runs bin with args, waits until http://addr/-/ready answers 200, and
// stops it (SIGTERM, then SIGKILL) when the test ends. Its output goes to a
// file that is shown if it does not become ready.
func start(t testing.TB, addr, bin string, args ...string) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), filepath.Base(bin)+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// The server dies with the test binary, even if that is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		_ = logf.Close()
	})
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-exited:
			t.Fatalf("%s exited before it was ready:\n%s", bin, readLog(logPath))
		default:
		}
		if ready(addr) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready on %s after %s:\n%s", bin, addr, startTimeout, readLog(logPath))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ready(addr string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/-/ready", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func readLog(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

// Pushgateway starts a Pushgateway (in memory, no persistence) on loopback
// and returns its base URL.
func Pushgateway(t testing.TB) string {
	t.Helper()
	bin := binary(t, "prometheus-pushgateway", "pushgateway")
	addr := freeAddr(t)
	// Debian's default persists to /var/lib/prometheus: keep the test's metrics in memory only.
	start(t, addr, bin, "--web.listen-address="+addr, "--persistence.file=")
	return "http://" + addr
}

// Prometheus starts a Prometheus on loopback that scrapes the Pushgateway at
// pushgatewayURL every ScrapeInterval with honor_labels (as a Pushgateway
// must be scraped), storing into a temporary directory, and returns its base
// URL.
func Prometheus(t testing.TB, pushgatewayURL string) string {
	t.Helper()
	bin := binary(t, "prometheus")
	dir := t.TempDir()
	config := fmt.Sprintf(`global:
  scrape_interval: %[1]s
  scrape_timeout: %[1]s
scrape_configs:
  - job_name: pushgateway
    honor_labels: true
    static_configs:
      - targets: [%[2]q]
`, ScrapeInterval, strings.TrimPrefix(pushgatewayURL, "http://"))
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	start(t, addr, bin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
	)
	return "http://" + addr
}
