package steamtrap

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// The collector form of the output: --out steamtrap=https://host/v1/steps/STEP/seconds.
const (
	// CollectTokenEnv is the environment variable of the k6 process that
	// holds the collector's token, sent as "Authorization: Bearer TOKEN".
	// It is required with a collector URL and never logged.
	CollectTokenEnv = "STEAMTRAP_COLLECT_TOKEN"
	// CollectCAEnv is the environment variable that holds the PEM
	// certificate(s) of the CA an https collector's certificate must chain
	// to, instead of the system's roots (loadgen makes a CA per campaign).
	CollectCAEnv = "STEAMTRAP_COLLECT_CA"
	// CollectInsecureEnv, "true", lets the output send to a plain http://
	// collector: the token and the records then travel in clear. It never
	// turns off the verification of an https:// collector.
	CollectInsecureEnv = "STEAMTRAP_COLLECT_INSECURE"
	// CollectTimeoutEnv is the environment variable that sets how long Stop
	// keeps trying to deliver what is still pending (a Go duration, "90s");
	// DefaultCollectTimeout without it.
	CollectTimeoutEnv = "STEAMTRAP_COLLECT_TIMEOUT"
	// DefaultCollectTimeout is Stop's delivery deadline.
	DefaultCollectTimeout = 30 * time.Second
	// SendInterval is how often the records written since the last batch
	// are POSTed (more often while a backlog drains).
	SendInterval = time.Second
	// MaxPendingRecords bounds the records waiting for the collector (an
	// hour of seconds), besides the batch being sent. When it is reached
	// the output's flusher waits: k6's samples wait in its buffer, and
	// nothing is dropped.
	MaxPendingRecords = 3600
)

const (
	// maxBatchRecords and maxBatchBytes bound a batch, well under a
	// collector's body limit (a record is a few KB).
	maxBatchRecords = 600
	maxBatchBytes   = 4 << 20
	// requestTimeout bounds one POST; a batch that times out is sent
	// again with the same number.
	requestTimeout = 30 * time.Second
	minBackoff     = 250 * time.Millisecond
	maxBackoff     = 10 * time.Second
	// maxHeaderValue bounds the runner and segment header values.
	maxHeaderValue = 200
)

// errDeadline is wrapped when Stop's deadline passed with records pending.
var errDeadline = errors.New("delivery deadline passed")

// statusError is a collector's answer other than 2xx.
type statusError struct {
	code   int
	status string // "401 Unauthorized"
}

func (e *statusError) Error() string { return "collector answered " + e.status }

// retried reports whether the batch is worth sending again: the collector
// is overloaded or failing (429, 5xx), not refusing it.
func (e *statusError) retried() bool {
	return e.code == http.StatusTooManyRequests || e.code >= 500
}

// collectorConfig is what the collector form needs to know.
type collectorConfig struct {
	url      *url.URL
	token    string
	roots    *x509.CertPool // CollectCAEnv's; nil: the system's
	insecure bool           // an http:// URL, allowed by CollectInsecureEnv
	runner   string         // HeaderRunner
	segment  string         // HeaderSegment
	timeout  time.Duration
}

// collector is the io.WriteCloser the collector form of the output writes
// its lines to: the first line is the header, sent first in every batch;
// the others wait in a bounded queue until a goroutine POSTs them, in
// order, in numbered batches, retrying with backoff on network errors, 429
// and 5xx. Write blocks while the queue is full (back-pressure). Delivery
// gives up on any other status, or when Stop's deadline (beginStop + the
// timeout) passes; Close then returns an error saying how many lines were
// not delivered. Write and Close are called from one goroutine at a time.
type collector struct {
	cfg      collectorConfig
	shown    string // the URL as shown in messages
	client   *http.Client
	logger   logrus.FieldLogger
	interval time.Duration
	backoff  func(attempt int) time.Duration

	header  []byte
	started bool
	queue   chan []byte
	stalled bool // the queue was full at the last Write: logged once

	ctx       context.Context // canceled at the deadline
	cancel    context.CancelFunc
	stopOnce  sync.Once
	deadline  *time.Timer   // set by beginStop
	closed    chan struct{} // closed by Close, after the queue
	failed    chan struct{} // closed when delivery gives up: Write stops waiting
	done      chan struct{} // closed when run returns
	discarded atomic.Int64  // lines Write dropped after delivery gave up

	// Owned by run; read by Close after done.
	seq         int64 // last batch delivered
	delivered   int64 // lines delivered
	undelivered int64 // lines given up on
	err         error // why delivery gave up
}

