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

// Campaign returns a campaign file by path or name ("gl008-stress"): first on
// disk, then in the binary. The returned path is on disk, or written to dir.
func Campaign(nameOrPath, dir string) (string, error) {
	if _, err := os.Stat(nameOrPath); err == nil {
		return nameOrPath, nil
	}
	name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(nameOrPath), ".yaml"), ".yml")
	p := filepath.Join("scenarios", name+".yaml")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	b, err := files.ReadFile(name + ".yaml")
	if err != nil || strings.ContainsRune(nameOrPath, os.PathSeparator) {
		return "", fmt.Errorf("%w: campaign %q (built in: %s)", ErrNotFound, nameOrPath, strings.Join(Names(".yaml"), ", "))
	}
	out := filepath.Join(dir, name+".yaml")
	return out, os.WriteFile(out, b, 0o644)
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
