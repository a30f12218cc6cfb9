package k6step

import (
	"os"
	"time"

	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// readSeconds reads a step's seconds file and when its load began (when k6
// started its first iteration, as the output recorded it; for older files,
// the header's creation time, a little before).
func readSeconds(path string) (time.Time, []measure.Second, error) {
	f, err := os.Open(path)
	if err != nil {
		return time.Time{}, nil, err
	}
	defer f.Close()
	h, secs, err := measure.ReadAll(f, path)
	return h.Began(), secs, err
}
