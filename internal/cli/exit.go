// Package cli holds loadgen's command line: one file per subcommand, the exit
// codes, and the error type that carries them.
package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// Exit codes of every loadgen command, documented in the README.
const (
	ExitOK          = 0 // completed
	ExitGateFailed  = 1 // a gate failed (e.g. --min-rps)
	ExitBadInput    = 2 // bad flags, arguments or files
	ExitInterrupted = 3 // aborted, interrupted, or the target was unreachable
	// ExitInconclusive: the run cannot stand behind a number (e.g. the load
	// generator gave out before the target did).
	ExitInconclusive = 4
	// ExitFailed: the machine failed the command (a run directory that
	// cannot be written, a k6 that cannot be started), not the input.
	ExitFailed = 5
)

// ExitError is an error with the exit code it should end the process with.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// usageErr marks err as bad input (exit 2).
func usageErr(format string, args ...any) error {
	return &ExitError{Code: ExitBadInput, Err: fmt.Errorf(format, args...)}
}

// exitCode maps an error to the process exit code: its own code if it
// carries one; a failure of the machine for an I/O error (a file or
// directory that cannot be read or written, a broken pipe); else bad input
// (cobra's own errors: an unknown command, a wrong number of arguments).
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var (
		ee    *ExitError
		path  *fs.PathError
		link  *os.LinkError
		sysc  *os.SyscallError
		errno syscall.Errno
	)
	switch {
	case errors.As(err, &ee):
		return ee.Code
	case errors.As(err, &path), errors.As(err, &link), errors.As(err, &sysc), errors.As(err, &errno):
		return ExitFailed
	}
	return ExitBadInput
}
