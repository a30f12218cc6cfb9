// Package steamtrap is the k6 extension k6/x/steamtrap: it generates realistic
// GL-008 steam-trap and GL-006 heat-recovery request bodies in Go, quickly and
// reproducibly from a seed.
package steamtrap

import "go.k6.io/k6/v2/js/modules"

// ImportPath is the JS module path scripts import.
const ImportPath = "k6/x/steamtrap"

func init() {
	modules.Register(ImportPath, newRootModule())
}
