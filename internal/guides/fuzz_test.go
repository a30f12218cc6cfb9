package guides_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	. "github.com/greenlang/loadgen/internal/guides"
)

// FuzzParseBenchmarks: whatever a benchmarks file holds, Parse returns one
// of a known service, of this schema, every number of it finite and ≥ 0,
// that written back as YAML parses the same; or an ErrBenchmarks naming
// the file. It never panics.
func FuzzParseBenchmarks(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("..", "..", "scenarios", "benchmarks", "*.yaml"))
	more, _ := filepath.Glob(filepath.Join("testdata", "benchmarks", "*.yaml"))
	if len(paths) == 0 {
		f.Fatal("no benchmarks file in scenarios/benchmarks")
	}
	for _, p := range append(paths, more...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("schema: loadgen/benchmarks/v1\nservice: GL-008\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		bm, err := Parse(b, "f.yaml")
		if err != nil {
			if !errors.Is(err, ErrBenchmarks) || !strings.Contains(err.Error(), "f.yaml") {
				t.Fatalf("not an ErrBenchmarks naming the file: %v", err)
			}
			return
		}
		if bm.Schema != BenchmarksSchema {
			t.Fatalf("accepted schema %q", bm.Schema)
		}
		if _, ok := Lookup(bm.Service); !ok {
			t.Fatalf("accepted service %q", bm.Service)
		}
		if path := badNumber(reflect.ValueOf(bm), "benchmarks"); path != "" {
			t.Fatalf("accepted %s", path)
		}
		out, err := yaml.Marshal(bm)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(out, "back.yaml")
		if err != nil {
			t.Fatalf("written back, %v:\n%s", err, out)
		}
		if !reflect.DeepEqual(bm, back) {
			t.Fatalf("read back as %+v, not %+v", back, bm)
		}
	})
}

// badNumber is the path of a negative or not finite number in v, "" when
// there is none.
func badNumber(v reflect.Value, path string) string {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			return badNumber(v.Elem(), path)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				continue
			}
			if p := badNumber(v.Field(i), path+"."+v.Type().Field(i).Name); p != "" {
				return p
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			if p := badNumber(v.Index(i), path); p != "" {
				return p
			}
		}
	case reflect.Int, reflect.Int64:
		if v.Int() < 0 {
			return path
		}
	case reflect.Float64:
		if x := v.Float(); !(x >= 0) || math.IsInf(x, 0) {
			return path
		}
	}
	return ""
}
