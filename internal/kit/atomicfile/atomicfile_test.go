package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteReplacesOrLeavesAlone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "run.json")
	require.NoError(t, WriteBytes(p, []byte("one")))
	require.NoError(t, WriteBytes(p, []byte("two")))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "two", string(b))

	boom := errors.New("boom")
	err = Write(p, func(w io.Writer) error { _, _ = w.Write([]byte("half")); return boom })
	require.ErrorIs(t, err, boom)
	b, _ = os.ReadFile(p)
	assert.Equal(t, "two", string(b), "a failed write leaves the old file")
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 1, "no temporary file left behind")
}
