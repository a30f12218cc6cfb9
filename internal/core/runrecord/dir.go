package runrecord

import (
	"errors"
	"os"

	"github.com/greenlang/loadgen/internal/kit/exitcode"
)

// ReadDir reads the run directory a user named; anything wrong with it is
// bad input (exit 2), said as such.
func ReadDir(dir string) (*Run, error) {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, exitcode.Usage("run directory %s does not exist", dir)
	case err != nil:
		return nil, exitcode.Usage("run directory %s: %v", dir, err)
	case !st.IsDir():
		return nil, exitcode.Usage("%s is not a directory: give the run directory that holds run.json", dir)
	}
	run, err := Read(dir)
	if err != nil {
		return nil, exitcode.Usage("%v", err)
	}
	return run, nil
}
