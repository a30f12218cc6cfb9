package texttable

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWrite(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, Write(&b, []string{"STEP", "RATE", "VERDICT"}, [][]string{{"1", "100", "pass"}, {"2", "2000", "fail"}}, Right, Right))
	assert.Equal(t, `┌──────┬──────┬─────────┐
│ STEP │ RATE │ VERDICT │
├──────┼──────┼─────────┤
│    1 │  100 │ pass    │
│    2 │ 2000 │ fail    │
└──────┴──────┴─────────┘
`, b.String())
}

func TestMarkdownEscapes(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, Markdown(&b, []string{"a", "b"}, [][]string{{"x|y", "1"}, {"z"}}, Left, Right))
	assert.Equal(t, "| a | b |\n|---|---:|\n| x\\|y | 1 |\n| z |  |\n", b.String())
}
