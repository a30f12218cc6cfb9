package collect

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// key is the campaign's key; a step's runners carry its token (bearer).
const key = "campaign-7c1e-key"

// bearer is the Authorization header of step's runners.
func bearer(step string) string { return "Bearer " + New(key).StepToken(step) }

var created = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// second returns a record of second start with one request per latency.
func second(start int64, latenciesMillis ...float64) measure.Second {
	r := measure.NewRecorder(start)
	for _, ms := range latenciesMillis {
		r.AddRequest(measure.Classify("200", ""))
		r.AddLatency(ms, true)
	}
	return r.Second()
}

// batchBody is a batch as the output sends it: the header, then began_at
// when not zero, then the seconds.
func batchBody(t testing.TB, began time.Time, secs ...measure.Second) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := measure.NewWriter(&buf)
	require.NoError(t, w.WriteHeader(measure.NewHeader(created)))
	if !began.IsZero() {
		require.NoError(t, w.WriteBegan(began))
	}
	for _, s := range secs {
		require.NoError(t, w.WriteSecond(s))
	}
	return buf.Bytes()
}

type post struct {
	step, auth, runner, segment, batch, contentType string
	body                                            []byte
}

// valid returns a well-formed request of batch n from runner.
func valid(runner string, n int, body []byte) post {
	return post{step: "s1", auth: bearer("s1"), runner: runner, batch: strconv.Itoa(n),
		contentType: measure.ContentType, body: body}
}

