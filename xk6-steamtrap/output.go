package steamtrap

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"go.k6.io/k6/v2/lib"
	"go.k6.io/k6/v2/lib/fsext"
	"go.k6.io/k6/v2/metrics"
	"go.k6.io/k6/v2/output"

	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// FlushInterval is how often the output aggregates the samples k6 handed it
// and writes the seconds that are complete.
const FlushInterval = 250 * time.Millisecond

// LagProbeInterval is how long the scheduling-lag probe asks to sleep, again
// and again; each overrun is one measurement of Second.Lag.
const LagProbeInterval = 10 * time.Millisecond

// completeAfter is how many seconds newer than a second a sample must be for
// that second to count as complete and be written. k6 stamps a sample just
// before queueing it, and queues the vus gauge every second, so one full
// second of margin is plenty; a sample that still comes later is written as
// a late supplement, never lost.
const completeAfter = 2

// maxGapSeconds bounds the empty seconds written to fill a hole in the
// sample times, in case a clock jumps.
const maxGapSeconds = 24 * 3600

// maxPendingLagSeconds bounds how long lag measurements wait for their
// second to be written: lag of a second that is this much older than the
// newest measurement and still has no line is dropped (k6 sent nothing for
// that long).
const maxPendingLagSeconds = 600

// errNoPath is returned for --out steamtrap without a file.
// k6 prefixes it with "could not create the 'steamtrap' output: ".
var errNoPath = errors.New("a file or a collector URL is required: --out " + OutputName + "=PATH or " +
	OutputName + "=https://HOST/v1/steps/STEP/seconds")

// Output is the k6 output "steamtrap": it writes one measure.Second per
// wall-clock second of the run to an NDJSON file (see package measure for
// the format), or POSTs the same lines to a collector when its argument is
// an http:// or https:// URL (see collector). k6 calls AddMetricSamples,
// which only buffers; a PeriodicFlusher aggregates and writes every
// FlushInterval. Between Start and Stop a lagProbe measures the process's
// scheduling lag.
type Output struct {
	output.SampleBuffer

	logger  logrus.FieldLogger
	dest    string         // the file's path, or the collector's URL as shown
	out     io.WriteCloser // the file, or coll
	coll    *collector     // nil for a file
	w       *measure.Writer
	flusher *output.PeriodicFlusher

	probe *lagProbe

	mu     sync.Mutex // serializes flushes with Stop's final write
	agg    *aggregator
	lagBuf []lagSample // the probe's previous buffer, handed back to it
	err    error       // first write error, returned by Stop
}

var _ output.Output = (*Output)(nil)

// New is the output.Constructor registered as OutputName. It creates (or
// truncates) the file now, so a bad path fails before the test starts.
func New(params output.Params) (output.Output, error) {
	return newOutput(params)
}

func newOutput(params output.Params) (*Output, error) {
	arg := params.ConfigArgument
	if arg == "" {
		return nil, errNoPath
	}
	logger := params.Logger
	if logger == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		logger = l
	}
	o := &Output{probe: newLagProbe(), agg: newAggregator()}
	if strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://") {
		cfg, err := collectorConfigFrom(arg, params)
		if err != nil {
			return nil, err
		}
		o.dest = cfg.url.Redacted()
		o.logger = logger.WithFields(logrus.Fields{"output": OutputName, "url": o.dest})
		if cfg.insecure {
			o.logger.Warn("sending to the collector over plain HTTP (" + CollectInsecureEnv + "): " +
				"its token and the records travel in clear")
		}
		o.coll = newCollector(cfg, o.logger, MaxPendingRecords)
		o.out = o.coll
	} else {
		o.dest = arg
		o.logger = logger.WithFields(logrus.Fields{"output": OutputName, "filename": arg})
		fs := params.FS
		if fs == nil {
			fs = fsext.NewOsFs()
		}
		f, err := fs.Create(arg) // its error names the path
		if err != nil {
			return nil, err
		}
		o.out = f
	}
	o.w = measure.NewWriter(o.out)
	if st := params.ScriptOptions.SystemTags; st != nil && (!st.Has(metrics.TagStatus) || !st.Has(metrics.TagErrorCode)) {
		o.logger.Warn("the status or error_code system tag is disabled: " +
			"requests cannot all be classed by status and transport error")
	}
	return o, nil
}

