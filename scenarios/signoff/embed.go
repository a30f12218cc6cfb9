// Package signoff embeds the built-in release sign-off plans of this folder
// (gl008-release.yaml, gl006-release.yaml), so that `loadgen signoff --plan
// NAME` works from any directory. internal/session/signoff parses them.
package signoff

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.yaml
var files embed.FS

// Builtin returns the built-in plan name+".yaml".
func Builtin(name string) ([]byte, error) { return files.ReadFile(name + ".yaml") }

// Names lists the built-in plans, without ".yaml".
func Names() []string {
	var out []string
	entries, _ := fs.ReadDir(files, ".")
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
