// Package scenarios embeds the k6 scripts and campaign files of this folder,
// so that `loadgen stress --scenario NAME` works from any directory.
package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

//go:embed *.js *.yaml
var files embed.FS

// Script is a resolved k6 script.
type Script struct {
	// Name is the scenario's name (the file name without .js).
	Name string
	// Path is the script on disk, or "" when it comes from the binary.
	Path string
	// Source is the script's text.
	Source []byte
}

// ErrNotFound is wrapped when a scenario cannot be found.
var ErrNotFound = errors.New("scenario not found")

// Resolve finds a script by path ("my/test.js") or by name ("gl008-step"):
// first on disk (as given, then in ./scenarios/), then in the binary.
func Resolve(nameOrPath string) (Script, error) {
	name := strings.TrimSuffix(filepath.Base(nameOrPath), ".js")
	for _, p := range []string{nameOrPath, filepath.Join("scenarios", name+".js")} {
		if !strings.HasSuffix(p, ".js") {
			continue
		}
		if b, err := os.ReadFile(p); err == nil {
			return Script{Name: name, Path: p, Source: b}, nil
		}
	}
	if b, err := files.ReadFile(name + ".js"); err == nil && !strings.ContainsRune(nameOrPath, os.PathSeparator) {
		return Script{Name: name, Source: b}, nil
	}
	return Script{}, fmt.Errorf("%w: %q (built in: %s)", ErrNotFound, nameOrPath, strings.Join(Names(".js"), ", "))
}

// Campaign finds a campaign file by path or by name ("gl008-quick"): first
// on disk (as given, then in ./scenarios/), then in the binary. It returns
// the file's text and the name to cite in errors (its path, or
// "built-in NAME.yaml").
func Campaign(nameOrPath string) (source []byte, name string, err error) {
	name = strings.TrimSuffix(strings.TrimSuffix(filepath.Base(nameOrPath), ".yaml"), ".yml")
	for _, p := range []string{nameOrPath, filepath.Join("scenarios", name+".yaml")} {
		if b, err := os.ReadFile(p); err == nil {
			return b, p, nil
		}
	}
	b, err := files.ReadFile(name + ".yaml")
	if err != nil || strings.ContainsRune(nameOrPath, os.PathSeparator) {
		return nil, "", fmt.Errorf("%w: campaign %q (built in: %s)", ErrNotFound, nameOrPath, strings.Join(Names(".yaml"), ", "))
	}
	return b, "built-in " + name + ".yaml", nil
}

// Names lists the built-in files with the given suffix, without it.
func Names(suffix string) []string {
	var out []string
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, suffix) {
			out = append(out, strings.TrimSuffix(p, suffix))
		}
		return nil
	})
	sort.Strings(out)
	return out
}
