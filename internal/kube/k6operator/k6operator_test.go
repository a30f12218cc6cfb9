package k6operator

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A campaign id is never a number to YAML: it starts with a letter.
func TestCampaignIDStartsWithALetter(t *testing.T) {
	t.Parallel()
	seen := map[byte]bool{}
	for range 2000 {
		id := NewCampaignID()
		require.Len(t, id, 8)
		require.Contains(t, "abcdef", id[:1], id)
		seen[id[0]] = true
	}
	assert.Len(t, seen, 6, "every letter a–f occurs")
}
