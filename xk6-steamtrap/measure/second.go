package measure

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// Schema is the value of "schema" in the header line of a seconds file.
const Schema = "steamtrap/seconds/v1"

// Header is the first line of a seconds file.
type Header struct {
	Schema string `json:"schema"`
	// CreatedAt is when the output started: before k6 initialized its VUs,
	// and before a run started with --paused was resumed.
	CreatedAt time.Time     `json:"created_at"`
	Interval  int           `json:"interval_s"` // seconds per record; always 1
	Histogram HistogramSpec `json:"histogram"`
	// BeganAt is when k6 began the load: the earliest began_at line of the
	// file (see WriteBegan), zero when there is none (an older file, or a
	// run in which no iteration ever started or was dropped). The writer
	// does not know it when it writes the header line; readers fill it in.
	BeganAt time.Time `json:"began_at,omitzero"`
	// Counted says by which moment a request and an iteration count in a
	// second: CountedOffered ("offered", every file written since it was
	// added) when it started, whenever it completed; "" (older files) when
	// it completed.
	Counted string `json:"counted,omitempty"`
}

// CountedOffered is Header.Counted of a file that counts each request (and
// iteration) in the second it was offered: its completion less its
// duration.
const CountedOffered = "offered"

// Recounted returns h for a file of seconds taken from other files
// (merged, copied): counted by completion when byCompletion (any input was
// an older build's), else as h says.
func (h Header) Recounted(byCompletion bool) Header {
	if byCompletion {
		h.Counted = ""
	}
	return h
}

// ByOffered says the file counts requests by when they were offered.
func (h Header) ByOffered() bool { return h.Counted == CountedOffered }

// Began returns when the load began: BeganAt, or CreatedAt when BeganAt is
// unknown. A step's window is anchored on it.
func (h Header) Began() time.Time {
	if !h.BeganAt.IsZero() {
		return h.BeganAt
	}
	return h.CreatedAt
}

// noteBegan makes t the header's BeganAt if it is the earliest seen.
func (h *Header) noteBegan(t time.Time) {
	if !t.IsZero() && (h.BeganAt.IsZero() || t.Before(h.BeganAt)) {
		h.BeganAt = t
	}
}

// HistogramSpec describes the histogram fields of every record ("hist",
// "hist_ok" and "lag"): all share one unit, range and encoding.
type HistogramSpec struct {
	Unit               string `json:"unit"` // "us"
	Lowest             int64  `json:"lowest"`
	Highest            int64  `json:"highest"`
	SignificantFigures int    `json:"significant_figures"`
	Encoding           string `json:"encoding"`
}

// NewHeader returns the header of a file created at t.
func NewHeader(t time.Time) Header {
	return Header{
		Schema:    Schema,
		CreatedAt: t.UTC().Truncate(time.Millisecond),
		Interval:  1,
		Counted:   CountedOffered,
		Histogram: HistogramSpec{
			Unit:               "us",
			Lowest:             LowestMicros,
			Highest:            HighestMicros,
			SignificantFigures: SignificantFigures,
			Encoding:           "hdrhistogram-v2-compressed-base64",
		},
	}
}

// Second is what happened in one wall-clock second of a k6 run: the
// [StartUnix, StartUnix+1) interval. Requests and iterations count in the
// second they started (were offered), in files whose header says so
// (Header.ByOffered), else in the second they completed; everything else
// by its own timestamp.
type Second struct {
	StartUnix int64 `json:"start"` // unix seconds
	// Requests is the number of HTTP requests offered in this second that
	// completed (or failed, or timed out), whenever they did (k6's
	// http_reqs);
	// Requests == OK + Errors == the sum of Classes.
	Requests int64 `json:"requests"`
	OK       int64 `json:"ok"`     // status < 400 and no error
	Errors   int64 `json:"errors"` // status >= 400 or a transport error
	// Failed counts requests that k6's http_req_failed marked failed, i.e.
	// that the script's response callback did not expect (by default: not
	// 200–399). It equals Errors unless the script changes the callback.
	Failed int64 `json:"failed"`
	// Classes counts requests by class: an HTTP status ("200", "503") or a
	// transport class (ClassTimeout, ...); see Classify.
	Classes           map[string]int64 `json:"classes"`
	DroppedIterations int64            `json:"dropped_iterations"`
	Iterations        int64            `json:"iterations"`
	// VUs is k6's vus gauge (VUs running an iteration): its last value in
	// this second, or the last value before it when k6 emitted none in this
	// second. With an arrival-rate executor and fast responses it is mostly
	// 0: k6 samples it once a second, between iterations.
	VUs int64 `json:"vus"`
	// VUsMax is k6's vus_max gauge (VUs initialized), like VUs. When it
	// reaches the scenario's maxVUs, k6 cannot add VUs to keep the rate.
	VUsMax int64 `json:"vus_max"`
	// Latency percentiles of http_req_duration, in ms, for humans and jq;
	// 0 when no request completed. Merge histograms, never these.
	P50Millis float64 `json:"p50_ms"`
	P95Millis float64 `json:"p95_ms"`
	P99Millis float64 `json:"p99_ms"`
	MaxMillis float64 `json:"max_ms"`
	// Latency is the distribution of http_req_duration in µs.
	Latency *Histogram `json:"hist"`
	// LatencyOK is the distribution of http_req_duration in µs of the
	// successful requests only, as k6's http_req_duration{expected_response:true}:
	// those k6 tagged expected_response "true" or, when that system tag is
	// disabled, those counted in OK. Nil in records written before it
	// existed.
	LatencyOK *Histogram `json:"hist_ok,omitempty"`
	// Lag is the scheduling lag of the k6 process in µs: a probe goroutine
	// in the output sleeps 10 ms again and again and records by how much
	// each sleep overran (values under 1 µs as 1 µs), in the second it woke
	// up. It stays small (a baseline of up to a millisecond or two) unless
	// the load generator is starved of CPU, when its measurements are not
	// to be trusted. Nil in records written before it existed; empty when
	// the probe did not wake up in the second (it slept through it: see
	// the next second).
	Lag *Histogram `json:"lag,omitempty"`
	// LagP99Millis and LagMaxMillis are Lag's 99th percentile and maximum
	// in ms, for humans and jq; 0 when Lag is empty. Merge histograms,
	// never these.
	LagP99Millis float64 `json:"lag_p99_ms"`
	LagMaxMillis float64 `json:"lag_max_ms"`
	// Late marks a supplementary record: samples for this second that
	// reached the output after the second had been written. Its counts add
	// to the first record for the same StartUnix.
	Late bool `json:"late,omitempty"`
}

