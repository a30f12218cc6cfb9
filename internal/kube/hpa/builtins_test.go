package hpa

import (
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/guides"
)

// TestBuiltinsAreTheGuides: every built-in HPA is a registered service's,
// and scales the Deployment its benchmarks file names.
func TestBuiltinsAreTheGuides(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []string{"gl008", "gl006"}, Builtins())
	files, err := fs.Glob(manifests, "guides/*.yaml")
	require.NoError(t, err)
	assert.Len(t, files, len(Builtins()), "no manifest without its service")
	for _, name := range Builtins() {
		s, err := Builtin(name)
		require.NoError(t, err)
		svc, ok := guides.Lookup(name)
		require.True(t, ok, name)
		b, err := guides.Builtin(svc)
		require.NoError(t, err)
		require.NotNil(t, b.Deployment, name)
		assert.Equal(t, "Deployment/"+b.Deployment.Name, s.Target, name)
	}
}
