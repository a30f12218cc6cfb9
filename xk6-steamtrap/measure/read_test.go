package measure

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var created = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// encodeFile returns a seconds file holding seconds.
func encodeFile(t *testing.T, seconds ...Second) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	require.NoError(t, w.WriteHeader(NewHeader(created)))
	for _, s := range seconds {
		require.NoError(t, w.WriteSecond(s))
	}
	return buf.Bytes()
}

func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.ndjson")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

func testSeconds() []Second {
	late := second(101, 0, []float64{9}, map[string]int64{"200": 1})
	late.Late = true
	lagged := second(102, 4, nil, nil)
	lagged.Lag = lagHistogram(80, 120, 15000)
	lagged.LagP99Millis, lagged.LagMaxMillis = lagged.Lag.PercentileMillis(99), lagged.Lag.MaxMillis()
	return []Second{
		second(100, 2, []float64{1.5, 2.25, 30}, map[string]int64{"200": 2, "503": 1}),
		second(101, 4, []float64{4000}, map[string]int64{ClassConnRefused: 1}),
		lagged,
		late,
	}
}

func requireSameSeconds(t *testing.T, want, got []Second) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		w, g := want[i], got[i]
		for _, h := range []struct {
			name string
			w, g **Histogram
		}{{"hist", &w.Latency, &g.Latency}, {"hist_ok", &w.LatencyOK, &g.LatencyOK}, {"lag", &w.Lag, &g.Lag}} {
			if *h.w == nil {
				assert.Nil(t, *h.g, "second %d %s", i, h.name)
			} else {
				assert.True(t, (*h.w).Equal(*h.g), "second %d %s", i, h.name)
			}
			*h.w, *h.g = nil, nil
		}
		assert.Equal(t, w, g, "second %d", i)
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	t.Parallel()
	want := testSeconds()
	data := encodeFile(t, want...)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	require.Len(t, lines, 5)
	assert.True(t, strings.HasPrefix(lines[0], `{"schema":"steamtrap/seconds/v1",`), lines[0])
	assert.Contains(t, lines[1], `"start":100,"requests":3,"ok":2,"errors":1,"failed":1,"classes":{"200":2,"503":1},`)
	assert.Contains(t, lines[1], `"p50_ms":2.251,"p95_ms":30.015,"p99_ms":30.015,"max_ms":30.015,"hist":"HISTFAAA`)
	assert.Contains(t, lines[3], `"requests":0,"ok":0,"errors":0,"failed":0,"classes":{},`)
	assert.Contains(t, lines[3], `"lag":"HISTFAAA`)
	assert.NotContains(t, lines[1], `"late"`)
	assert.Contains(t, lines[4], `"late":true`)

	got, err := ReadFile(writeFile(t, data))
	require.NoError(t, err)
	requireSameSeconds(t, want, got)

	h, _, err := ReadAll(bytes.NewReader(data), "x")
	require.NoError(t, err)
	assert.Equal(t, NewHeader(created), h)
}

func TestReadErrorsNameFileAndLine(t *testing.T) {
	t.Parallel()
	good := encodeFile(t, testSeconds()[:2]...)
	for name, tc := range map[string]struct {
		data    string
		wantErr string
		is      error
		n       int
	}{
		"empty":         {"", ":1: not a steamtrap/seconds/v1 file (got an empty file)", ErrSchema, 0},
		"no header":     {`{"start":1}` + "\n", `:1: not a steamtrap/seconds/v1 file (got "no header")`, ErrSchema, 0},
		"other schema":  {`{"schema":"steamtrap/seconds/v2"}` + "\n", `:1: not a steamtrap/seconds/v1 file (got "steamtrap/seconds/v2")`, ErrSchema, 0},
		"bad json":      {string(good) + "{oops\n", ":4: invalid character 'o'", nil, 2},
		"bad histogram": {string(good) + `{"start":5,"hist":"AAAA"}` + "\n", ":4: decode histogram", nil, 2},
		"truncated":     {string(good) + `{"start":5,"requ`, ":4: incomplete last line: unexpected end of JSON input", ErrTruncated, 2},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, []byte(tc.data))
			got, err := ReadFile(path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), path+tc.wantErr)
			if tc.is != nil {
				require.ErrorIs(t, err, tc.is)
			}
			assert.Len(t, got, tc.n, "records before the bad line are returned")
		})
	}

	// A last line without its newline that is complete is accepted, and one
	// that is complete but invalid is refused as invalid, not as cut short.
	got, err := ReadFile(writeFile(t, append(bytes.Clone(good), `{"start":9,"requests":-1}`...)))
	require.ErrorIs(t, err, ErrInvalid)
	require.NotErrorIs(t, err, ErrTruncated)
	assert.Len(t, got, 2)

	// A last line without its newline that is complete is accepted.
	got, err = ReadFile(writeFile(t, bytes.TrimSuffix(good, []byte("\n"))))
	require.NoError(t, err)
	assert.Len(t, got, 2)

	_, err = ReadFile(filepath.Join(t.TempDir(), "missing.ndjson"))
	require.ErrorIs(t, err, fs.ErrNotExist)
}

