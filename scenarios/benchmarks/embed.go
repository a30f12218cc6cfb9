// Package benchmarks embeds the scaling guides' documented figures as data
// (gl008.yaml, gl006.yaml), so that `loadgen compare`, `report` and
// `forecast` work from any directory. internal/guides parses them: each
// file is named for its service's key.
package benchmarks

import "embed"

//go:embed *.yaml
var files embed.FS

// Builtin returns the built-in benchmarks file name+".yaml" ("gl008",
// "gl006").
func Builtin(name string) ([]byte, error) { return files.ReadFile(name + ".yaml") }