// newCollector returns a collector that holds at most pending lines in
// its queue.
func newCollector(cfg collectorConfig, logger logrus.FieldLogger, pending int) *collector {
	ctx, cancel := context.WithCancel(context.Background())
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// Not k6's TLS settings (--insecure-skip-tls-verify is the target's
	// business): the collector is verified against its CA, always.
	transport.TLSClientConfig = &tls.Config{RootCAs: cfg.roots, MinVersion: tls.VersionTLS12}
	return &collector{
		cfg:   cfg,
		shown: cfg.url.Redacted(),
		client: &http.Client{Transport: transport,
			// A redirect is not followed: it could take the token elsewhere,
			// or to http://. Its status refuses the batch.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		logger:   logger,
		interval: SendInterval,
		backoff:  jitteredBackoff,
		queue:    make(chan []byte, pending),
		ctx:      ctx,
		cancel:   cancel,
		closed:   make(chan struct{}),
		failed:   make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// jitteredBackoff is the wait before retry attempt+1: 250 ms doubling to
// 10 s, less up to a quarter at random so that runners spread out.
func jitteredBackoff(attempt int) time.Duration {
	d := maxBackoff
	if attempt < 6 {
		d = min(minBackoff<<attempt, maxBackoff)
	}
	return d - time.Duration(rand.Int64N(int64(d)/4+1))
}

// start starts the sending goroutine.
func (c *collector) start() {
	c.started = true
	go c.run()
}

// Write queues one line (the first is the header). It waits while the
// queue is full, unless delivery gave up.
func (c *collector) Write(p []byte) (int, error) {
	line := bytes.Clone(p)
	if c.header == nil {
		c.header = line
		return len(p), nil
	}
	select {
	case c.queue <- line:
		c.stalled = false
		return len(p), nil
	default:
	}
	if !c.stalled {
		c.stalled = true
		c.logger.WithField("pending", len(c.queue)).Warn("the collector is behind; waiting for it (back-pressure)")
	}
	select {
	case c.queue <- line:
	case <-c.failed:
		c.discarded.Add(1)
	}
	return len(p), nil
}

// beginStop starts the delivery deadline: from now on, what is pending
// has the timeout to reach the collector.
func (c *collector) beginStop() {
	c.stopOnce.Do(func() { c.deadline = time.AfterFunc(c.cfg.timeout, c.cancel) })
}

// Close delivers what is pending (within the deadline that beginStop
// started; Close starts it if beginStop was not called) and stops. It
// returns an error if any line was not delivered.
func (c *collector) Close() error {
	if c.header == nil {
		return nil // nothing was ever written
	}
	if !c.started {
		c.start()
	}
	c.beginStop()
	close(c.queue)
	close(c.closed)
	<-c.done
	c.deadline.Stop()
	c.cancel()
	if c.err == nil {
		return nil
	}
	return fmt.Errorf("steamtrap output: %d of %d lines not delivered to %s: %w",
		c.undelivered+c.discarded.Load(), c.delivered+c.undelivered+c.discarded.Load(), c.shown, c.err)
}

// run sends a batch every interval, and at once after Close, until the
// queue is closed and empty or delivery gives up.
func (c *collector) run() {
	defer close(c.done)
	tick := time.NewTicker(c.interval)
	defer tick.Stop()
	var batch [][]byte
	for {
		select {
		case <-tick.C:
		case <-c.closed:
		}
		for {
			open, full := c.fill(&batch)
			if len(batch) == 0 && (open || c.seq > 0) {
				if !open {
					return
				}
				break
			}
			// A run that wrote no record still sends its header once, so
			// the collector knows the runner.
			if err := c.deliver(batch); err != nil {
				c.giveUp(err, len(batch))
				return
			}
			batch = batch[:0]
			if !open {
				return
			}
			if !full {
				break
			}
		}
	}
}

// fill moves queued lines into batch until it is full or the queue is
// empty. open is false once the queue is closed and empty.
func (c *collector) fill(batch *[][]byte) (open, full bool) {
	size := 0
	for _, l := range *batch {
		size += len(l)
	}
	for len(*batch) < maxBatchRecords && size < maxBatchBytes {
		select {
		case line, ok := <-c.queue:
			if !ok {
				return false, false
			}
			*batch = append(*batch, line)
			size += len(line)
		default:
			return true, false
		}
	}
	return true, true
}

// deliver POSTs batch as the next batch number until the collector takes
// it, refuses it, or the deadline passes.
func (c *collector) deliver(batch [][]byte) error {
	body := bytes.NewBuffer(make([]byte, 0, len(c.header)+len(batch)*4096))
	body.Write(c.header)
	for _, l := range batch {
		body.Write(l)
	}
	seq := c.seq + 1
	var last error // the last failure, other than the deadline's cancellation
	for attempt := 0; ; attempt++ {
		retryAfter, err := c.post(body.Bytes(), seq)
		if err == nil {
			c.seq = seq
			c.delivered += int64(len(batch))
			if last != nil {
				c.logger.WithField("attempts", attempt+1).Info("the collector took the batch after retries")
			}
			return nil
		}
		if se := (*statusError)(nil); errors.As(err, &se) && !se.retried() {
			return err
		}
		if cve := (*tls.CertificateVerificationError)(nil); errors.As(err, &cve) {
			return fmt.Errorf("the collector's certificate is not one to trust (%s): %w", c.trusted(), err)
		}
		if c.ctx.Err() != nil {
			return fmt.Errorf("%w after %d attempts; last error: %w", errDeadline, attempt+1, cmp.Or(last, err))
		}
		if last == nil {
			c.logger.WithError(err).Warn("cannot deliver the per-second measurements yet; retrying")
		}
		last = err
		wait := c.backoff(attempt)
		if retryAfter > 0 {
			wait = min(retryAfter, maxBackoff)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return fmt.Errorf("%w after %d attempts; last error: %w", errDeadline, attempt+1, last)
		}
	}
}

// post sends one batch. A status error may come with the Retry-After the
// collector asked for.
func (c *collector) post(body []byte, seq int64) (retryAfter time.Duration, err error) {
	ctx, cancel := context.WithTimeout(c.ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.url.String(), bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", measure.ContentType)
	req.Header.Set("Authorization", "Bearer "+c.cfg.token)
	req.Header.Set("User-Agent", "xk6-steamtrap")
	req.Header.Set(measure.HeaderRunner, c.cfg.runner)
	req.Header.Set(measure.HeaderSegment, c.cfg.segment)
	req.Header.Set(measure.HeaderBatch, strconv.FormatInt(seq, 10))
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		retryAfter = time.Duration(s) * time.Second
	}
	return retryAfter, &statusError{code: resp.StatusCode, status: resp.Status}
}

// trusted says what the collector's certificate must chain to.
func (c *collector) trusted() string {
	if c.cfg.roots != nil {
		return "it must chain to the CA in " + CollectCAEnv
	}
	return "it must chain to the system's roots; " + CollectCAEnv + " not set"
}

// giveUp records why delivery stopped, logs it once, and discards what
// is queued, now and until Close, so that Write never waits again.
func (c *collector) giveUp(err error, inBatch int) {
	c.err = err
	c.undelivered += int64(inBatch)
	c.logger.WithError(err).Error("the per-second measurements cannot be delivered to the collector; " +
		"what is pending is lost and the output will fail")
	close(c.failed)
	for range c.queue {
		c.undelivered++
	}
}

// validHeaderValue reports whether v can be sent as a header value as it
// is: printable ASCII, at most maxHeaderValue bytes.
func validHeaderValue(v string) bool {
	if len(v) > maxHeaderValue {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}