func TestFollowReadsAppendedLinesIncludingPartialOnes(t *testing.T) {
	t.Parallel()
	want := testSeconds()
	data := encodeFile(t, want...)
	path := filepath.Join(t.TempDir(), "s.ndjson") // does not exist yet

	// The writer creates the file late, then appends in pieces that cut
	// lines in the middle, as a reader polling a live file may see them.
	cuts := []int{0, 10, bytes.IndexByte(data, '\n') + 1, len(data) / 2, len(data) - 7, len(data)}
	writerDone := make(chan error, 1)
	go func() {
		time.Sleep(2 * FollowInterval)
		f, err := os.Create(path)
		if err != nil {
			writerDone <- err
			return
		}
		defer f.Close()
		for i := 1; i < len(cuts); i++ {
			if _, err := f.Write(data[cuts[i-1]:cuts[i]]); err != nil {
				writerDone <- err
				return
			}
			time.Sleep(FollowInterval + FollowInterval/2)
		}
		writerDone <- nil
	}()

	ctx, cancel := context.WithCancel(context.Background())
	var got []Second
	followDone := make(chan error, 1)
	go func() {
		followDone <- Follow(ctx, path, func(s Second) {
			got = append(got, s)
			if len(got) == len(want) {
				cancel()
			}
		})
	}()
	select {
	case err := <-followDone:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("Follow did not deliver every record")
	}
	require.NoError(t, <-writerDone)
	requireSameSeconds(t, want, got)
}

func TestFollowDrainsAtContextEnd(t *testing.T) {
	t.Parallel()
	want := testSeconds()
	path := writeFile(t, encodeFile(t, want...))
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // already over: Follow still reads what is there
	var got []Second
	require.NoError(t, Follow(ctx, path, func(s Second) { got = append(got, s) }))
	requireSameSeconds(t, want, got)
}

func TestFollowErrors(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*FollowInterval)
	defer cancel()
	missing := filepath.Join(t.TempDir(), "never.ndjson")
	err := Follow(ctx, missing, func(Second) {})
	require.ErrorIs(t, err, fs.ErrNotExist)
	assert.Contains(t, err.Error(), missing)

	bad := append(encodeFile(t, testSeconds()[0]), "{oops\n"...)
	path := writeFile(t, bad)
	n := 0
	err = Follow(context.Background(), path, func(Second) { n++ })
	require.Error(t, err)
	assert.Contains(t, err.Error(), path+":3:")
	assert.Equal(t, 1, n)

	trunc := append(encodeFile(t, testSeconds()[0]), `{"start":5,"requ`...)
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	err = Follow(ctx2, writeFile(t, trunc), func(Second) {})
	require.ErrorIs(t, err, ErrTruncated)
}

