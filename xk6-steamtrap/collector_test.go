package steamtrap

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.k6.io/k6/v2/lib"
	"go.k6.io/k6/v2/metrics"
	"go.k6.io/k6/v2/output"

	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

const testToken = "tok-3f9a-very-secret"

// fakeCollector records the batches it accepts, once per (runner, batch
// number), as a collector does. answer decides each request's fate, by
// its order of arrival from 1: a status, and whether the batch is taken
// anyway (its answer lost on the way back).
type fakeCollector struct {
	t      *testing.T
	answer func(n int) (status int, take bool)
	delay  time.Duration
	block  chan struct{} // when not nil, every request waits for it to close

	mu       sync.Mutex
	requests int
	bodies   map[string][]byte // by runner and batch number: the first body
	resent   int               // requests for a batch number already taken
	seconds  []measure.Second
	began    time.Time
	headers  []http.Header
}

// newFakeCollector serves a fakeCollector over TLS, as loadgen's collector
// does (caPEM(srv) is the CA to trust).
func newFakeCollector(t *testing.T) (*fakeCollector, *httptest.Server) {
	c := &fakeCollector{t: t, bodies: map[string][]byte{}}
	srv := httptest.NewUnstartedServer(c)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes refused on purpose
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return c, srv
}

// caPEM is the PEM certificate of srv, the CA that its certificate chains
// to (httptest's is self-signed).
func caPEM(srv *httptest.Server) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
}

// otherCA is the PEM certificate of a CA that signed nothing srv has.
func otherCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "another campaign's CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func (c *fakeCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if !assert.NoError(c.t, err) {
		return
	}
	if c.block != nil {
		<-c.block
	}
	time.Sleep(c.delay)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	c.headers = append(c.headers, r.Header.Clone())
	status, take := http.StatusNoContent, true
	if c.answer != nil {
		status, take = c.answer(c.requests)
	}
	key := r.Header.Get(measure.HeaderRunner) + "#" + r.Header.Get(measure.HeaderBatch)
	if first, ok := c.bodies[key]; ok {
		c.resent++
		assert.Equal(c.t, string(first), string(body), "batch %s sent again with other lines", key)
	} else if take {
		c.bodies[key] = body
		h, secs, err := measure.ReadAll(bytes.NewReader(body), key)
		assert.NoError(c.t, err)
		assert.Equal(c.t, measure.Schema, h.Schema)
		c.seconds = append(c.seconds, secs...)
		if !h.BeganAt.IsZero() && (c.began.IsZero() || h.BeganAt.Before(c.began)) {
			c.began = h.BeganAt
		}
	}
	w.WriteHeader(status)
}

func (c *fakeCollector) got() []measure.Second {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]measure.Second(nil), c.seconds...)
}

// newCollectorOutput returns the collector form of the output to srv's
// step s1, quick to send and to retry, trusting srv's CA unless env says
// otherwise.
func newCollectorOutput(t *testing.T, srv *httptest.Server, env map[string]string, logger logrus.FieldLogger) *Output {
	t.Helper()
	if env == nil {
		env = map[string]string{CollectTokenEnv: testToken}
	}
	if _, ok := env[CollectCAEnv]; !ok && srv.TLS != nil {
		env[CollectCAEnv] = caPEM(srv)
	}
	o, err := newOutput(output.Params{
		OutputType: OutputName, ConfigArgument: srv.URL + "/v1/steps/s1/seconds", Environment: env, Logger: logger,
		ScriptOptions: lib.Options{RunTags: map[string]string{"instance_id": "3"}},
	})
	require.NoError(t, err)
	require.NotNil(t, o.coll)
	o.coll.interval = 5 * time.Millisecond
	o.coll.backoff = func(int) time.Duration { return time.Millisecond }
	return o
}

