// Package exitcode holds the exit codes of every loadgen command and the
// error that carries one, so that any package can say how a command should
// end (bad input, interrupted, inconclusive, …) and the command line only
// maps the error to the process's exit code.
package exitcode

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// Exit codes of every loadgen command, documented in docs/exit-codes.md.
const (
	OK          = 0 // completed
	GateFailed  = 1 // a gate failed (e.g. --min-rps)
	BadInput    = 2 // bad flags, arguments or files
	Interrupted = 3 // aborted, interrupted, or the target was unreachable
	// Inconclusive: the run cannot stand behind a number (e.g. the load
	// generator gave out before the target did).
	Inconclusive = 4
	// Failed: the machine failed the command (a run directory that cannot
	// be written, a k6 that cannot be started), not the input.
	Failed = 5
)

// Error is an error with the exit code it should end the process with.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// New marks err with code; nil stays nil.
func New(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Newf is New with a formatted error.
func Newf(code int, format string, args ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// Usage is bad input (exit 2) with a formatted message.
func Usage(format string, args ...any) error { return Newf(BadInput, format, args...) }

// Of maps an error to the process exit code: its own code if it carries
// one; a failure of the machine for an I/O error (a file or directory that
// cannot be read or written, a broken pipe); else bad input (cobra's own
// errors: an unknown command, a wrong number of arguments).
func Of(err error) int {
	if err == nil {
		return OK
	}
	var (
		ee    *Error
		path  *fs.PathError
		link  *os.LinkError
		sysc  *os.SyscallError
		errno syscall.Errno
	)
	switch {
	case errors.As(err, &ee):
		return ee.Code
	case errors.As(err, &path), errors.As(err, &link), errors.As(err, &sysc), errors.As(err, &errno):
		return Failed
	}
	return BadInput
}

// Problems is bad input made of every problem found, numbered when there
// are several: "3 problems: (1) …; (2) …; (3) …". Nil when there are none.
func Problems(prefix string, problems []string) error {
	switch len(problems) {
	case 0:
		return nil
	case 1:
		return Usage("%s%s", prefix, problems[0])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems:", len(problems))
	for i, p := range problems {
		fmt.Fprintf(&b, " (%d) %s;", i+1, p)
	}
	return Usage("%s%s", prefix, strings.TrimSuffix(b.String(), ";"))
}

// Errors is Problems of errs' messages: every problem a Validate() []error
// found, as bad input. Nil when there are none.
func Errors(prefix string, errs []error) error {
	problems := make([]string, len(errs))
	for i, err := range errs {
		problems[i] = err.Error()
	}
	return Problems(prefix, problems)
}