func TestReadOKLatencyAndOldRecords(t *testing.T) {
	t.Parallel()
	s := okSecond(100, []float64{1.5, 2}, []float64{3000})
	data := encodeFile(t, s)
	assert.Contains(t, string(data), `"hist_ok":"HISTFAAA`)
	// A record from before hist_ok existed, hand-written as an old output
	// wrote it.
	data = append(data, `{"start":101,"requests":1,"ok":1,"errors":0,"failed":0,"classes":{"200":1},`+
		`"dropped_iterations":0,"iterations":1,"vus":1,"vus_max":2,"p50_ms":0,"p95_ms":0,"p99_ms":0,"max_ms":0,"hist":""}`+"\n"...)

	got, err := ReadFile(writeFile(t, data))
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.NotNil(t, got[0].LatencyOK)
	assert.True(t, s.LatencyOK.Equal(got[0].LatencyOK))
	assert.Nil(t, got[1].LatencyOK, "an old record reads without hist_ok")
	assert.NotNil(t, got[1].Latency)

	w := Merge(got...)
	assert.Equal(t, int64(2), w.LatencyOK.Count())
	assert.InEpsilon(t, 2, w.OKPercentiles().MaxMillis, 0.001)
}

// lagHistogram returns a histogram of the given lag values in µs.
func lagHistogram(micros ...int64) *Histogram {
	h := NewHistogram()
	for _, us := range micros {
		h.RecordMicros(us)
	}
	return h
}

func TestReadLagAndOldRecords(t *testing.T) {
	t.Parallel()
	r := NewRecorder(100)
	for _, us := range []int64{0, 90, 110, 130, 25000} {
		r.AddLagMicros(us)
	}
	s := r.Second()
	data := encodeFile(t, s)
	assert.Contains(t, string(data), `"lag":"HISTFAAA`)
	assert.Contains(t, string(data), `"lag_p99_ms":25.007,"lag_max_ms":25.007`)
	data = append(data, `{"start":101,"requests":0,"ok":0,"errors":0,"failed":0,"classes":{},`+
		`"dropped_iterations":0,"iterations":0,"vus":1,"vus_max":2,"p50_ms":0,"p95_ms":0,"p99_ms":0,"max_ms":0,"hist":""}`+"\n"...)

	got, err := ReadFile(writeFile(t, data))
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.NotNil(t, got[0].Lag)
	assert.True(t, s.Lag.Equal(got[0].Lag))
	assert.Equal(t, s.LagP99Millis, got[0].LagP99Millis)
	assert.Nil(t, got[1].Lag, "an old record reads without lag")
	assert.Zero(t, got[1].LagP99Millis)
	assert.Zero(t, got[1].LagMaxMillis)

	w := Merge(got...)
	require.NotNil(t, w.Lag)
	assert.Equal(t, int64(5), w.Lag.Count())
	assert.InEpsilon(t, 25, w.LagPercentiles().MaxMillis, 0.001)
	assert.Equal(t, Percentiles{}, Merge(got[1]).LagPercentiles())
}

func TestReadBeganAtLines(t *testing.T) {
	t.Parallel()
	began := created.Add(90*time.Second + 123*time.Millisecond)
	var buf bytes.Buffer
	w := NewWriter(&buf)
	require.NoError(t, w.WriteHeader(NewHeader(created)))
	want := testSeconds()
	require.NoError(t, w.WriteSecond(want[0]))
	require.NoError(t, w.WriteBegan(began.Add(time.Second+456789*time.Nanosecond)))
	require.NoError(t, w.WriteSecond(want[1]))
	require.NoError(t, w.WriteBegan(began.Add(999*time.Microsecond))) // earlier: wins, to the ms
	require.NoError(t, w.WriteSecond(want[2]))
	require.NoError(t, w.WriteBegan(began.Add(5*time.Second))) // later: ignored
	require.NoError(t, w.WriteSecond(want[3]))
	assert.Contains(t, buf.String(), "\n"+`{"began_at":"2026-01-02T03:05:35.123Z"}`+"\n")

	h, got, err := ReadAll(bytes.NewReader(buf.Bytes()), "s.ndjson")
	require.NoError(t, err)
	requireSameSeconds(t, want, got)
	assert.Equal(t, created, h.CreatedAt)
	assert.Equal(t, began, h.BeganAt)
	assert.Equal(t, began, h.Began())

	var followed []Second
	require.NoError(t, Follow(canceled(), writeFile(t, buf.Bytes()), func(s Second) { followed = append(followed, s) }))
	requireSameSeconds(t, testSeconds(), followed)
}