// feed adds the k6 samples of seconds [from, to), each with req requests
// (the first a 503) and an iteration per request.
func feed(o *Output, k *k6sim, from, to int64, req int) {
	for sec := from; sec < to; sec++ {
		batch := []metrics.SampleContainer{k.vus(at(sec, 0), 1)}
		for i := range req {
			status, code := 200, 0
			if i == 0 {
				status, code = 503, 1503
			}
			batch = append(batch, k.request(at(sec, 10+i), status, code, float64(1+i)),
				k.single(k.bm.Iterations, at(sec, 10+i), 1), k.single(k.bm.IterationDuration, at(sec, 10+i), 2))
		}
		o.AddMetricSamples(batch)
	}
}

// startByHand starts o without its periodic flusher: the test flushes.
func startByHand(t *testing.T, o *Output) {
	t.Helper()
	require.NoError(t, o.w.WriteHeader(measure.NewHeader(at(0, 0))))
	o.coll.start()
}

// requireEverySecondOnce checks that the collector got seconds 0..n-1,
// each once and in order, with all their requests.
func requireEverySecondOnce(t *testing.T, got []measure.Second, n, req int) {
	t.Helper()
	got = measure.FoldLate(got)
	require.Equal(t, n, len(got), "seconds delivered")
	for i, s := range got {
		assert.Equal(t, int64(base+i), s.StartUnix)
		assert.Equal(t, int64(req), s.Requests, "second %d", i)
		assert.Equal(t, map[string]int64{"200": int64(req - 1), "503": 1}, s.Classes, "second %d", i)
		assert.Equal(t, int64(req), s.Latency.Count(), "second %d", i)
	}
}

func TestCollectorDeliversEverythingToASlowCollector(t *testing.T) {
	t.Parallel()
	fc, srv := newFakeCollector(t)
	fc.delay = 30 * time.Millisecond
	k := newK6Sim()
	o := newCollectorOutput(t, srv, nil, nil)
	require.NoError(t, o.Start())
	const n, req = 40, 5
	for from := int64(0); from < n; from += 10 {
		feed(o, k, from, from+10, req)
		time.Sleep(FlushInterval + 50*time.Millisecond)
	}
	require.NoError(t, o.Stop())

	requireEverySecondOnce(t, fc.got(), n, req)
	assert.Equal(t, at(0, 8).UTC(), fc.began, "began_at: the first iteration's end less its 2 ms")
	fc.mu.Lock()
	defer fc.mu.Unlock()
	assert.Zero(t, fc.resent)
	require.NotEmpty(t, fc.headers)
	for i, h := range fc.headers {
		assert.Equal(t, "Bearer "+testToken, h.Get("Authorization"))
		assert.Equal(t, measure.ContentType, h.Get("Content-Type"))
		assert.Equal(t, "3", h.Get(measure.HeaderRunner), "the instance_id tag")
		assert.Equal(t, "", h.Get(measure.HeaderSegment))
		assert.Equal(t, strconv.Itoa(i+1), h.Get(measure.HeaderBatch), "batches numbered from 1, in order")
	}
}

func TestCollectorRetriesWithoutDuplicates(t *testing.T) {
	t.Parallel()
	fc, srv := newFakeCollector(t)
	fc.answer = func(n int) (int, bool) {
		switch n {
		case 1, 2, 3:
			return http.StatusServiceUnavailable, false
		case 4:
			return http.StatusTooManyRequests, false
		case 5, 7:
			return http.StatusBadGateway, true // taken, but the answer is lost
		}
		return http.StatusOK, true
	}
	k := newK6Sim()
	logger, hook := logtest.NewNullLogger()
	o := newCollectorOutput(t, srv, nil, logger)
	startByHand(t, o)
	const n, req = 12, 3
	for sec := range int64(n) {
		feed(o, k, sec, sec+1, req)
		o.flush()
		time.Sleep(10 * time.Millisecond) // about a batch per second
	}
	require.NoError(t, o.Stop())

	requireEverySecondOnce(t, fc.got(), n, req)
	fc.mu.Lock()
	assert.Equal(t, 2, fc.resent, "the two batches whose answer was lost were sent again")
	fc.mu.Unlock()
	for _, e := range hook.AllEntries() {
		assert.NotEqual(t, logrus.ErrorLevel, e.Level, e.Message)
		s, err := e.String()
		require.NoError(t, err)
		assert.NotContains(t, s, testToken)
	}
	assert.NotEmpty(t, hook.AllEntries(), "the failures were logged (as warnings)")
}