func (p post) send(s *Server) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, measure.CollectPath(p.step), bytes.NewReader(p.body))
	set := func(k, v string) {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	set("Authorization", p.auth)
	set("Content-Type", p.contentType)
	set(measure.HeaderRunner, p.runner)
	set(measure.HeaderSegment, p.segment)
	set(measure.HeaderBatch, p.batch)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

func TestServerKeepsOneStreamPerRunnerAndEachBatchOnce(t *testing.T) {
	t.Parallel()
	s := New(key)
	type delivered struct {
		runner string
		start  int64
		late   bool
	}
	var got []delivered
	s.Expect("s1", Expectation{OnSecond: func(runner string, sec measure.Second) {
		got = append(got, delivered{runner, sec.StartUnix, sec.Late})
	}})
	began := created.Add(3*time.Second + 250*time.Millisecond)
	late := second(100, 7)
	late.Late = true

	a1 := valid("0", 1, batchBody(t, began.Add(time.Second), second(100, 1, 2), second(101, 3)))
	a1.segment = "0:1/2"
	a2 := valid("0", 2, batchBody(t, began, second(102), late))
	a2.segment = "0:1/2"
	b1 := valid("1", 1, batchBody(t, time.Time{}, second(100, 9)))
	b1.segment = "1/2:1"
	for i, p := range []post{a1, b1, a2, a1, a2} { // a1 and a2 again: answers lost
		rec := p.send(s)
		require.Equal(t, http.StatusNoContent, rec.Code, "request %d: %s", i, rec.Body)
	}

	streams := s.Done("s1")
	require.Len(t, streams, 2)
	a, b := streams[0], streams[1]
	assert.Equal(t, []string{"0", "0:1/2", "1", "1/2:1"}, []string{a.Runner, a.Segment, b.Runner, b.Segment})
	assert.Equal(t, 2, a.Batches)
	assert.Equal(t, 1, b.Batches)
	assert.Equal(t, []int64{100, 101, 102, 100}, starts(a.Seconds), "in arrival order, the late record kept")
	assert.True(t, a.Seconds[3].Late)
	assert.Equal(t, []int64{100}, starts(b.Seconds))
	assert.Equal(t, int64(2), a.Seconds[0].Latency.Count())
	assert.Equal(t, created, a.Header.CreatedAt)
	assert.Equal(t, began, a.Header.BeganAt, "the earliest began_at of the runner's batches")
	assert.True(t, b.Header.BeganAt.IsZero())
	assert.Equal(t, created, b.Header.Began())
	assert.Equal(t, []delivered{
		{"0", 100, false}, {"0", 101, false}, {"1", 100, false}, {"0", 102, false}, {"0", 100, true},
	}, got, "every record delivered once")

	assert.Equal(t, http.StatusNotFound, valid("0", 3, batchBody(t, time.Time{}, second(103))).send(s).Code,
		"a step is forgotten once done")
	assert.Nil(t, s.Done("s1"))
}

func TestServerRefusesWithoutTheToken(t *testing.T) {
	t.Parallel()
	s := New(key)
	delivered := 0
	s.Expect("s1", Expectation{OnSecond: func(string, measure.Second) { delivered++ }})
	body := batchBody(t, time.Time{}, second(100, 1))
	tok := New(key).StepToken("s1")
	for name, auth := range map[string]string{
		"none":             "",
		"wrong":            "Bearer " + tok[:63] + "x",
		"prefix":           "Bearer " + tok[:32],
		"longer":           "Bearer " + tok + "x",
		"other scheme":     "Basic " + tok,
		"token alone":      tok,
		"empty bearer":     "Bearer ",
		"double spaces":    "Bearer  " + tok,
		"the key":          "Bearer " + key,
		"another step's":   bearer("s2"),
		"another campaign": "Bearer " + New("another-key").StepToken("s1"),
	} {
		p := valid("0", 1, body)
		p.auth = auth
		rec := p.send(s)
		assert.Equal(t, http.StatusUnauthorized, rec.Code, name)
		assert.Equal(t, "unauthorized\n", rec.Body.String(), name)
		assert.Equal(t, "Bearer", rec.Header().Get("WWW-Authenticate"), name)
	}
	// Authentication comes first: an unknown step is not revealed.
	p := valid("0", 1, body)
	p.auth, p.step = "Bearer nope", "unknown"
	assert.Equal(t, http.StatusUnauthorized, p.send(s).Code)

	assert.Zero(t, delivered, "unauthenticated data delivered")
	assert.Empty(t, s.Done("s1"))

	s.Expect("s1", Expectation{OnSecond: func(string, measure.Second) { delivered++ }})
	p = valid("0", 1, body)
	p.auth = "bearer " + tok // the scheme is case-insensitive
	assert.Equal(t, http.StatusNoContent, p.send(s).Code)
	assert.Equal(t, 1, delivered)

	nobody := New("")
	nobody.Expect("s1", Expectation{})
	assert.Empty(t, nobody.StepToken("s1"))
	p = valid("0", 1, body)
	p.auth = "Bearer "
	assert.Equal(t, http.StatusUnauthorized, p.send(nobody).Code, "an empty token accepts nothing")
}

func TestServerRejectsBadRequestsWhole(t *testing.T) {
	t.Parallel()
	good := batchBody(t, time.Time{}, second(100, 1), second(101, 2))
	lines := strings.SplitAfter(string(good), "\n")
	otherGeometry := strings.Replace(lines[0], `"significant_figures":3`, `"significant_figures":2`, 1)
	for name, tc := range map[string]struct {
		edit func(*post)
		code int
		msg  string
	}{
		"unknown step":       {func(p *post) { p.step, p.auth = "s2", bearer("s2") }, http.StatusNotFound, "no such step is expected"},
		"no content type":    {func(p *post) { p.contentType = "" }, http.StatusUnsupportedMediaType, "want Content-Type: application/x-ndjson"},
		"json":               {func(p *post) { p.contentType = "application/json" }, http.StatusUnsupportedMediaType, ""},
		"no runner":          {func(p *post) { p.runner = "" }, http.StatusBadRequest, "X-Steamtrap-Runner: want a runner's name"},
		"runner too long":    {func(p *post) { p.runner = strings.Repeat("r", 201) }, http.StatusBadRequest, "X-Steamtrap-Runner"},
		"segment not ASCII":  {func(p *post) { p.segment = "1/2:1\u00e9" }, http.StatusBadRequest, "X-Steamtrap-Segment"},
		"no batch":           {func(p *post) { p.batch = "" }, http.StatusBadRequest, "X-Steamtrap-Batch: want the batch's number, from 1"},
		"batch 0":            {func(p *post) { p.batch = "0" }, http.StatusBadRequest, "X-Steamtrap-Batch"},
		"batch not a number": {func(p *post) { p.batch = "1e3" }, http.StatusBadRequest, "X-Steamtrap-Batch"},
		"empty body":         {func(p *post) { p.body = nil }, http.StatusBadRequest, "batch 1:1: not a steamtrap/seconds/v1 file"},
		"no header":          {func(p *post) { p.body = []byte(lines[1]) }, http.StatusBadRequest, "batch 1:1: not a steamtrap/seconds/v1 file"},
		"bad second line":    {func(p *post) { p.body = []byte(lines[0] + lines[1] + "{\"start\":\"x\"}\n") }, http.StatusBadRequest, "batch 1:3: json"},
		"bad histogram":      {func(p *post) { p.body = []byte(lines[0] + `{"start":100,"hist":"HISTFAAAA"}` + "\n") }, http.StatusBadRequest, "batch 1:2: decode histogram"},
		"other geometry":     {func(p *post) { p.body = []byte(otherGeometry + lines[1]) }, http.StatusBadRequest, "batch 1:1: invalid: histogram {"},
		"start 0":            {func(p *post) { p.body = []byte(lines[0] + `{"requests":1}` + "\n") }, http.StatusBadRequest, "batch 1:2: invalid: start: missing"},
		"negative count":     {func(p *post) { p.body = []byte(lines[0] + `{"start":100,"requests":-1}` + "\n") }, http.StatusBadRequest, "batch 1:2: invalid: requests -1: want a count from 0"},
		"too large":          {func(p *post) { p.body = bytes.Repeat([]byte("x"), MaxBodyBytes+1) }, http.StatusRequestEntityTooLarge, "body larger than 8388608 bytes"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := New(key)
			s.Expect("s1", Expectation{})
			p := valid("0", 1, good)
			tc.edit(&p)
			rec := p.send(s)
			assert.Equal(t, tc.code, rec.Code, rec.Body.String())
			assert.Contains(t, rec.Body.String(), tc.msg)
			if tc.code != http.StatusNotFound {
				// Nothing of a rejected batch is kept, and its number is not
				// used up: the batch, sent right, is accepted.
				assert.Equal(t, http.StatusNoContent, valid("0", 1, good).send(s).Code)
				streams := s.Done("s1")
				require.Len(t, streams, 1)
				assert.Equal(t, []int64{100, 101}, starts(streams[0].Seconds))
			}
		})
	}
}