func TestReadWithoutBeganAtFallsBackToCreatedAt(t *testing.T) {
	t.Parallel()
	h, got, err := ReadAll(bytes.NewReader(encodeFile(t, testSeconds()...)), "old.ndjson")
	require.NoError(t, err)
	assert.Len(t, got, 4)
	assert.True(t, h.BeganAt.IsZero())
	assert.Equal(t, created, h.Began())
}

func TestReadRejectsALineWithStartAndBeganAt(t *testing.T) {
	t.Parallel()
	data := append(encodeFile(t), `{"start":100,"requests":0,"began_at":"2026-01-02T03:04:05Z"}`+"\n"...)
	_, _, err := ReadAll(bytes.NewReader(data), "s.ndjson")
	require.EqualError(t, err, "s.ndjson:2: a line has either start or began_at, not both")
	data = append(encodeFile(t), `{"began_at":"yesterday"}`+"\n"...)
	_, _, err = ReadAll(bytes.NewReader(data), "s.ndjson")
	require.ErrorContains(t, err, "s.ndjson:2: ")
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestReadRefusesWhatNoWriterWrites: a line that parses but holds what no
// writer writes is refused, naming the file, the line, the field and what
// was expected.
func TestReadRefusesWhatNoWriterWrites(t *testing.T) {
	t.Parallel()
	good := encodeFile(t, testSeconds()[:2]...) // seconds 100 and 101
	header, _, _ := strings.Cut(string(good), "\n")
	line := func(fields string) string {
		return string(good) + `{"start":102,` + fields + `}` + "\n"
	}
	for name, tc := range map[string]struct{ data, want string }{
		"interval":        {strings.Replace(header, `"interval_s":1`, `"interval_s":5`, 1) + "\n", ":1: invalid: interval_s 5: want 1"},
		"geometry":        {strings.Replace(header, `"significant_figures":3`, `"significant_figures":2`, 1) + "\n", ":1: invalid: histogram {"},
		"no start":        {string(good) + `{"requests":0}` + "\n", `:4: invalid: start: missing: want the second's unix time`},
		"negative start":  {string(good) + `{"start":-3}` + "\n", ":4: invalid: start -3: want unix seconds from 1 to 253402300799"},
		"after year 9999": {string(good) + `{"start":253402300800}` + "\n", ":4: invalid: start 253402300800: want unix seconds from 1"},
		"negative count":  {line(`"requests":-1,"ok":-1`), ":4: invalid: requests -1: want a count from 0 to 1000000000000"},
		"negative vus":    {line(`"vus":-2`), ":4: invalid: vus -2: want a count from 0"},
		"huge count":      {line(`"iterations":1000000000001`), ":4: invalid: iterations 1000000000001: want a count from 0 to 1000000000000"},
		"ok + errors":     {line(`"requests":3,"ok":1,"errors":1,"classes":{"200":3}`), ":4: invalid: requests 3: want ok + errors (1 + 1)"},
		"classes":         {line(`"requests":2,"ok":2,"classes":{"200":1}`), ":4: invalid: classes sum to 1: want requests (2)"},
		"negative class":  {line(`"requests":0,"classes":{"200":-1,"503":1}`), `:4: invalid: classes["200"] -1: want a class name and a count`},
		"negative p95":    {line(`"p95_ms":-0.5`), ":4: invalid: p95_ms -0.5: want milliseconds ≥ 0"},
		"out of order":    {string(good) + `{"start":100}` + "\n", ":4: invalid: start 100 is not after the second before it (101)"},
		"twice":           {string(good) + `{"start":101}` + "\n", ":4: invalid: start 101 is not after the second before it (101)"},
		"wrong type":      {line(`"requests":"3"`), ":4: json: cannot unmarshal string into Go struct field"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, []byte(tc.data))
			_, err := ReadFile(path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), path+tc.want)
		})
	}
	// A late supplement for an earlier second is no disorder.
	late := testSeconds()[0]
	late.Late = true
	_, err := ReadFile(writeFile(t, append(bytes.Clone(good), encodeFile(t, late)[len(header)+1:]...)))
	require.NoError(t, err)
}