func TestCollectorRefusalFailsStopAndLogsOnce(t *testing.T) {
	t.Parallel()
	fc, srv := newFakeCollector(t)
	fc.answer = func(int) (int, bool) { return http.StatusUnauthorized, false }
	k := newK6Sim()
	logger, hook := logtest.NewNullLogger()
	o := newCollectorOutput(t, srv, nil, logger)
	o.coll.queue = make(chan []byte, 3)
	startByHand(t, o)
	feed(o, k, 0, 10, 2)
	o.flush()
	time.Sleep(50 * time.Millisecond) // a batch is refused
	feed(o, k, 10, 30, 2)
	o.flush() // and does not wait on a collector that refused
	err := o.Stop()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "31 of 31 lines not delivered")
	assert.Contains(t, err.Error(), "401 Unauthorized")
	assert.Contains(t, err.Error(), "lines not delivered to "+srv.URL+"/v1/steps/s1/seconds")
	assert.NotContains(t, err.Error(), testToken)

	var errorsLogged int
	for _, e := range hook.AllEntries() {
		if e.Level == logrus.ErrorLevel {
			errorsLogged++
		}
		s, err := e.String()
		require.NoError(t, err)
		assert.NotContains(t, s, testToken)
	}
	assert.Equal(t, 1, errorsLogged)
	fc.mu.Lock()
	assert.Equal(t, 1, fc.requests, "a refused batch is not retried")
	fc.mu.Unlock()
	assert.Empty(t, fc.got())
}

func TestCollectorBackPressureLosesNothing(t *testing.T) {
	t.Parallel()
	fc, srv := newFakeCollector(t)
	fc.block = make(chan struct{})
	k := newK6Sim()
	o := newCollectorOutput(t, srv, nil, nil)
	o.coll.queue = make(chan []byte, 3)
	startByHand(t, o)
	const n, req = 20, 2
	feed(o, k, 0, n, req)
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		o.flush()
	}()
	// 19 lines (18 complete seconds and began_at): at most 3 in the batch
	// the collector holds and 3 in the queue; the flush waits.
	require.Eventually(t, func() bool { return len(o.coll.queue) == 3 }, 30*time.Second, time.Millisecond)
	select {
	case <-flushed:
		t.Fatal("the flush returned while the collector held the first batch and the queue was full")
	case <-time.After(100 * time.Millisecond):
	}
	assert.Len(t, o.coll.queue, 3, "the queue is full")
	close(fc.block) // the collector catches up
	select {
	case <-flushed:
	case <-time.After(30 * time.Second):
		t.Fatal("the flush is still waiting")
	}
	require.NoError(t, o.Stop())
	requireEverySecondOnce(t, fc.got(), n, req)
}

func TestCollectorStopGivesUpAtTheDeadline(t *testing.T) {
	t.Parallel()
	fc, srv := newFakeCollector(t)
	fc.answer = func(int) (int, bool) { return http.StatusServiceUnavailable, false }
	k := newK6Sim()
	o := newCollectorOutput(t, srv, map[string]string{CollectTokenEnv: testToken, CollectTimeoutEnv: "300ms"}, nil)
	require.NoError(t, o.Start())
	feed(o, k, 0, 5, 2)
	err := o.Stop()
	require.ErrorIs(t, err, errDeadline)
	assert.Contains(t, err.Error(), "6 of 6 lines not delivered", "5 seconds and a began_at line")
	assert.Contains(t, err.Error(), "503 Service Unavailable")
}

