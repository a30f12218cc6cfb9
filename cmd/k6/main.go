// Command k6 is k6 v2 with the xk6-steamtrap extension linked in: the same
// build that `loadgen k6` runs, as a standalone binary.
package main

import (
	k6cmd "go.k6.io/k6/v2/cmd"

	_ "github.com/greenlang/loadgen/xk6-steamtrap"
)

func main() {
	k6cmd.Execute()
}
