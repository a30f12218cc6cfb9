package k6step

import (
	"os"
	"time"

	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// readSeconds reads a step's seconds file, when its load began (when k6
// started its first iteration, as the output recorded it; for older files,
// the header's creation time, a little before), and whether it counts
// requests by when they completed (an older k6 build's output) rather than
// by when they were offered.
func readSeconds(path string) (began time.Time, secs []measure.Second, byCompletion bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return time.Time{}, nil, false, err
	}
	defer f.Close()
	h, secs, err := measure.ReadAll(f, path)
	return h.Began(), secs, !h.ByOffered(), err
}