func TestCollectorSendsTheHeaderOfAnEmptyRun(t *testing.T) {
	t.Parallel()
	fc, srv := newFakeCollector(t)
	o := newCollectorOutput(t, srv, nil, nil)
	require.NoError(t, o.Start())
	require.NoError(t, o.Stop())
	fc.mu.Lock()
	defer fc.mu.Unlock()
	require.Len(t, fc.bodies, 1)
	body := fc.bodies["3#1"]
	lines := bufio.NewScanner(bytes.NewReader(body))
	require.True(t, lines.Scan())
	assert.True(t, strings.HasPrefix(lines.Text(), `{"schema":"steamtrap/seconds/v1"`))
	assert.False(t, lines.Scan(), "nothing but the header")
}

func TestCollectorConfig(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		arg  string
		env  map[string]string
		want string
	}{
		"no token":    {"https://127.0.0.1:1/v1/steps/s/seconds", nil, "the environment variable STEAMTRAP_COLLECT_TOKEN (the campaign's token) is required with a collector URL"},
		"bad token":   {"https://127.0.0.1:1/x", map[string]string{CollectTokenEnv: "a\nb"}, "STEAMTRAP_COLLECT_TOKEN must be printable ASCII of at most 200 bytes"},
		"bad timeout": {"https://c.example/x", map[string]string{CollectTokenEnv: "t", CollectTimeoutEnv: "30"}, `STEAMTRAP_COLLECT_TIMEOUT: want a positive duration such as 30s, got "30"`},
		"no host":     {"https:///v1/steps/s/seconds", map[string]string{CollectTokenEnv: "t"}, `collector URL "https:///v1/steps/s/seconds": want https://HOST[:PORT]/v1/steps/STEP/seconds`},
		"plain http": {"http://u:pw@127.0.0.1:1/x", map[string]string{CollectTokenEnv: "t"},
			"collector URL http://u:xxxxx@127.0.0.1:1/x is plain http: the token and the records would travel in clear; use https, or set STEAMTRAP_COLLECT_INSECURE=true to send in clear on a network you trust"},
		"plain http, not allowed": {"http://127.0.0.1:1/x", map[string]string{CollectTokenEnv: "t", CollectInsecureEnv: "false"}, "is plain http"},
		"insecure, not a bool":    {"http://127.0.0.1:1/x", map[string]string{CollectTokenEnv: "t", CollectInsecureEnv: "yes"}, `STEAMTRAP_COLLECT_INSECURE: want true or false, got "yes"`},
		"a CA for http": {"http://127.0.0.1:1/x", map[string]string{CollectTokenEnv: "t", CollectInsecureEnv: "true", CollectCAEnv: "x"},
			"STEAMTRAP_COLLECT_CA is for an https collector, and http://127.0.0.1:1/x is http"},
		"insecure https": {"https://c.example/x", map[string]string{CollectTokenEnv: "t", CollectInsecureEnv: "1"},
			"STEAMTRAP_COLLECT_INSECURE allows a plain http collector; it never turns off the verification of an https one such as https://c.example/x: unset it"},
		"not a CA": {"https://c.example/x", map[string]string{CollectTokenEnv: "t", CollectCAEnv: "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"},
			"STEAMTRAP_COLLECT_CA: no PEM certificate in it"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := New(output.Params{OutputType: OutputName, ConfigArgument: tc.arg, Environment: tc.env})
			require.ErrorContains(t, err, tc.want)
		})
	}

	o, err := New(output.Params{OutputType: OutputName, ConfigArgument: "https://u:pw@c.example/v1/steps/s/seconds",
		Environment: map[string]string{CollectTokenEnv: testToken, CollectTimeoutEnv: "90s"}})
	require.NoError(t, err)
	assert.Equal(t, "steamtrap (https://u:xxxxx@c.example/v1/steps/s/seconds)", o.Description())
	assert.Equal(t, 90*time.Second, o.(*Output).coll.cfg.timeout)
	assert.Nil(t, o.(*Output).coll.cfg.roots, "no CA given: the system's roots")
	assert.False(t, o.(*Output).coll.cfg.insecure)
}

