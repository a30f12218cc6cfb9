package junit_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/reporting/junit"
	"github.com/greenlang/loadgen/internal/reporting/model"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGolden pins the whole document of two recorded runs (go test
// ./internal/reporting/junit -update rewrites them after a deliberate change).
func TestGolden(t *testing.T) {
	for _, name := range []string{"gl008-1replica", "gl008-generator-bound"} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, junit.Build(input(t, name, model.Options{})).Write(&b))
			path := filepath.Join("testdata", "golden", name+".xml")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -update to create it")
			assert.Equal(t, string(want), b.String(), "%s differs (go test ./internal/reporting/junit -update rewrites it)", path)
		})
	}
}
