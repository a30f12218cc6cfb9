package cli_test

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/k6step"
)

// A driver killed outright (SIGKILL: no handler runs) takes its k6 with it
// within a second or two: no process of the run is left, and the target
// stops receiving requests. The pid file it leaves names a k6 that is gone.
func TestOrphanDriverKilledTakesK6WithIt(t *testing.T) {
	shareCPU(t, 1, 2*time.Second)
	var hits atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`{"state":"good"}`))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	url := "http://" + ln.Addr().String()

	dir := filepath.Join(t.TempDir(), "run")
	// One long step at a small rate: it would run for a minute.
	cmd := exec.Command(loadgenBin, quick(url, dir, "--search", "linear", "--start", "50", "--step", "50", "--max", "50",
		"--step-duration", "60s")...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = k6step.StopLeftover(dir) // should there be one, do not let it run on
	})

	// Wait until k6 is running and loading the target.
	pidFile := filepath.Join(dir, k6step.PidFile)
	require.Eventually(t, func() bool {
		_, err := os.Stat(pidFile)
		return err == nil && hits.Load() > 20
	}, 60*time.Second, 50*time.Millisecond, "k6 never got going:\n%s", out.String())
	require.NotEmpty(t, k6Children(dir))

	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	killed := time.Now()
	_ = cmd.Wait()

	assert.Eventually(t, func() bool { return len(k6Children(dir)) == 0 }, 2*time.Second, 20*time.Millisecond,
		"k6 outlived its driver: %v", k6Children(dir))
	t.Logf("k6 gone %s after the driver was killed", time.Since(killed).Round(time.Millisecond))

	// No more requests arrive (allowing for the last in flight to land).
	time.Sleep(200 * time.Millisecond)
	before := hits.Load()
	time.Sleep(time.Second)
	assert.Equal(t, before, hits.Load(), "the target still receives requests")

	// The pid file is left behind; it names a k6 that is gone.
	assert.FileExists(t, pidFile)
	pids, err := k6step.StopLeftover(dir)
	assert.NoError(t, err)
	assert.Empty(t, pids)
	assert.NoFileExists(t, pidFile)
}
