package main

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// cpuSample is a process's CPU time (user + system, all threads) at a moment.
type cpuSample struct {
	at  time.Time
	cpu time.Duration
}

// cpuSampler reads a process's CPU time every interval until stopped, so that
// its CPU use over any part of its life can be read afterwards. On a system
// without /proc it records nothing.
type cpuSampler struct {
	mu      sync.Mutex
	samples []cpuSample
	quit    chan struct{}
	done    chan struct{}
}

// sampleCPU samples the CPU time of process pid; pid 0 means every process
// of the host (busy time of all CPUs).
func sampleCPU(pid int, interval time.Duration) *cpuSampler {
	read := func() (time.Duration, bool) { return processCPU(pid) }
	if pid == 0 {
		read = hostCPU
	}
	s := &cpuSampler{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if cpu, ok := read(); ok {
				s.mu.Lock()
				s.samples = append(s.samples, cpuSample{time.Now(), cpu})
				s.mu.Unlock()
			}
			select {
			case <-s.quit:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *cpuSampler) stop() {
	close(s.quit)
	<-s.done
}

// cores returns the process's average CPU use between from and to, in cores
// (1 = one core busy all the time), from the first sample at or after from
// to the last at or before to; 0 when there are not two such samples.
func (s *cpuSampler) cores(from, to time.Time) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var a, b *cpuSample
	for i := range s.samples {
		x := &s.samples[i]
		if a == nil && !x.at.Before(from) {
			a = x
		}
		if !x.at.After(to) {
			b = x
		}
	}
	if a == nil || b == nil || !b.at.After(a.at) {
		return 0
	}
	return float64(b.cpu-a.cpu) / float64(b.at.Sub(a.at))
}

// processCPU reads utime + stime of /proc/<pid>/stat.
func processCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may contain spaces; the fields after it
	// start at the state (field 3), so utime (14) and stime (15) are the
	// 12th and 13th.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	k, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(u+k) * time.Second / clockTicks, true
}

// hostCPU reads the busy time of all CPUs from /proc/stat: everything but
// idle and iowait.
func hostCPU() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, false
	}
	var busy int64
	for i, x := range f[1:9] { // user nice system idle iowait irq softirq steal
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return 0, false
		}
		if i != 3 && i != 4 {
			busy += n
		}
	}
	return time.Duration(busy) * time.Second / clockTicks, true
}