func TestServerMethodAndPath(t *testing.T) {
	t.Parallel()
	s := New(key)
	s.Expect("s1", Expectation{})
	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{http.MethodGet, "/v1/steps/s1/seconds", http.StatusMethodNotAllowed},
		{http.MethodPost, "/v1/steps/s1", http.StatusNotFound},
		{http.MethodPost, "/", http.StatusNotFound},
	} {
		req := httptest.NewRequest(tc.method, tc.path, nil)
		req.Header.Set("Authorization", bearer("s1"))
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		assert.Equal(t, tc.code, rec.Code, "%s %s", tc.method, tc.path)
	}
}

func TestServerStepNamesAreEscaped(t *testing.T) {
	t.Parallel()
	s := New(key)
	s.Expect("step 3/retry 1", Expectation{})
	p := valid("0", 1, batchBody(t, time.Time{}, second(100, 1)))
	p.step, p.auth = "step 3/retry 1", bearer("step 3/retry 1")
	require.Equal(t, http.StatusNoContent, p.send(s).Code)
	assert.Len(t, s.Done("step 3/retry 1"), 1)
}

func TestServerBoundsRunnersPerStep(t *testing.T) {
	t.Parallel()
	s := New(key)
	s.Expect("s1", Expectation{})
	body := batchBody(t, time.Time{})
	for i := range MaxRunnersPerStep {
		require.Equal(t, http.StatusNoContent, valid(strconv.Itoa(i), 1, body).send(s).Code)
	}
	rec := valid("one too many", 1, body).send(s)
	assert.Equal(t, http.StatusConflict, rec.Code)
	assert.Equal(t, http.StatusNoContent, valid("7", 2, body).send(s).Code, "known runners go on")
}

