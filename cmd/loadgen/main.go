// Command loadgen drives load and stress campaigns against GL-008
// SteamTrapInspector and GL-006 HeatRecoveryMaximizer, with k6 and the
// xk6-steamtrap extension built in.
package main

import (
	"os"

	"github.com/greenlang/loadgen/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
