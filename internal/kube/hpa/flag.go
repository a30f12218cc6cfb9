package hpa

import (
	"errors"
	"io/fs"
	"strings"

	"github.com/greenlang/loadgen/internal/kit/exitcode"
)

// LoadFlag loads the spec a user named with --hpa: a file, or a built-in
// name. Anything wrong with it is bad input (exit 2).
func LoadFlag(arg string) (*Spec, error) {
	spec, err := Load(arg)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, exitcode.Usage("--hpa %q: no such file, and not a built-in HPA (%s)", arg, strings.Join(Builtins(), ", "))
	case err != nil:
		return nil, exitcode.Usage("--hpa: %v", err)
	}
	return spec, nil
}