func TestServerDeliversConcurrentBatchesOneAtATime(t *testing.T) {
	t.Parallel()
	s := New(key)
	var inside, most int
	var mu sync.Mutex
	s.Expect("s1", Expectation{OnSecond: func(string, measure.Second) {
		mu.Lock()
		inside++
		most = max(most, inside)
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		inside--
		mu.Unlock()
	}})
	var wg sync.WaitGroup
	for r := range 8 {
		wg.Go(func() {
			for n := 1; n <= 5; n++ {
				body := batchBody(t, time.Time{}, second(int64(100+2*n), 1), second(int64(101+2*n), 2))
				assert.Equal(t, http.StatusNoContent, valid(strconv.Itoa(r), n, body).send(s).Code)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, most)
	streams := s.Done("s1")
	require.Len(t, streams, 8)
	for _, st := range streams {
		assert.Len(t, st.Seconds, 10)
		assert.Equal(t, 5, st.Batches)
	}
}

func TestListenServesUntilTheContextEnds(t *testing.T) {
	t.Parallel()
	s := New(key)
	s.Expect("s1", Expectation{})
	ctx, cancel := context.WithCancel(context.Background())
	addr, err := s.Listen(ctx, "127.0.0.1:0", nil)
	require.NoError(t, err)
	url := "http://" + addr.String() + measure.CollectPath("s1")
	send := func() (*http.Response, error) {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(batchBody(t, time.Time{}, second(100, 1))))
		require.NoError(t, err)
		req.Header.Set("Authorization", bearer("s1"))
		req.Header.Set("Content-Type", measure.ContentType+"; charset=utf-8")
		req.Header.Set(measure.HeaderRunner, "0")
		req.Header.Set(measure.HeaderBatch, "1")
		return http.DefaultClient.Do(req)
	}
	resp, err := send()
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Len(t, s.Done("s1"), 1)

	cancel()
	require.Eventually(t, func() bool {
		resp, err := send()
		if err == nil {
			resp.Body.Close()
		}
		return err != nil
	}, 10*time.Second, 10*time.Millisecond, "the listener closes")

	_, err = New(key).Listen(context.Background(), "127.0.0.1:-1", nil)
	assert.ErrorContains(t, err, "collector: ")
}

func starts(secs []measure.Second) []int64 {
	out := make([]int64, len(secs))
	for i, s := range secs {
		out[i] = s.StartUnix
	}
	return out
}

// A batch of step s1, replayed (by a runner of s1 that is late, or by
// anyone who kept it) once the driver has moved on to step s2, is refused:
// s1's token is not s2's, and s1's path is gone. While both are expected
// (a step and its retry), each token opens its own step only.
func TestServerRefusesABatchOfAnotherStep(t *testing.T) {
	t.Parallel()
	s := New(key)
	s.Expect("s1", Expectation{})
	b1 := valid("1", 1, batchBody(t, time.Time{}, second(100, 1), second(101, 2)))
	require.Equal(t, http.StatusNoContent, b1.send(s).Code)
	require.Len(t, s.Done("s1"), 1)

	delivered := 0
	s.Expect("s2", Expectation{OnSecond: func(string, measure.Second) { delivered++ }})
	replay := b1
	replay.step = "s2"
	rec := replay.send(s)
	assert.Equal(t, http.StatusUnauthorized, rec.Code, "s1's token on s2's path: %s", rec.Body)
	rec = b1.send(s)
	assert.Equal(t, http.StatusNotFound, rec.Code, "s1's path after Done: %s", rec.Body)
	assert.Contains(t, rec.Body.String(), "no such step is expected")

	s.Expect("s1", Expectation{}) // both expected at once
	assert.Equal(t, http.StatusUnauthorized, replay.send(s).Code)
	ok := replay
	ok.auth = bearer("s2")
	assert.Equal(t, http.StatusNoContent, ok.send(s).Code)
	assert.Equal(t, 2, delivered, "s2's own batch only")
	streams := s.Done("s2")
	require.Len(t, streams, 1)
	assert.Equal(t, 1, streams[0].Batches)
	assert.NotEqual(t, New(key).StepToken("s1"), New(key).StepToken("s2"))
	assert.Len(t, New(key).StepToken("s1"), 64, "HMAC-SHA256, hex")
	assert.Equal(t, New(key).StepToken("s1"), s.StepToken("s1"), "a function of the key and the step")
}

// When the executor names the step's runners, a batch from another runner,
// or from one of them with another execution segment, is refused before
// its body is read.
func TestServerRefusesRunnersTheStepDoesNotHave(t *testing.T) {
	t.Parallel()
	s := New(key)
	delivered := 0
	s.Expect("s1", Expectation{Runners: map[string]string{"1": "0:1/2", "2": "1/2:1"},
		OnSecond: func(string, measure.Second) { delivered++ }})
	body := batchBody(t, time.Time{}, second(100, 1))
	for name, tc := range map[string]struct {
		runner, segment, msg string
	}{
		"another runner":          {"3", "1/2:1", `runner "3" is not one of the step's`},
		"another runner's part":   {"1", "1/2:1", `runner "1" of the step runs execution segment "0:1/2", not "1/2:1"`},
		"the whole load":          {"2", "", `not ""`},
		"a segment of another n":  {"1", "0:1/3", `not "0:1/3"`},
		"a name that is a number": {"01", "0:1/2", `runner "01"`},
	} {
		p := valid(tc.runner, 1, body)
		p.segment = tc.segment
		rec := p.send(s)
		assert.Equal(t, http.StatusForbidden, rec.Code, name)
		assert.Contains(t, rec.Body.String(), tc.msg, name)
	}
	assert.Zero(t, delivered)
	for _, r := range []string{"1", "2"} {
		p := valid(r, 1, body)
		p.segment = map[string]string{"1": "0:1/2", "2": "1/2:1"}[r]
		assert.Equal(t, http.StatusNoContent, p.send(s).Code)
	}
	streams := s.Done("s1")
	require.Len(t, streams, 2)
	assert.Equal(t, []string{"1", "2"}, []string{streams[0].Runner, streams[1].Runner})
	assert.Equal(t, 2, delivered)
}

// A batch of more than MaxBatchRecords records is refused whole, whether
// its records are real or empty lines; so is a batch that would take its
// runner beyond the step's MaxRecords. Nothing of a refused batch is kept,
// and its number is not used up.
func TestServerBoundsTheRecords(t *testing.T) {
	t.Parallel()
	s := New(key)
	s.Expect("s1", Expectation{})
	many := make([]measure.Second, MaxBatchRecords+1)
	for i := range many {
		many[i] = measure.Second{StartUnix: int64(100 + i)}
	}
	rec := valid("0", 1, batchBody(t, time.Time{}, many...)).send(s)
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	assert.Equal(t, "more than 10000 records in a batch\n", rec.Body.String())
	header := batchBody(t, time.Time{})
	rec = valid("0", 1, append(header, bytes.Repeat([]byte("\n"), MaxBatchRecords+2)...)).send(s)
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code, "counted before it is parsed")
	assert.Equal(t, http.StatusNoContent, valid("0", 1, batchBody(t, time.Time{}, many[:MaxBatchRecords]...)).send(s).Code,
		"exactly MaxBatchRecords")
	assert.Len(t, s.Done("s1"), 1)

	delivered := 0
	s.Expect("s1", Expectation{MaxRecords: 5, OnSecond: func(string, measure.Second) { delivered++ }})
	three := func(runner string, n int, from int64) post {
		return valid(runner, n, batchBody(t, time.Time{}, second(from), second(from+1), second(from+2)))
	}
	assert.Equal(t, http.StatusNoContent, three("0", 1, 100).send(s).Code)
	rec = three("0", 2, 103).send(s)
	assert.Equal(t, http.StatusConflict, rec.Code)
	assert.Equal(t, "runner \"0\" would send more than 5 records for the step\n", rec.Body.String())
	assert.Equal(t, http.StatusNoContent, three("0", 1, 100).send(s).Code, "a batch sent again is no more records")
	two := valid("0", 2, batchBody(t, time.Time{}, second(103), second(104)))
	assert.Equal(t, http.StatusNoContent, two.send(s).Code, "batch 2 was not used up")
	assert.Equal(t, http.StatusConflict, valid("0", 3, batchBody(t, time.Time{}, second(105))).send(s).Code)
	six := valid("1", 1, batchBody(t, time.Time{}, second(100), second(101), second(102), second(103), second(104), second(105)))
	assert.Equal(t, http.StatusConflict, six.send(s).Code)
	streams := s.Done("s1")
	require.Len(t, streams, 1, "a runner whose first batch was refused is not one")
	assert.Equal(t, []int64{100, 101, 102, 103, 104}, starts(streams[0].Seconds))
	assert.Equal(t, 5, delivered)

	s.Expect("s1", Expectation{MaxRecords: MaxRecordsPerRunner + 1})
	assert.Equal(t, MaxRecordsPerRunner, s.steps["s1"].maxRecords, "at most MaxRecordsPerRunner")
	s.Expect("s1", Expectation{})
	assert.Equal(t, MaxRecordsPerRunner, s.steps["s1"].maxRecords)
}
