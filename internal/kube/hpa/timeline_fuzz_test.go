package hpa

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzParseTimeline: whatever a metric timeline holds, ParseTimeline (for
// GL-008's HPA) returns rows from 0 s in strictly increasing time, each
// value a number ≥ 0 or no value, the columns metrics of the HPA; written
// back as CSV they read the same; and the controller runs over them
// within [min, max]. Or an ErrTimeline saying which line. It never panics.
func FuzzParseTimeline(f *testing.F) {
	spec, err := Builtin("gl008")
	if err != nil {
		f.Fatal(err)
	}
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.csv"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, seed := range []string{"", "seconds,cpu\n0,70\n", "t,cpu,inspection_queue_depth\n0,70,10\n30.5,140,\n", "seconds,load,capacity\n0,1,0\n", "seconds,cpu\n0,1,2\n"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tl, err := ParseTimeline(bytes.NewReader(b), spec)
		if err != nil {
			if !errors.Is(err, ErrTimeline) {
				t.Fatalf("not an ErrTimeline: %v", err)
			}
			return
		}
		if len(tl.Samples) == 0 || tl.Samples[0].At != 0 {
			t.Fatalf("rows do not start at 0: %+v", tl.Samples)
		}
		for i, s := range tl.Samples {
			if i > 0 && s.At <= tl.Samples[i-1].At || s.At > MaxTimelineSeconds*time.Second {
				t.Fatalf("row %d at %v", i, s.At)
			}
			for k, v := range s.Values {
				if _, ok := spec.Metric(k); !ok || v < 0 || math.IsInf(v, 0) {
					t.Fatalf("row %d: %s = %v", i, k, v)
				}
			}
			if tl.LoadMode && (!(s.Capacity > 0) || !(s.Load >= 0) || math.IsInf(s.Load+s.Capacity, 0)) {
				t.Fatalf("row %d: load %v, capacity %v", i, s.Load, s.Capacity)
			}
		}
		back, err := ParseTimeline(strings.NewReader(writeTimeline(tl)), spec)
		if err != nil {
			t.Fatalf("written back, %v:\n%s", err, writeTimeline(tl))
		}
		if got, want := writeTimeline(back), writeTimeline(tl); got != want {
			t.Fatalf("read back as\n%s\nnot\n%s", got, want)
		}
		sim := spec.Only(tl.Keys)
		ds, err := Simulate(sim, tl.Samples, SimOptions{Initial: spec.Min, Duration: min(tl.Samples[len(tl.Samples)-1].At+time.Minute, 10*time.Minute)})
		if err != nil {
			t.Fatalf("simulating: %v", err)
		}
		for _, d := range ds {
			if d.Desired < spec.Min || d.Desired > spec.Max {
				t.Fatalf("at %v: %d replicas, outside [%d, %d]", d.At, d.Desired, spec.Min, spec.Max)
			}
		}
	})
}

// writeTimeline writes a parsed timeline back as CSV, its times to the
// nanosecond.
func writeTimeline(tl *Timeline) string {
	var b strings.Builder
	cols := tl.Keys
	if tl.LoadMode {
		cols = append([]string{"load", "capacity"}, slicesWithout(tl.Keys, "cpu")...)
	}
	b.WriteString("seconds," + strings.Join(cols, ",") + "\n")
	num := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	for _, s := range tl.Samples {
		fmt.Fprintf(&b, "%d.%09d", s.At/time.Second, s.At%time.Second)
		for _, c := range cols {
			switch c {
			case "load":
				b.WriteString("," + num(s.Load))
			case "capacity":
				b.WriteString("," + num(s.Capacity))
			default:
				b.WriteString("," + num(s.Values[c]))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func slicesWithout(xs []string, x string) []string {
	var out []string
	for _, v := range xs {
		if v != x {
			out = append(out, v)
		}
	}
	return out
}
