package collect

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// FuzzCollect sends the handler arbitrary bodies and headers: it must never
// panic, answer every unauthenticated request 401 and keep nothing of it,
// and keep every record of a batch it accepts.
func FuzzCollect(f *testing.F) {
	good := batchBody(f, created.Add(time.Second), second(100, 1, 2, 3), second(101))
	late := second(100, 5)
	late.Late = true
	withLate := batchBody(f, time.Time{}, second(102, 4000), late)
	lines := strings.SplitAfter(string(good), "\n")
	authS1 := bearer("s1")
	ct := measure.ContentType
	for _, seed := range []struct {
		body                                            []byte
		auth, runner, segment, batch, contentType, step string
	}{
		{good, authS1, "0", "", "1", ct, "s1"},
		{withLate, authS1, "2", "1/2:1", "7", ct + "; charset=utf-8", "s1"},
		{good, "Bearer wrong", "0", "", "1", ct, "s1"},
		{good, "", "0", "", "1", ct, "s1"},
		{good, authS1, "0", "", "1", ct, "s2"},
		{good, authS1, "0", "", "-1", ct, "s1"},
		{good, authS1, "", "", "1", ct, "s1"},
		{good, authS1, "0", "", "1", "text/plain", "s1"},
		{[]byte(lines[0]), authS1, "0", "", "1", ct, "s1"},
		{[]byte(lines[0] + `{"began_at":"2026-03-04T05:06:07Z"}`), authS1, "0", "", "1", ct, "s1"},
		{[]byte(lines[0] + `{"start":100,"hist":"HISTFAAAACR4nJNpmSzMwMDAywABzFCaEUwz2X+AMIHkBW2CAQAz+QJV"}` + "\n"), authS1, "0", "", "1", ct, "s1"},
		{[]byte(lines[0] + lines[1][:len(lines[1])/2]), authS1, "0", "", "1", ct, "s1"},
		{[]byte("{}\n{}\n"), authS1, "0", "", "1", ct, "s1"},
		{[]byte("\x00\xff\n"), authS1, "0", "", "1", ct, "s1"},
	} {
		f.Add(seed.body, seed.auth, seed.runner, seed.segment, seed.batch, seed.contentType, seed.step)
	}
	f.Fuzz(func(t *testing.T, body []byte, auth, runner, segment, batch, contentType, step string) {
		s := New(key)
		delivered := 0
		s.Expect("s1", Expectation{OnSecond: func(string, measure.Second) { delivered++ }})
		req := &http.Request{
			Method:        http.MethodPost,
			URL:           &url.URL{Path: "/v1/steps/" + step + "/seconds"},
			Header:        http.Header{},
			Body:          io.NopCloser(bytes.NewReader(body)),
			ContentLength: int64(len(body)),
		}
		for k, v := range map[string]string{
			"Authorization": auth, "Content-Type": contentType,
			measure.HeaderRunner: runner, measure.HeaderSegment: segment, measure.HeaderBatch: batch,
		} {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		streams := s.Done("s1")

		// The only token the fuzzer can know is step s1's (the seeds').
		authenticated := len(auth) >= 7 && strings.EqualFold(auth[:7], "Bearer ") && auth[7:] == s.StepToken("s1")
		// Unauthenticated, a request gets 401, or the mux's 404 or redirect
		// for a path that is not a step's; nothing that looked further.
		pastAuth := rec.Code < 300 || rec.Code == http.StatusNotFound && strings.Contains(rec.Body.String(), "step") ||
			rec.Code >= 400 && rec.Code != http.StatusUnauthorized && rec.Code != http.StatusNotFound
		if !authenticated && pastAuth {
			t.Fatalf("unauthenticated request answered %d: %s", rec.Code, rec.Body)
		}
		accepted := rec.Code >= 200 && rec.Code < 300
		if !accepted {
			if len(streams) != 0 || delivered != 0 {
				t.Fatalf("answered %d but kept %d streams, delivered %d records", rec.Code, len(streams), delivered)
			}
			return
		}
		if len(streams) != 1 || streams[0].Runner != runner || streams[0].Batches != 1 {
			t.Fatalf("accepted, but the streams are %+v", streams)
		}
		if len(streams[0].Seconds) != delivered {
			t.Fatalf("kept %d records, delivered %d", len(streams[0].Seconds), delivered)
		}
		for _, sec := range streams[0].Seconds {
			_ = measure.Merge(sec) // what the driver does next must not panic either
			_ = measure.FoldLate([]measure.Second{sec, sec})
		}
	})
}