// Time returns the start of the second.
func (s Second) Time() time.Time { return time.Unix(s.StartUnix, 0) }

// Writer writes a seconds file. Each record goes to the underlying writer in
// a single Write call, so a reader tailing the file never sees part of a
// line unless the file system splits the write. A Writer is not safe for
// concurrent use.
type Writer struct {
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer to w. Write the header first.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// WriteHeader writes h as one line.
func (w *Writer) WriteHeader(h Header) error { return w.writeLine(h) }

// WriteSecond writes s as one line.
func (w *Writer) WriteSecond(s Second) error { return w.writeLine(s) }

// WriteBegan writes a began_at line: the load began at t (kept to the
// millisecond, UTC). A writer learns it after the header, and may learn an
// earlier time later; readers take the earliest line.
func (w *Writer) WriteBegan(t time.Time) error {
	return w.writeLine(beganLine{BeganAt: t.UTC().Truncate(time.Millisecond)})
}

// beganLine is the line WriteBegan writes.
type beganLine struct {
	BeganAt time.Time `json:"began_at"`
}

func (w *Writer) writeLine(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode record: %w", err)
	}
	w.buf = append(append(w.buf[:0], b...), '\n')
	_, err = w.w.Write(w.buf)
	return err
}

// MaxCount bounds every count of a second (requests, iterations, VUs, …):
// a trillion in one second is no measurement, and sums over a run's
// seconds must not overflow.
const MaxCount = 1_000_000_000_000

// MaxStartUnix is the latest second a file may hold: the end of year 9999.
const MaxStartUnix = 253402300799

// Check says what is wrong with a header as no writer writes it: an
// interval other than 1 s, or histograms of another geometry (they could
// not be merged exactly); nil when nothing is.
func (h Header) Check() error {
	want := NewHeader(time.Time{})
	if h.Interval != want.Interval {
		return fmt.Errorf("interval_s %d: want %d", h.Interval, want.Interval)
	}
	if h.Histogram != want.Histogram {
		w := want.Histogram
		return fmt.Errorf("histogram %+v: want unit %q, lowest %d, highest %d, significant_figures %d, encoding %q",
			h.Histogram, w.Unit, w.Lowest, w.Highest, w.SignificantFigures, w.Encoding)
	}
	return nil
}

// Check says what is wrong with a second as no writer writes it, naming
// the field and what was expected; nil when nothing is. A second has a
// start (unix seconds, > 0), counts from 0 to MaxCount, requests = ok +
// errors = the sum of classes, and percentiles ≥ 0.
func (s Second) Check() error {
	if s.StartUnix <= 0 || s.StartUnix > MaxStartUnix {
		if s.StartUnix == 0 {
			return errors.New(`start: missing: want the second's unix time (a line without "start" is a began_at line)`)
		}
		return fmt.Errorf("start %d: want unix seconds from 1 to %d", s.StartUnix, MaxStartUnix)
	}
	for _, c := range []struct {
		name string
		v    int64
	}{
		{"requests", s.Requests}, {"ok", s.OK}, {"errors", s.Errors}, {"failed", s.Failed},
		{"dropped_iterations", s.DroppedIterations}, {"iterations", s.Iterations}, {"vus", s.VUs}, {"vus_max", s.VUsMax},
	} {
		if c.v < 0 || c.v > MaxCount {
			return fmt.Errorf("%s %d: want a count from 0 to %d", c.name, c.v, int64(MaxCount))
		}
	}
	if s.OK+s.Errors != s.Requests { // no overflow: each ≤ MaxCount
		return fmt.Errorf("requests %d: want ok + errors (%d + %d)", s.Requests, s.OK, s.Errors)
	}
	var sum int64
	for k, v := range s.Classes {
		if k == "" || v < 0 || v > MaxCount {
			return fmt.Errorf("classes[%q] %d: want a class name and a count from 0 to %d", k, v, int64(MaxCount))
		}
		sum += v
		if sum > MaxCount {
			break
		}
	}
	if sum != s.Requests {
		return fmt.Errorf("classes sum to %d: want requests (%d)", sum, s.Requests)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"p50_ms", s.P50Millis}, {"p95_ms", s.P95Millis}, {"p99_ms", s.P99Millis}, {"max_ms", s.MaxMillis},
		{"lag_p99_ms", s.LagP99Millis}, {"lag_max_ms", s.LagMaxMillis},
	} {
		if !(f.v >= 0) || math.IsInf(f.v, 0) {
			return fmt.Errorf("%s %v: want milliseconds ≥ 0", f.name, f.v)
		}
	}
	return nil
}