// collectorConfigFrom checks the collector form's URL and reads its token,
// trust, runner identity and deadline from k6's parameters.
func collectorConfigFrom(arg string, params output.Params) (collectorConfig, error) {
	u, err := url.Parse(arg)
	if err != nil || u.Host == "" {
		return collectorConfig{}, fmt.Errorf("collector URL %q: want https://HOST[:PORT]/v1/steps/STEP/seconds", arg)
	}
	cfg := collectorConfig{url: u, token: params.Environment[CollectTokenEnv], timeout: DefaultCollectTimeout}
	var problems []error
	switch {
	case cfg.token == "":
		problems = append(problems, fmt.Errorf("the environment variable %s (the campaign's token) is required with a collector URL", CollectTokenEnv))
	case !validHeaderValue(cfg.token):
		problems = append(problems, fmt.Errorf("%s must be printable ASCII of at most %d bytes", CollectTokenEnv, maxHeaderValue))
	}
	insecure := false
	if v, ok := params.Environment[CollectInsecureEnv]; ok && v != "" {
		if insecure, err = strconv.ParseBool(v); err != nil {
			problems = append(problems, fmt.Errorf("%s: want true or false, got %q", CollectInsecureEnv, v))
		}
	}
	ca := params.Environment[CollectCAEnv]
	switch {
	case u.Scheme == "http" && !insecure:
		problems = append(problems, fmt.Errorf("collector URL %s is plain http: the token and the records would travel in clear; "+
			"use https, or set %s=true to send in clear on a network you trust", u.Redacted(), CollectInsecureEnv))
	case u.Scheme == "http" && ca != "":
		problems = append(problems, fmt.Errorf("%s is for an https collector, and %s is http", CollectCAEnv, u.Redacted()))
	case u.Scheme == "https" && insecure:
		problems = append(problems, fmt.Errorf("%s allows a plain http collector; it never turns off the verification of an https one such as %s: unset it",
			CollectInsecureEnv, u.Redacted()))
	case u.Scheme == "https" && ca != "":
		cfg.roots = x509.NewCertPool()
		if !cfg.roots.AppendCertsFromPEM([]byte(ca)) {
			problems = append(problems, fmt.Errorf("%s: no PEM certificate in it", CollectCAEnv))
		}
	}
	cfg.insecure = u.Scheme == "http" && insecure
	if v, ok := params.Environment[CollectTimeoutEnv]; ok {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			problems = append(problems, fmt.Errorf("%s: want a positive duration such as 30s, got %q", CollectTimeoutEnv, v))
		}
		cfg.timeout = d
	}
	cfg.runner, cfg.segment = runnerIdentity(params.ScriptOptions)
	if !validHeaderValue(cfg.runner) {
		problems = append(problems, fmt.Errorf("the runner's name %q (the instance_id tag) must be printable ASCII of at most %d bytes", cfg.runner, maxHeaderValue))
	}
	return cfg, errors.Join(problems...)
}

