// Package steamtrap is the k6 extension k6/x/steamtrap: it generates realistic
// GL-008 steam-trap and GL-006 heat-recovery request bodies in Go, quickly and
// reproducibly from a seed, and its output "steamtrap" writes per-second
// measurements of a run (--out steamtrap=PATH; see package measure), or
// POSTs them to a collector (--out steamtrap=https://HOST/v1/steps/STEP/seconds).
package steamtrap

import (
	"go.k6.io/k6/v2/js/modules"
	"go.k6.io/k6/v2/output"
)

// ImportPath is the JS module path scripts import.
const ImportPath = "k6/x/steamtrap"

// OutputName is the name of the output: k6 run --out steamtrap=PATH, or
// --out steamtrap=https://… for a collector (http:// only with
// STEAMTRAP_COLLECT_INSECURE=true).
const OutputName = "steamtrap"

func init() {
	modules.Register(ImportPath, newRootModule())
	output.RegisterExtension(OutputName, New)
}
