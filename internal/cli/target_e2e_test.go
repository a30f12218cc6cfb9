package cli_test

import (
	"bufio"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTargetServesAndShutsDownCleanly(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(loadgenBin, "target", "--addr", "127.0.0.1:0", "--replicas", "2")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(line, "listening on http://127.0.0.1:"), line)
	base := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))

	resp, err := http.Get(base + "/v1/steam-trap/health")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	res, err := http.Post(base+"/v1/steam-trap/inspection", "application/json", strings.NewReader(`{"trap_id":"T1","site_id":"S1",`+
		`"sensor_data":{"acoustic_frequency":1250,"thermal_temp":185.5,"pressure":150}}`))
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode, string(body))
	assert.Contains(t, string(body), `"state"`)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		assert.NoError(t, err, "a clean shutdown exits 0")
	case <-time.After(15 * time.Second):
		t.Fatal("target did not stop on SIGTERM")
	}
}

func TestTargetBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"target", "--replicas", "0"}, "replicas 0"},
		{[]string{"target", "--addr", "0.0.0.0:8080"}, "loopback"},
		{[]string{"target", "--capacity-factor", "-1"}, "capacity"},
	} {
		res := inProcess(t, tc.args...)
		assert.Equal(t, 2, res.code, "%v: %s", tc.args, res.stderr)
		assert.Contains(t, res.stderr, tc.want, tc.args)
		assert.NotContains(t, res.stderr, "goroutine")
	}
}