// runnerIdentity names this k6 instance to a collector: the instance_id run
// tag (k6-operator's runners have --tag instance_id=N), else the execution
// segment, else hostname-pid; and its execution segment ("" for the whole
// run).
func runnerIdentity(opts lib.Options) (runner, segment string) {
	if opts.ExecutionSegment != nil {
		segment = opts.ExecutionSegment.String()
	}
	if id := opts.RunTags["instance_id"]; id != "" {
		return id, segment
	}
	if segment != "" {
		return segment, segment
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return host + "-" + strconv.Itoa(os.Getpid()), segment
}

// Description implements output.Output.
func (o *Output) Description() string { return fmt.Sprintf("%s (%s)", OutputName, o.dest) }

// Start writes the header and starts the periodic flusher, the lag probe,
// and for a collector its sender.
func (o *Output) Start() error {
	if err := o.w.WriteHeader(measure.NewHeader(time.Now())); err != nil {
		return fmt.Errorf("steamtrap output: write %s: %w", o.dest, err)
	}
	pf, err := output.NewPeriodicFlusher(FlushInterval, o.flush)
	if err != nil {
		return err
	}
	o.flusher = pf
	o.probe.start()
	if o.coll != nil {
		o.coll.start()
	}
	return nil
}

// Stop stops the lag probe and the flusher, which flushes once more, writes
// every second still open, and closes the file or delivers what the
// collector has not received yet (within the collector's deadline, which
// starts now). It returns the first error met while writing, or the
// collector's.
func (o *Output) Stop() error {
	o.probe.stop()
	if o.coll != nil {
		o.coll.beginStop()
	}
	if o.flusher != nil {
		o.flusher.Stop()
	} else {
		o.flush()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.write(o.agg.drain(true))
	return errors.Join(o.err, o.out.Close())
}

// flush aggregates what k6 buffered and writes the complete seconds.
func (o *Output) flush() {
	samples := o.GetBufferedSamples()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.agg.add(samples)
	o.lagBuf = o.probe.swap(o.lagBuf)
	o.agg.addLag(o.lagBuf)
	o.write(o.agg.drain(false))
}

// write writes when the load began, if that is new, then seconds.
func (o *Output) write(seconds []measure.Second) {
	if t, ok := o.agg.newBegan(); ok {
		o.check(o.w.WriteBegan(t))
	}
	for _, s := range seconds {
		o.check(o.w.WriteSecond(s))
	}
}

// check keeps the first write error, logged once.
func (o *Output) check(err error) {
	if err != nil && o.err == nil {
		o.err = fmt.Errorf("steamtrap output: write %s: %w", o.dest, err)
		o.logger.WithError(err).Error("cannot write the per-second measurements")
	}
}

// aggregator turns k6 samples into per-second records. Each sample counts in
// the second of its own timestamp. It is not safe for concurrent use.
type aggregator struct {
	open    map[int64]*measure.Recorder // seconds not written yet
	late    map[int64]*measure.Recorder // seconds written that got more samples
	free    []*measure.Recorder
	newest  int64 // second of the newest sample seen
	written int64 // last second written, when wrote
	first   int64 // first second written, when wrote
	wrote   bool
	vus     int64 // last vus gauge value written, carried into seconds without one
	vusMax  int64 // likewise for vus_max

	// Lag probe measurements (µs) by second, for seconds not written yet.
	// They neither make a second nor complete one: seconds come from k6's
	// samples, and each carries the lag measured in it.
	lag       map[int64][]int64
	lagNewest int64 // second of the newest lag measurement

	// The last recorder used; samples come in runs from the same second.
	cur    *measure.Recorder
	curSec int64

	// What the tags of a request say, by tag set: k6 interns tag sets, so
	// equal tags share a pointer.
	classes map[*metrics.TagSet]requestTags

	// When the load began: the earliest iteration start (or dropped
	// iteration) seen, to the millisecond, and the last one written.
	began, beganWritten time.Time
}

// requestTags is what the tags of a request's samples say about it.
type requestTags struct {
	class measure.Class
	// ok: the request's latency goes into Second.LatencyOK. It is k6's
	// expected_response tag or, without that tag, class.OK.
	ok bool
}

// maxCachedTagSets bounds the class cache (URLs with IDs in them make many
// tag sets).
const maxCachedTagSets = 4096

func newAggregator() *aggregator {
	return &aggregator{
		open:    make(map[int64]*measure.Recorder),
		late:    make(map[int64]*measure.Recorder),
		lag:     make(map[int64][]int64),
		classes: make(map[*metrics.TagSet]requestTags),
		newest:  math.MinInt64,
	}
}

// add counts k6's samples. A request counts in the second it was offered
// (it started: its completion time less its blocked time and duration),
// an iteration in the second it started, whenever either completed; the
// other samples count in the second of their own timestamp. newest, which
// decides when a second is complete, follows the timestamps.
func (a *aggregator) add(containers []metrics.SampleContainer) {
	for _, sc := range containers {
		samples := sc.GetSamples()
		reqBack, iterBack := offsets(samples)
		for i := range samples {
			s := &samples[i]
			sec := s.Time.Unix()
			if sec > a.newest {
				a.newest = sec
			}
			switch s.Metric.Name {
			case metrics.HTTPReqsName: // the one source of request counts
				a.recorder(offeredSecond(s.Time, reqBack)).AddRequest(a.request(s.Tags).class)
			case metrics.HTTPReqDurationName:
				a.recorder(offeredSecond(s.Time, reqBack)).AddLatency(s.Value, a.request(s.Tags).ok)
			case metrics.HTTPReqFailedName:
				a.recorder(offeredSecond(s.Time, reqBack)).AddFailed(s.Value != 0)
			case metrics.IterationsName:
				a.recorder(offeredSecond(s.Time, iterBack)).AddIterations(int64(math.Round(s.Value)))
			case metrics.IterationDurationName:
				// Stamped when the iteration ended; its value is how long
				// it ran (ms).
				began := s.Time
				if d := s.Value; d > 0 && d < float64(maxGapSeconds*1000) {
					began = began.Add(-time.Duration(d * float64(time.Millisecond)))
				}
				a.noteBegan(began)
			case metrics.DroppedIterationsName:
				a.recorder(sec).AddDroppedIterations(int64(math.Round(s.Value)))
				a.noteBegan(s.Time)
			case metrics.VUsName:
				a.recorder(sec).SetVUs(int64(math.Round(s.Value)), s.Time.UnixNano())
			case metrics.VUsMaxName:
				a.recorder(sec).SetVUsMax(int64(math.Round(s.Value)), s.Time.UnixNano())
			}
		}
	}
}

// offsets returns how long before its samples' timestamp (when it ended)
// the request of a container started (http_req_blocked + http_req_duration:
// blocked covers waiting for a connection, dialling and TLS; duration
// sending, waiting and receiving), and how long before it the iteration of
// a container started (iteration_duration). k6 puts each request's samples
// in one container (its Trail), and an iteration's end samples in another.
func offsets(samples []metrics.Sample) (req, iter time.Duration) {
	var blocked, duration float64
	for i := range samples {
		switch samples[i].Metric.Name {
		case metrics.HTTPReqBlockedName:
			blocked = samples[i].Value
		case metrics.HTTPReqDurationName:
			duration = samples[i].Value
		case metrics.IterationDurationName:
			iter = millis(samples[i].Value)
		}
	}
	return millis(blocked + duration), iter
}

// millis converts k6's milliseconds to a duration: 0 when negative, not a
// number or over maxGapSeconds (a clock jump, never a real request).
func millis(ms float64) time.Duration {
	if !(ms > 0) || ms >= float64(maxGapSeconds*1000) {
		return 0
	}
	return time.Duration(ms * float64(time.Millisecond))
}

// offeredSecond is the second in which something that ended at end and
// took back started.
func offeredSecond(end time.Time, back time.Duration) int64 {
	if back == 0 {
		return end.Unix()
	}
	return end.Add(-back).Unix()
}

// noteBegan keeps t if it is the earliest iteration start seen. Iterations
// are the load: setup() and teardown() emit no iteration_duration, and
// the vus gauges come from the scheduler, paused or not.
func (a *aggregator) noteBegan(t time.Time) {
	t = t.UTC().Truncate(time.Millisecond)
	if a.began.IsZero() || t.Before(a.began) {
		a.began = t
	}
}

// newBegan returns when the load began if it is not written yet or is
// earlier than what was written, and counts it as written.
func (a *aggregator) newBegan() (time.Time, bool) {
	if a.began.IsZero() || (!a.beganWritten.IsZero() && !a.began.Before(a.beganWritten)) {
		return time.Time{}, false
	}
	a.beganWritten = a.began
	return a.began, true
}

// addLag adds lag probe measurements. One for a second already written goes
// into a late supplement, unless the second precedes the file's first.
func (a *aggregator) addLag(samples []lagSample) {
	for _, l := range samples {
		a.lagNewest = max(a.lagNewest, l.sec)
		switch {
		case !a.wrote || l.sec > a.written:
			a.lag[l.sec] = append(a.lag[l.sec], l.micros)
		case l.sec >= a.first:
			a.recorder(l.sec).AddLagMicros(l.micros)
		}
	}
}

func (a *aggregator) request(tags *metrics.TagSet) requestTags {
	if r, ok := a.classes[tags]; ok {
		return r
	}
	var status, code, expected string
	var hasExpected bool
	if tags != nil {
		status, _ = tags.Get(metrics.TagStatus.String())
		code, _ = tags.Get(metrics.TagErrorCode.String())
		expected, hasExpected = tags.Get(metrics.TagExpectedResponse.String())
	}
	r := requestTags{class: measure.Classify(status, code)}
	r.ok = r.class.OK
	if hasExpected {
		r.ok = expected == "true"
	}
	if len(a.classes) >= maxCachedTagSets {
		clear(a.classes)
	}
	a.classes[tags] = r
	return r
}

func (a *aggregator) recorder(sec int64) *measure.Recorder {
	if a.cur != nil && a.curSec == sec {
		return a.cur
	}
	m := a.open
	if a.wrote && sec <= a.written {
		m = a.late
	}
	r, ok := m[sec]
	if !ok {
		r = a.newRecorder(sec)
		m[sec] = r
	}
	a.cur, a.curSec = r, sec
	return r
}

// newRecorder returns an empty recorder for sec, reusing a free one.
func (a *aggregator) newRecorder(sec int64) *measure.Recorder {
	if n := len(a.free); n > 0 {
		r := a.free[n-1]
		a.free = a.free[:n-1]
		r.Reset(sec)
		return r
	}
	return measure.NewRecorder(sec)
}

// second returns the record of r, which holds the samples of sec: with the
// lag measured in sec and the gauges carried over when r has none. It frees
// r.
func (a *aggregator) second(sec int64, r *measure.Recorder) measure.Second {
	for _, us := range a.lag[sec] {
		r.AddLagMicros(us)
	}
	delete(a.lag, sec)
	s := r.Second()
	if v, ok := r.VUs(); ok {
		a.vus = v
	} else {
		s.VUs = a.vus
	}
	if v, ok := r.VUsMax(); ok {
		a.vusMax = v
	} else {
		s.VUsMax = a.vusMax
	}
	a.free = append(a.free, r)
	return s
}

// drain returns the seconds ready to write, in order and without gaps, then
// the late supplements: with final, every second; otherwise those at least
// completeAfter seconds older than the newest sample.
func (a *aggregator) drain(final bool) []measure.Second {
	a.cur = nil
	var ready []int64
	for sec := range a.open {
		if final || sec+completeAfter <= a.newest {
			ready = append(ready, sec)
		}
	}
	slices.Sort(ready)
	out := make([]measure.Second, 0, len(ready)+len(a.late))
	for _, sec := range ready {
		if a.wrote && sec-a.written > 1 && sec-a.written <= maxGapSeconds {
			for gap := a.written + 1; gap < sec; gap++ {
				out = append(out, a.empty(gap))
			}
		}
		r := a.open[sec]
		delete(a.open, sec)
		out = append(out, a.second(sec, r))
		if !a.wrote {
			a.first = sec
		}
		a.written, a.wrote = sec, true
	}
	// Seconds in which nothing at all was recorded (a hung target) are
	// complete too: write them now, not when the next request completes.
	// (Every open second up to there was ready, so none is skipped.)
	if !final && a.wrote {
		last := min(a.newest-completeAfter, a.written+maxGapSeconds)
		for sec := a.written + 1; sec <= last; sec++ {
			out = append(out, a.empty(sec))
		}
		a.written = max(a.written, last)
	}
	// Lag measured in a second that has no line (before the first, after
	// the last, in a gap too long to fill) has nowhere to go.
	for sec := range a.lag {
		if final || (a.wrote && sec <= a.written) || sec < a.lagNewest-maxPendingLagSeconds {
			delete(a.lag, sec)
		}
	}
	if len(a.late) > 0 {
		late := make([]int64, 0, len(a.late))
		for sec := range a.late {
			late = append(late, sec)
		}
		slices.Sort(late)
		for _, sec := range late {
			r := a.late[sec]
			delete(a.late, sec)
			s := r.Second()
			s.Late = true
			out = append(out, s)
			a.free = append(a.free, r)
		}
	}
	return out
}

// empty is the record of a second in which k6 emitted nothing: zeros, the
// gauges carried over, and the lag measured in it.
func (a *aggregator) empty(sec int64) measure.Second {
	return a.second(sec, a.newRecorder(sec))
}

// lagProbe measures the scheduling lag of the process: it sleeps interval
// again and again and records by how much each sleep overran. A process
// starved of CPU (too few cores, CPU throttling, a GC storm) wakes the probe
// late. now and sleep are fields so that tests can drive them.
type lagProbe struct {
	interval time.Duration
	now      func() time.Time
	sleep    func(time.Duration)

	mu      sync.Mutex // guards samples, shared with the flusher
	samples []lagSample

	quit chan struct{} // closed by stop; nil when not running
	done chan struct{} // closed when run returns
}

// lagSample is one probe measurement: the overrun in µs (at least 0) and the
// unix second in which the probe woke up.
type lagSample struct{ sec, micros int64 }

func newLagProbe() *lagProbe {
	return &lagProbe{interval: LagProbeInterval, now: time.Now, sleep: time.Sleep}
}

// start starts the probe's goroutine.
func (p *lagProbe) start() {
	p.quit, p.done = make(chan struct{}), make(chan struct{})
	go p.run(p.quit, p.done)
}

// stop stops the goroutine started by start and waits for it (at most one
// interval, unless the process is starved); without start it does nothing.
func (p *lagProbe) stop() {
	if p.quit == nil {
		return
	}
	close(p.quit)
	<-p.done
	p.quit = nil
}

func (p *lagProbe) run(quit <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-quit:
			return
		default:
		}
		p.step()
	}
}

