package cli

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/campaign"
)

// Defaults, then the campaign file, then the flags that were given.
func TestStressFlagsOverrideTheCampaignFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(file, []byte("target: http://127.0.0.1:9000\nsearch: adaptive\nstart: 10\n"+
		"step_duration: 20s\ntarget_time_scale: 0.5\nenv: {REGION: eu}\n"), 0o644))
	cmd, sf := newStressCmdFlags()
	require.NoError(t, cmd.Flags().Parse([]string{"--campaign", file, "--start", "20", "--warmup", "5s", "--env", "ZONE=a"}))
	cfg, err := sf.config(cmd.Flags())
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:9000", cfg.Target, "from the file")
	assert.Equal(t, campaign.Adaptive, cfg.Search, "from the file")
	assert.Equal(t, 20, cfg.Start, "the flag wins")
	assert.Equal(t, 20*time.Second, cfg.StepDuration.D(), "from the file")
	assert.Equal(t, 5*time.Second, cfg.Warmup.D(), "from the flag")
	assert.Equal(t, 0.5, cfg.TargetTimeScale, "from the file")
	assert.Equal(t, 2000, cfg.Max, "the default")
	assert.Equal(t, map[string]string{"REGION": "eu", "ZONE": "a"}, cfg.Env)
}

func TestResumeTargetGivesBackAPassword(t *testing.T) {
	const kept = "https://bob:xxxxx@gl008.example/api"
	got, err := resumeTarget(kept, "https://bob:hunter2@gl008.example/api", true)
	require.NoError(t, err)
	assert.Equal(t, "https://bob:hunter2@gl008.example/api", got)

	_, err = resumeTarget(kept, "", false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "without its password; give --target again")
	_, err = resumeTarget(kept, "https://bob:hunter2@other.example/api", true)
	require.Error(t, err, "another target")
	assert.NotContains(t, err.Error(), "hunter2")
	_, err = resumeTarget("http://127.0.0.1:8080", "http://127.0.0.1:9090", true)
	require.Error(t, err, "--target does not change a campaign's target")

	got, err = resumeTarget("http://127.0.0.1:8080", "", false)
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8080", got)
}
