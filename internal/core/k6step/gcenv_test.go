package k6step

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestChildEnvTunesGoUnlessGiven(t *testing.T) {
	env := ChildEnv([]string{"PATH=/bin"}, 2)
	assert.Contains(t, env, "GOGC=400")
	assert.Equal(t, "PATH=/bin", env[0])
	if MemTotal() > 0 {
		assert.Contains(t, env, "GOMEMLIMIT="+itoaMiB(memLimit(MemTotal(), 2)))
	}

	assert.Contains(t, env, "GOMAXPROCS="+strconv.Itoa(max(2, runtime.GOMAXPROCS(0))))

	env = ChildEnv([]string{"GOGC=off", "GOMEMLIMIT=1GiB", "GOMAXPROCS=1"}, 1)
	assert.Equal(t, []string{"GOGC=off", "GOMEMLIMIT=1GiB", "GOMAXPROCS=1"}, env, "the user's settings win")
}

func TestMemLimitShares(t *testing.T) {
	const gib = 1 << 30
	assert.Equal(t, int64(16*gib*8/10), memLimit(16*gib, 0))
	assert.Equal(t, int64(4*gib*8/10), memLimit(16*gib, 4))
}

func itoaMiB(b int64) string { return strconv.FormatInt(b>>20, 10) + "MiB" }