// step sleeps once and records the overrun, in the second the probe woke
// up. An overrun longer than the interval is corrected for coordinated
// omission, as HdrHistogram's RecordCorrectedValue corrects it: the stall
// swallowed the wake-ups due meanwhile, each one interval less late, and
// those are recorded too, each in the second it was due (up to
// maxPendingLagSeconds back). A percentile of the lag is then the lag of a
// timer due at a random moment, which is what an arrival k6 schedules sees,
// and one long stall weighs by its length: a 500 ms stall in a 4 s window
// is 50 of some 450 measurements, not 1 of 400 that a p99 never shows,
// while every request in flight or due during it was timed 500 ms slow.
// The time slept is measured on the monotonic clock (time.Now's reading,
// as time.Since), the seconds on the wall clock.
func (p *lagProbe) step() {
	start := p.now()
	p.sleep(p.interval)
	end := p.now()
	over := max(end.Sub(start)-p.interval, 0)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.samples = append(p.samples, lagSample{sec: end.Unix(), micros: micros(over)})
	late := over - p.interval
	if limit := time.Duration(maxPendingLagSeconds) * time.Second; late > limit {
		late -= (late - limit + p.interval - 1) / p.interval * p.interval
	}
	for ; late > 0; late -= p.interval {
		p.samples = append(p.samples, lagSample{sec: end.Add(-late).Unix(), micros: micros(late)})
	}
}

// micros rounds d to whole microseconds.
func micros(d time.Duration) int64 { return int64((d + time.Microsecond/2) / time.Microsecond) }

// swap returns the measurements taken since the last swap and keeps spare's
// memory for the next ones.
func (p *lagProbe) swap(spare []lagSample) []lagSample {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.samples
	p.samples = spare[:0]
	return s
}
