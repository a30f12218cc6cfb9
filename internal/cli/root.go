package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	k6cmd "go.k6.io/k6/v2/cmd"

	// Link the extension into the embedded k6.
	_ "github.com/greenlang/loadgen/xk6-steamtrap"
)

// Version is loadgen's version, set at build time with
// -ldflags "-X github.com/greenlang/loadgen/internal/cli.Version=...".
var Version = "dev"

// Main runs loadgen with the given arguments (without the program name) and
// returns the process exit code. `loadgen k6 ...` hands the process to k6's
// own command line, which exits by itself.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "k6" {
		runK6(args[1:])
		return ExitOK // not reached: k6 exits the process
	}
	root := newRoot(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err != nil {
		fmt.Fprintf(stderr, "loadgen: %v\n", err)
	}
	return exitCode(err)
}

// runK6 runs k6's command line in this process with the extension linked in.
func runK6(args []string) {
	os.Args = append([]string{"k6"}, args...)
	k6cmd.Execute()
}

func newRoot(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "loadgen",
		Short: "Load and stress campaigns for GL-008 SteamTrapInspector and GL-006 HeatRecoveryMaximizer",
		Long: `loadgen runs load and stress campaigns against GL-008 SteamTrapInspector and
GL-006 HeatRecoveryMaximizer, with k6 and the xk6-steamtrap extension built in.

Exit codes: 0 completed; 1 a gate failed; 2 bad input; 3 aborted, interrupted
or target unreachable; 4 inconclusive (the load generator gave out first);
5 failed (the machine: a file that cannot be written, k6 that cannot start).`,
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr("%v", err) })
	root.AddCommand(
		&cobra.Command{
			Use:                "k6 [k6 arguments]",
			Short:              "Run k6's own command line with the xk6-steamtrap extension linked in",
			DisableFlagParsing: true,
			RunE:               func(_ *cobra.Command, args []string) error { runK6(args); return nil },
		},
		newSampleCmd(),
		newStressCmd(),
		newSweepCmd(),
		newTargetCmd(),
		newReportCmd(),
		newCompareCmd(),
		newForecastCmd(),
		newHistoryCmd(),
		newPreflightCmd(),
		newAutoscaleCmd(),
		newSignoffCmd(),
	)
	return root
}
