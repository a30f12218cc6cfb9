package k6step

import (
	"os"
	"time"

	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// readSeconds reads a step's seconds file and when its load began (the
// header's creation time: k6 starts its outputs just before the first
// iteration).
func readSeconds(path string) (time.Time, []measure.Second, error) {
	f, err := os.Open(path)
	if err != nil {
		return time.Time{}, nil, err
	}
	defer f.Close()
	h, secs, err := measure.ReadAll(f, path)
	return h.CreatedAt, secs, err
}
