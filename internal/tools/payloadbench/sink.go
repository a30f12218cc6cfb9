package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// bucket is the sink's counting resolution.
const bucket = 100 * time.Millisecond

// counts is what the sink counted since its last reset: requests per bucket,
// the first bucket starting at StartUnixNano.
type counts struct {
	StartUnixNano int64   `json:"start_unix_ns"`
	Counts        []int64 `json:"counts"`
}

// counter counts requests per bucket of wall-clock time. It is safe for
// concurrent use.
type counter struct {
	mu    sync.Mutex
	start time.Time
	n     []int64
}

func (c *counter) reset() {
	c.mu.Lock()
	c.start, c.n = time.Now(), c.n[:0]
	c.mu.Unlock()
}

func (c *counter) add(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := int(t.Sub(c.start) / bucket)
	if i < 0 {
		return // a request that completed across a reset
	}
	for len(c.n) <= i {
		c.n = append(c.n, 0)
	}
	c.n[i]++
}

func (c *counter) snapshot() counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	return counts{StartUnixNano: c.start.UnixNano(), Counts: append([]int64(nil), c.n...)}
}

// serveSink answers every request at once, reading its body and counting
// it: a target that is never the bottleneck, in its own process so that it
// can be pinned to a core apart from k6. POST /_reset restarts the count,
// GET /_counts returns it. It ends when its stdin closes.
func serveSink() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "payloadbench sink:", err)
		os.Exit(1)
	}
	fmt.Printf("http://%s\n", ln.Addr())
	c := &counter{start: time.Now()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /_reset", func(w http.ResponseWriter, _ *http.Request) { c.reset() })
	mux.HandleFunc("GET /_counts", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(c.snapshot())
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write([]byte(`{"ok":true}`))
		c.add(time.Now())
	})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); os.Exit(0) }() // the parent went away
	_ = (&http.Server{Handler: mux}).Serve(ln)
}

// sink is the running sink child process.
type sink struct {
	url  string
	pid  int
	stop func()
}

// startSink runs this program again as the sink, under taskset when cpu is
// not empty.
func startSink(cpu string) (*sink, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-sink")
	if cpu != "" {
		cmd = exec.Command("taskset", "-c", cpu, self, "-sink")
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &sink{pid: cmd.Process.Pid, stop: func() { _ = stdin.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() }}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("starting the sink: %w", err)
	}
	s.url = strings.TrimSpace(line)
	return s, nil
}

func (s *sink) reset() error {
	resp, err := http.Post(s.url+"/_reset", "", nil)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func (s *sink) counts() (counts, error) {
	var c counts
	resp, err := http.Get(s.url + "/_counts")
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	return c, json.NewDecoder(resp.Body).Decode(&c)
}

// steady is the steady part of a run as the sink counted it: from warmup
// after the first request to cooldown before the last, so that k6's start
// and stop are left out.
type steady struct {
	from, to time.Time
	requests int64
}

const (
	warmup   = time.Second
	cooldown = 500 * time.Millisecond
)

func (c counts) steady() (steady, error) {
	first, last := -1, -1
	for i, n := range c.Counts {
		if n > 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return steady{}, fmt.Errorf("the sink saw no request")
	}
	lo, hi := first+int(warmup/bucket), last-int(cooldown/bucket) // [lo, hi)
	if hi-lo < int(time.Second/bucket) {
		return steady{}, fmt.Errorf("the sink saw requests for %s only: too short a run for a steady second", time.Duration(last-first+1)*bucket)
	}
	var s steady
	for _, n := range c.Counts[lo:hi] {
		s.requests += n
	}
	start := time.Unix(0, c.StartUnixNano)
	s.from, s.to = start.Add(time.Duration(lo)*bucket), start.Add(time.Duration(hi)*bucket)
	return s, nil
}

func (s steady) rate() float64 { return float64(s.requests) / s.to.Sub(s.from).Seconds() }
