package junit_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/greenlang/loadgen/internal/reporting/junit"
)

// FuzzRead: whatever a JUnit report holds, Read returns suites whose counts
// are what their test cases say (it checks them), that Write writes back
// to a report Read reads the same; or ErrInvalid. It never panics.
func FuzzRead(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.xml"))
	if len(paths) == 0 {
		f.Fatal("no golden report")
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<testsuites tests="0" failures="0" errors="0" time="0"></testsuites>`))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := junit.Read(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, junit.ErrInvalid) {
				t.Fatalf("not ErrInvalid: %v", err)
			}
			return
		}
		var out bytes.Buffer
		if err := s.Write(&out); err != nil {
			t.Fatal(err)
		}
		back, err := junit.Read(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("written back, %v:\n%s", err, out.Bytes())
		}
		if !reflect.DeepEqual(s, back) {
			t.Fatalf("read back as %+v, not %+v", back, s)
		}
	})
}
