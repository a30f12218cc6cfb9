package measure

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadAll: whatever a seconds file holds, ReadAll returns seconds that
// pass Second.Check, in order, that a Writer writes back to a file ReadAll
// reads as the same header and seconds; or an error naming the file and
// its line. It never panics.
func FuzzReadAll(f *testing.F) {
	late := testSeconds()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	_ = w.WriteHeader(NewHeader(created))
	_ = w.WriteBegan(created.Add(2e9))
	for _, s := range late {
		_ = w.WriteSecond(s)
	}
	for _, seed := range []string{
		"", "\n", "{}\n", `{"schema":"steamtrap/seconds/v1"}` + "\n", buf.String(),
		buf.String() + `{"start":5,"requ`, buf.String() + `{"began_at":"2026-01-02T03:04:05Z","start":3}` + "\n",
	} {
		f.Add([]byte(seed))
	}
	// The real files of the repository's run directories (the main module's
	// testdata, beside this module).
	paths, _ := filepath.Glob(filepath.Join("..", "..", "internal", "*", "*", "testdata", "*", "*", "step-0[1-2].ndjson"))
	more, _ := filepath.Glob(filepath.Join("..", "..", "internal", "*", "*", "testdata", "*", "step-0[1-2].ndjson"))
	for _, p := range append(paths, more...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		const name = "f.ndjson"
		h, secs, err := ReadAll(bytes.NewReader(b), name)
		if err != nil {
			if !strings.HasPrefix(err.Error(), name+":") {
				t.Fatalf("an error that does not name the file and line: %v", err)
			}
			if errors.Is(err, ErrTruncated) && !bytes.Contains(b, []byte("\n")) {
				t.Fatalf("a file without a complete line is no header, not a truncated line: %v", err)
			}
			return
		}
		if h.Schema != Schema || h.Check() != nil {
			t.Fatalf("accepted a header no writer writes: %+v", h)
		}
		var prev int64
		for i, s := range secs {
			if err := s.Check(); err != nil {
				t.Fatalf("accepted second %d: %v", i, err)
			}
			if !s.Late {
				if s.StartUnix <= prev {
					t.Fatalf("accepted second %d out of order: %d after %d", i, s.StartUnix, prev)
				}
				prev = s.StartUnix
			}
		}
		var out bytes.Buffer
		w := NewWriter(&out)
		began := h.BeganAt // the header line carries it back
		if err := w.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		for _, s := range secs {
			if err := w.WriteSecond(s); err != nil {
				t.Fatal(err)
			}
		}
		h2, secs2, err := ReadAll(bytes.NewReader(out.Bytes()), name)
		if err != nil {
			t.Fatalf("what was accepted does not read back: %v\n%s", err, out.Bytes())
		}
		if !h2.CreatedAt.Equal(h.CreatedAt) || !h2.BeganAt.Equal(began) || h2.Interval != h.Interval || h2.Histogram != h.Histogram || h2.Counted != h.Counted {
			t.Fatalf("the header reads back as %+v, not %+v", h2, h)
		}
		requireSameSeconds(t, secs, secs2)
	})
}
