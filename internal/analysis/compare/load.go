package compare

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/greenlang/loadgen/internal/guides"
)

// Load reads a benchmarks file: a path, or the key of a registered
// service, whose built-in file it is ("gl008", "gl006"; see
// scenarios/benchmarks).
func Load(pathOrName string) (*guides.Benchmarks, error) {
	b, err := os.ReadFile(pathOrName)
	if err != nil {
		name := strings.TrimSuffix(strings.TrimSuffix(strings.ToLower(pathOrName), ".yaml"), ".yml")
		svc, ok := guides.Lookup(name)
		if !ok || strings.ContainsRune(pathOrName, os.PathSeparator) {
			return nil, fmt.Errorf("%w: %v (built in: %s)", guides.ErrBenchmarks, err, strings.Join(slices.Sorted(slices.Values(guides.Keys())), ", "))
		}
		return guides.Builtin(svc)
	}
	bm, err := guides.Parse(b, pathOrName)
	if err != nil {
		return nil, err
	}
	bm.Source = pathOrName
	return bm, nil
}
