package steamtrap

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
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
var errNoPath = errors.New("a file is required: --out " + OutputName + "=PATH")

// Output is the k6 output "steamtrap": it writes one measure.Second per
// wall-clock second of the run to an NDJSON file (see package measure for
// the format). k6 calls AddMetricSamples, which only buffers; a
// PeriodicFlusher aggregates and writes every FlushInterval. Between Start
// and Stop a lagProbe measures the process's scheduling lag.
type Output struct {
	output.SampleBuffer

	logger  logrus.FieldLogger
	path    string
	file    io.WriteCloser
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
	path := params.ConfigArgument
	if path == "" {
		return nil, errNoPath
	}
	logger := params.Logger
	if logger == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		logger = l
	}
	logger = logger.WithFields(logrus.Fields{"output": OutputName, "filename": path})
	if st := params.ScriptOptions.SystemTags; st != nil && (!st.Has(metrics.TagStatus) || !st.Has(metrics.TagErrorCode)) {
		logger.Warn("the status or error_code system tag is disabled: " +
			"requests cannot all be classed by status and transport error")
	}
	fs := params.FS
	if fs == nil {
		fs = fsext.NewOsFs()
	}
	f, err := fs.Create(path) // its error names the path
	if err != nil {
		return nil, err
	}
	return &Output{
		logger: logger,
		path:   path,
		file:   f,
		w:      measure.NewWriter(f),
		probe:  newLagProbe(),
		agg:    newAggregator(),
	}, nil
}

// Description implements output.Output.
func (o *Output) Description() string { return fmt.Sprintf("%s (%s)", OutputName, o.path) }

// Start writes the header and starts the periodic flusher and the lag
// probe.
func (o *Output) Start() error {
	if err := o.w.WriteHeader(measure.NewHeader(time.Now())); err != nil {
		return fmt.Errorf("steamtrap output: write %s: %w", o.path, err)
	}
	pf, err := output.NewPeriodicFlusher(FlushInterval, o.flush)
	if err != nil {
		return err
	}
	o.flusher = pf
	o.probe.start()
	return nil
}

// Stop stops the lag probe and the flusher, which flushes once more, writes
// every second still open, and closes the file. It returns the first error
// met while writing.
func (o *Output) Stop() error {
	o.probe.stop()
	if o.flusher != nil {
		o.flusher.Stop()
	} else {
		o.flush()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.write(o.agg.drain(true))
	return errors.Join(o.err, o.file.Close())
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

func (o *Output) write(seconds []measure.Second) {
	for _, s := range seconds {
		if err := o.w.WriteSecond(s); err != nil && o.err == nil {
			o.err = fmt.Errorf("steamtrap output: write %s: %w", o.path, err)
			o.logger.WithError(err).Error("cannot write the per-second measurements")
		}
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

func (a *aggregator) add(containers []metrics.SampleContainer) {
	for _, sc := range containers {
		samples := sc.GetSamples()
		for i := range samples {
			s := &samples[i]
			sec := s.Time.Unix()
			if sec > a.newest {
				a.newest = sec
			}
			switch s.Metric.Name {
			case metrics.HTTPReqsName: // the one source of request counts
				a.recorder(sec).AddRequest(a.request(s.Tags).class)
			case metrics.HTTPReqDurationName:
				a.recorder(sec).AddLatency(s.Value, a.request(s.Tags).ok)
			case metrics.HTTPReqFailedName:
				a.recorder(sec).AddFailed(s.Value != 0)
			case metrics.IterationsName:
				a.recorder(sec).AddIterations(int64(math.Round(s.Value)))
			case metrics.DroppedIterationsName:
				a.recorder(sec).AddDroppedIterations(int64(math.Round(s.Value)))
			case metrics.VUsName:
				a.recorder(sec).SetVUs(int64(math.Round(s.Value)), s.Time.UnixNano())
			case metrics.VUsMaxName:
				a.recorder(sec).SetVUsMax(int64(math.Round(s.Value)), s.Time.UnixNano())
			}
		}
	}
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

// step sleeps once and records the overrun. The time slept is measured on
// the monotonic clock (time.Now's reading, as time.Since), the second it
// belongs to on the wall clock.
func (p *lagProbe) step() {
	start := p.now()
	p.sleep(p.interval)
	end := p.now()
	over := max(end.Sub(start)-p.interval, 0)
	l := lagSample{sec: end.Unix(), micros: int64((over + time.Microsecond/2) / time.Microsecond)}
	p.mu.Lock()
	p.samples = append(p.samples, l)
	p.mu.Unlock()
}

// swap returns the measurements taken since the last swap and keeps spare's
// memory for the next ones.
func (p *lagProbe) swap(spare []lagSample) []lagSample {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.samples
	p.samples = spare[:0]
	return s
}
