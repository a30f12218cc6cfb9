package compare

import (
	"fmt"
	"os"
	"strings"

	"github.com/greenlang/loadgen/internal/guides"
	"github.com/greenlang/loadgen/scenarios/benchmarks"
)

// Load reads a benchmarks file: a path, or the name of a built-in one
// ("gl008", "gl006"; see scenarios/benchmarks).
func Load(pathOrName string) (*guides.Benchmarks, error) {
	b, err := os.ReadFile(pathOrName)
	source := pathOrName
	if err != nil {
		name := strings.TrimSuffix(strings.TrimSuffix(strings.ToLower(pathOrName), ".yaml"), ".yml")
		name = strings.ReplaceAll(name, "-", "")
		bb, berr := benchmarks.Builtin(name)
		if berr != nil || strings.ContainsRune(pathOrName, os.PathSeparator) {
			return nil, fmt.Errorf("%w: %v (built in: %s)", guides.ErrBenchmarks, err, strings.Join(benchmarks.Names(), ", "))
		}
		b, source = bb, "built-in "+name
	}
	bm, err := guides.Parse(b, pathOrName)
	if err != nil {
		return nil, err
	}
	bm.Source = source
	return bm, nil
}
