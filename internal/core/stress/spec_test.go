package stress

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/core/campaign"
)

func TestFirstStepIsWhatExecuteRunsFirst(t *testing.T) {
	t.Parallel()
	c := campaign.Defaults()
	c.Target, c.Timeout, c.Env = "http://127.0.0.1:1", campaign.Duration(2*time.Second), map[string]string{"HOT": "3"}
	spec, err := FirstStep(c, "http://10.0.0.9:8080")
	require.NoError(t, err)
	pre, maxVUs := SizeVUs(c, 100, 0)
	assert.Equal(t, 1, spec.Index)
	assert.Equal(t, 1, spec.Attempt)
	assert.Equal(t, 100, spec.RPS)
	assert.Equal(t, 2*time.Minute, spec.Duration)
	assert.Equal(t, pre, spec.PreVUs)
	assert.Equal(t, maxVUs, spec.MaxVUs)
	assert.Equal(t, 2*time.Second, spec.RequestTimeout)
	assert.Equal(t, map[string]string{"BASE_URL": "http://10.0.0.9:8080", "ENDPOINT": "inspection", "SEED": "1",
		"HOT": "3", "TIMEOUT": "2000ms"}, spec.ScriptEnv)

	c.Step = 0 // a plan that cannot be made
	_, err = FirstStep(c, "http://10.0.0.9:8080")
	require.ErrorIs(t, err, ErrBadInput)
}
