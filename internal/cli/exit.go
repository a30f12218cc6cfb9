// Package cli is loadgen's command line: one file per subcommand. A command
// parses its flags, builds what it runs (a campaign session, a sweep, a
// report), and maps the outcome to the exit code; the work itself lives in
// the packages below it (docs/architecture.md).
package cli

import "github.com/greenlang/loadgen/internal/kit/exitcode"

// The exit codes, as exitcode defines them.
const (
	ExitOK           = exitcode.OK
	ExitGateFailed   = exitcode.GateFailed
	ExitBadInput     = exitcode.BadInput
	ExitInterrupted  = exitcode.Interrupted
	ExitInconclusive = exitcode.Inconclusive
	ExitFailed       = exitcode.Failed
)

// ExitError is an error with the exit code it should end the process with.
type ExitError = exitcode.Error

// usageErr marks a formatted error as bad input (exit 2).
var usageErr = exitcode.Usage

// exitCode maps an error to the process exit code.
var exitCode = exitcode.Of
