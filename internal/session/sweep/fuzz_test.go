package sweep

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzRead: whatever sweep.json holds, Read returns a record that has what
// every sweep writes (check) and that writes back to a file Read reads the
// same; or an error naming the file. It never panics.
func FuzzRead(f *testing.F) {
	rec := &Record{Schema: Schema, Status: Interrupted, StartedAt: time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC),
		Target: "embedded", Scenario: "gl008-step", Endpoint: "inspection", Service: "GL-008", Replicas: []int{1, 2, 4},
		Scaler:    ScalerRecord{Kind: "embedded", Object: "the embedded target", OriginalReplicas: 1, Restored: true},
		Campaigns: []CampaignEntry{{Replicas: 1, Dir: CampaignDir(1), Status: "completed", Found: true, MaxSustainableRPS: 250, FirstFailingRPS: 253}}}
	dir := f.TempDir()
	if err := rec.Write(dir); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][]byte{b, b[:len(b)/2], []byte(`{"schema":"loadgen/sweep/v1"}`), []byte(`{"schema":"loadgen/sweep/v2"}`), nil, []byte("null")} {
		f.Add(seed)
	}
	in := filepath.Join(f.TempDir(), "in")
	back := filepath.Join(f.TempDir(), "back")
	for _, d := range []string{in, back} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(filepath.Join(in, FileName), b, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Read(in)
		if err != nil {
			if !strings.Contains(err.Error(), filepath.Join(in, FileName)) {
				t.Fatalf("an error that does not name the file: %v", err)
			}
			return
		}
		if r.Schema != Schema || r.check() != nil {
			t.Fatalf("accepted a record no sweep writes: %+v", r)
		}
		if err := r.Write(back); err != nil {
			t.Fatal(err)
		}
		again, err := Read(back)
		if err != nil {
			t.Fatalf("written back, %v", err)
		}
		one, _ := json.Marshal(r)
		two, _ := json.Marshal(again)
		if !bytes.Equal(one, two) {
			t.Fatalf("read back as\n%s\nnot\n%s", two, one)
		}
	})
}
