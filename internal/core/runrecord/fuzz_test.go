package runrecord

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead: whatever run.json holds, Read returns a run that has what every
// campaign writes (status, start, scenario, target) or an ErrNotARun naming
// the file, and never panics.
func FuzzRead(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `{"schema":"loadgen/run/v1"}`, `{"schema":"loadgen/run/v2"}`, `null`, `[]`,
		`{"schema":"loadgen/run/v1","status":"completed","started_at":"2026-11-22T06:00:00Z","scenario":"s","target":"t","steps":[{"index":1}]}`,
	} {
		f.Add([]byte(seed))
	}
	if b, err := os.ReadFile(filepath.Join("testdata", "v1-d4f14ec", FileName)); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, FileName), b, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Read(dir)
		if err != nil {
			if !errors.Is(err, ErrNotARun) {
				t.Fatalf("an error that is not ErrNotARun: %v", err)
			}
			return
		}
		if r.Schema != Schema || r.check() != nil {
			t.Fatalf("accepted a run without what every campaign writes: %+v", r)
		}
	})
}