// The collector's certificate must chain to the CA given: against a
// collector whose certificate does not (another campaign's CA, or the
// system's roots), the output gives up at once, sends no token, and says
// why.
func TestCollectorRefusesACollectorItCannotVerify(t *testing.T) {
	t.Parallel()
	for name, env := range map[string]map[string]string{
		"another CA":       {CollectTokenEnv: testToken, CollectCAEnv: otherCA(t)},
		"the system roots": {CollectTokenEnv: testToken, CollectCAEnv: ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fc, srv := newFakeCollector(t)
			k := newK6Sim()
			o := newCollectorOutput(t, srv, env, nil)
			o.coll.backoff = func(int) time.Duration { return time.Hour } // no retry could end in time
			require.NoError(t, o.Start())
			feed(o, k, 0, 3, 2)
			start := time.Now()
			err := o.Stop()
			require.Error(t, err)
			assert.Less(t, time.Since(start), 10*time.Second, "given up at once, not at the deadline")
			assert.Contains(t, err.Error(), "the collector's certificate is not one to trust")
			assert.Contains(t, err.Error(), "certificate signed by unknown authority")
			assert.NotContains(t, err.Error(), testToken)
			fc.mu.Lock()
			defer fc.mu.Unlock()
			assert.Zero(t, fc.requests, "no request reached the collector")
		})
	}
}

// A plain http collector is refused unless STEAMTRAP_COLLECT_INSECURE
// allows it; then the output sends in clear and says so.
func TestCollectorOverPlainHTTPOnlyWhenAllowed(t *testing.T) {
	t.Parallel()
	fc := &fakeCollector{t: t, bodies: map[string][]byte{}}
	srv := httptest.NewServer(fc)
	defer srv.Close()
	_, err := newOutput(output.Params{OutputType: OutputName, ConfigArgument: srv.URL + "/v1/steps/s1/seconds",
		Environment: map[string]string{CollectTokenEnv: testToken}})
	require.ErrorContains(t, err, "is plain http")

	logger, hook := logtest.NewNullLogger()
	o := newCollectorOutput(t, srv, map[string]string{CollectTokenEnv: testToken, CollectInsecureEnv: "true"}, logger)
	require.True(t, o.coll.cfg.insecure)
	k := newK6Sim()
	require.NoError(t, o.Start())
	feed(o, k, 0, 3, 2)
	require.NoError(t, o.Stop())
	requireEverySecondOnce(t, fc.got(), 3, 2)
	var warned bool
	for _, e := range hook.AllEntries() {
		warned = warned || e.Level == logrus.WarnLevel && strings.Contains(e.Message, "travel in clear")
	}
	assert.True(t, warned, "the output warns that it sends in clear")
}

// A collector's redirect is not followed (it could take the token to
// another host, or to http://): the batch is refused.
func TestCollectorDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	elsewhere, elsewhereSrv := newFakeCollector(t)
	redirect := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhereSrv.URL+r.URL.Path, http.StatusPermanentRedirect)
	}))
	defer redirect.Close()
	o := newCollectorOutput(t, redirect, nil, nil)
	require.NoError(t, o.Start())
	feed(o, newK6Sim(), 0, 2, 1)
	err := o.Stop()
	require.ErrorContains(t, err, "collector answered 308 Permanent Redirect")
	elsewhere.mu.Lock()
	defer elsewhere.mu.Unlock()
	assert.Zero(t, elsewhere.requests)
}

func TestRunnerIdentity(t *testing.T) {
	t.Parallel()
	seg, err := lib.NewExecutionSegmentFromString("1/4:2/4")
	require.NoError(t, err)
	runner, segment := runnerIdentity(lib.Options{RunTags: map[string]string{"instance_id": "2"}, ExecutionSegment: seg})
	assert.Equal(t, []string{"2", "1/4:1/2"}, []string{runner, segment})
	runner, segment = runnerIdentity(lib.Options{ExecutionSegment: seg})
	assert.Equal(t, []string{"1/4:1/2", "1/4:1/2"}, []string{runner, segment})
	runner, segment = runnerIdentity(lib.Options{RunTags: map[string]string{"env": "staging"}})
	assert.Regexp(t, `^.+-[0-9]+$`, runner, "hostname-pid")
	assert.Equal(t, "", segment)
}
