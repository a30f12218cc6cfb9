package k6operator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

// standIn plays k6-operator (v1.x, pkg/resources/jobs and
// internal/controller) on the fake API with real k6 processes: for each
// TestRun it writes the ConfigMap's script where the operator mounts it
// (/test/FILE, under a directory of its own), runs the initializer's
// `k6 archive` and `k6 inspect --execution-requirements` through sh -c as
// the operator does, then starts one k6 per runner with exactly the
// operator's command line — `k6 run --quiet [segment flags] ARGUMENTS
// /test/FILE --address=… --paused --tag instance_id=I --tag
// testrun_name=NAME` — and the runner's environment (secretKeyRef resolved
// from the fake cluster's Secret). The one deliberate difference is each
// runner's REST API on 127.0.0.1:PORT instead of 0.0.0.0:6565, since they
// share a host. Once every runner's API answers, it resumes them as the
// starter does (PATCH /v1/status), and it moves the TestRun's stage and
// each runner pod's status as the operator and the kubelet would. A
// deleted TestRun's k6 processes get SIGTERM (the kubelet's stop) and
// their pods go once they have exited.
type standIn struct {
	t    *testing.T
	c    *cluster
	path string // PATH with a `k6` that is $LOADGEN_BIN k6
	root string // the pods' files
	// oomKill, if set, gives how long runner i's k6 runs after the start
	// before the kernel kills it (SIGKILL): its pod fails with OOMKilled.
	oomKill func(i int) time.Duration

	mu       sync.Mutex
	runs     map[string]*standInRun
	commands [][]string // every runner's command line, in start order
	wg       sync.WaitGroup
}

type standInRun struct {
	name    string
	deleted chan struct{}
	mu      sync.Mutex
	procs   map[int]*exec.Cmd // runner → its k6
	exited  map[int]chan struct{}
	pods    map[int]*corev1.Pod
}

func newStandIn(t *testing.T, c *cluster, bin string) *standIn {
	t.Helper()
	binDir := t.TempDir()
	wrapper := "#!/bin/sh\nexec " + strconv.Quote(bin) + " k6 \"$@\"\n"
	require.NoError(t, os.WriteFile(filepath.Join(binDir, "k6"), []byte(wrapper), 0o755))
	s := &standIn{t: t, c: c, path: binDir + ":" + os.Getenv("PATH"), root: t.TempDir(), runs: map[string]*standInRun{}}
	c.onDelete = s.deleted
	return s
}

// start watches the fake API for TestRuns until ctx ends; the test's end
// waits for every k6 it started.
func (s *standIn) start(ctx context.Context) {
	w, err := s.c.dyn.Tracker().Watch(TestRunGVR, testNS)
	require.NoError(s.t, err)
	s.t.Cleanup(func() {
		w.Stop()
		s.stopAll()
		s.wg.Wait()
	})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			select {
			case ev, ok := <-w.ResultChan():
				if !ok {
					return
				}
				if u, isU := ev.Object.(*unstructured.Unstructured); isU && ev.Type == watch.Added {
					r := &standInRun{name: u.GetName(), deleted: make(chan struct{}), procs: map[int]*exec.Cmd{},
						exited: map[int]chan struct{}{}, pods: map[int]*corev1.Pod{}}
					s.mu.Lock()
					s.runs[r.name] = r
					s.mu.Unlock()
					s.wg.Add(1)
					go func() {
						defer s.wg.Done()
						if err := s.run(ctx, r, u.DeepCopy()); err != nil {
							s.t.Logf("stand-in operator, TestRun %s: %v", r.name, err)
							_ = s.c.setStage(r.name, "error")
						}
					}()
				}
			case <-ctx.Done():
				return
			}
		}
	}()
}

// run is the operator's reconcile of one TestRun, from stage "" to
// finished.
func (s *standIn) run(ctx context.Context, r *standInRun, u *unstructured.Unstructured) error {
	var spec testRunSpec
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object["spec"].(map[string]any), &spec); err != nil {
		return err
	}
	n := spec.Parallelism
	if err := s.c.setStage(r.name, "initialization"); err != nil {
		return err
	}

	// The ConfigMap, mounted at /test.
	o, err := s.c.kube.Tracker().Get(corev1.SchemeGroupVersion.WithResource("configmaps"), testNS, spec.Script.ConfigMap.Name)
	if err != nil {
		return fmt.Errorf("the script's ConfigMap: %w", err)
	}
	file := spec.Script.ConfigMap.File
	if file == "" {
		file = "test.js"
	}
	testDir := filepath.Join(s.root, r.name, "test")
	if err := os.MkdirAll(testDir, 0o755); err != nil {
		return err
	}
	script := filepath.Join(testDir, file)
	if err := os.WriteFile(script, []byte(o.(*corev1.ConfigMap).Data[file]), 0o644); err != nil {
		return err
	}

	// The initializer: k6 archive with the archive's share of the
	// arguments, then k6 inspect, in sh -c.
	argv := strings.Fields(spec.Arguments)
	archive := filepath.Join(s.root, r.name, file+".archived.tar")
	sh := fmt.Sprintf("k6 archive %s -O %s %s && k6 inspect --execution-requirements %s", script, archive, strings.Join(archiveArgs(argv), " "), archive)
	cmd := exec.CommandContext(ctx, "sh", "-c", sh)
	cmd.Env = []string{"PATH=" + s.path, "HOME=" + s.root}
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("initializer: %v: %s", err, cmdStderr(err))
	}
	var inspect struct {
		MaxVUs int `json:"maxVUs"`
	}
	if err := json.Unmarshal(out, &inspect); err != nil || inspect.MaxVUs < n {
		return fmt.Errorf("initializer: inspect said %q: parallelism %d > maxVUs", out, n)
	}
	if err := s.c.setStage(r.name, "initialized"); err != nil {
		return err
	}

	// The runners' jobs and pods, and their environment.
	env := []string{"PATH=" + s.path, "HOME=" + s.root}
	for _, e := range spec.Runner.Env {
		v := e.Value
		if ref := e.ValueFrom; ref != nil && ref.SecretKeyRef != nil {
			sec, err := s.c.kube.Tracker().Get(corev1.SchemeGroupVersion.WithResource("secrets"), testNS, ref.SecretKeyRef.Name)
			if err != nil {
				return fmt.Errorf("runner env %s: %w", e.Name, err) // the kubelet: CreateContainerConfigError
			}
			v = string(sec.(*corev1.Secret).Data[ref.SecretKeyRef.Key])
		}
		env = append(env, e.Name+"="+v)
	}
	for i := 1; i <= n; i++ {
		p := runnerPod(r.name, i)
		p.Labels = mergeLabels(spec.Runner.Metadata.Labels, p.Labels)
		if err := s.c.createPod(p); err != nil {
			return err
		}
		r.setPod(i, p)
	}
	if err := s.c.setStage(r.name, "created"); err != nil {
		return err
	}
	apis := make([]string, n+1)
	for i := 1; i <= n; i++ {
		apis[i] = freeAddr(s.t)
		args := []string{"k6", "run", "--quiet"}
		if n > 1 {
			args = append(args, operatorSegmentArgs(i, n)...)
		}
		args = append(args, argv...)
		args = append(args, script, "--address="+apis[i], "--paused", "--tag", fmt.Sprintf("instance_id=%d", i), "--tag", "testrun_name="+r.name)
		if err := s.startRunner(r, i, args, env); err != nil {
			return err
		}
	}

	// The operator waits for every runner's API, then the starter resumes
	// them.
	deadline := time.Now().Add(time.Minute)
	for i := 1; i <= n; i++ {
		for !apiReady(ctx, apis[i]) {
			if time.Now().After(deadline) || r.isDeleted() {
				return fmt.Errorf("runner %d's API at %s never answered", i, apis[i])
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err := s.c.setStage(r.name, "started"); err != nil {
		return err
	}
	for i := 1; i <= n; i++ {
		if err := resume(ctx, apis[i]); err != nil {
			return fmt.Errorf("resuming runner %d: %w", i, err)
		}
		if s.oomKill != nil {
			if d := s.oomKill(i); d > 0 {
				go r.oomKill(i, d)
			}
		}
	}
	for i := 1; i <= n; i++ {
		select {
		case <-r.exitedCh(i):
		case <-r.deleted:
			return nil
		}
	}
	if r.isDeleted() {
		return nil
	}
	if err := s.c.setStage(r.name, "stopped"); err != nil {
		return err
	}
	return s.c.setStage(r.name, "finished")
}

// startRunner starts runner i's k6 and, when it ends, records it on its
// pod as the kubelet would.
func (s *standIn) startRunner(r *standInRun, i int, args, env []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-r.deleted:
		return fmt.Errorf("deleted")
	default:
	}
	// The `k6` on the pod's PATH: the wrapper that execs $LOADGEN_BIN k6.
	cmd := &exec.Cmd{Path: filepath.Join(strings.SplitN(s.path, ":", 2)[0], "k6"), Args: args, Env: env}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	s.mu.Lock()
	s.commands = append(s.commands, args)
	s.mu.Unlock()
	r.procs[i] = cmd
	done := make(chan struct{})
	r.exited[i] = done
	p := running(r.pods[i])
	r.pods[i] = p
	_ = s.c.updatePod(p)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := cmd.Wait()
		code, reason := int32(0), "Completed"
		if ee, ok := err.(*exec.ExitError); ok {
			code, reason = int32(ee.ExitCode()), "Error"
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				code = 128 + int32(ws.Signal())
				if ws.Signal() == syscall.SIGKILL {
					reason = "OOMKilled"
				}
			}
		}
		if code != 0 {
			s.t.Logf("stand-in runner %s-%d: exit %d (%s); its output:\n%s", r.name, i, code, reason, out.String())
		}
		r.mu.Lock()
		p := exited(r.pods[i], code, reason)
		r.pods[i] = p
		r.mu.Unlock()
		_ = s.c.updatePod(p)
		close(done)
	}()
	return nil
}

func (r *standInRun) setPod(i int, p *corev1.Pod) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pods[i] = p
}

func (r *standInRun) exitedCh(i int) chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.exited[i]
}

func (r *standInRun) isDeleted() bool {
	select {
	case <-r.deleted:
		return true
	default:
		return false
	}
}

func (r *standInRun) oomKill(i int, after time.Duration) {
	select {
	case <-time.After(after):
	case <-r.exitedCh(i):
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.procs[i]; p != nil {
		_ = p.Process.Signal(syscall.SIGKILL)
	}
}

// deleted is the garbage collector and the kubelet for a deleted TestRun:
// SIGTERM to its k6 processes, and its pods deleted once they have exited.
func (s *standIn) deleted(name string) {
	s.mu.Lock()
	r := s.runs[name]
	s.mu.Unlock()
	if r == nil {
		return
	}
	r.mu.Lock()
	close(r.deleted)
	for _, p := range r.procs {
		_ = p.Process.Signal(syscall.SIGTERM)
	}
	r.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		r.mu.Lock()
		pods, exited := make(map[int]*corev1.Pod, len(r.pods)), make(map[int]chan struct{}, len(r.exited))
		for i, p := range r.pods {
			pods[i] = p
		}
		for i, ch := range r.exited {
			exited[i] = ch
		}
		r.mu.Unlock()
		for i, p := range pods {
			if ch := exited[i]; ch != nil {
				select {
				case <-ch:
				case <-time.After(30 * time.Second): // the pod's grace period
					r.mu.Lock()
					_ = r.procs[i].Process.Signal(syscall.SIGKILL)
					r.mu.Unlock()
					<-ch
				}
			}
			_ = s.c.kube.Tracker().Delete(podsGVR, p.Namespace, p.Name)
		}
	}()
}

// stopAll kills what a failed test left running.
func (s *standIn) stopAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.runs {
		r.mu.Lock()
		for i, p := range r.procs {
			select {
			case <-r.exited[i]:
			default:
				_ = p.Process.Signal(syscall.SIGKILL)
			}
		}
		r.mu.Unlock()
	}
}

// operatorSegmentArgs are k6-operator's segmentation.NewCommandFragments.
func operatorSegmentArgs(index, total int) []string {
	part := func(k int) string {
		switch k {
		case 0:
			return "0"
		case total:
			return "1"
		}
		return fmt.Sprintf("%d/%d", k, total)
	}
	seq := []string{"0"}
	for k := 1; k < total; k++ {
		seq = append(seq, fmt.Sprintf("%d/%d", k, total))
	}
	seq = append(seq, "1")
	return []string{"--execution-segment=" + part(index-1) + ":" + part(index), "--execution-segment-sequence=" + strings.Join(seq, ",")}
}

// archiveArgs are the arguments k6-operator's initializer passes to k6
// archive (pkg/types ParseCLI: without --out, --no-usage-report, --linger,
// --verbose, --log-output and the flags archive does not take).
func archiveArgs(argv []string) []string {
	var out []string
	for i := 0; i < len(argv); {
		end := i + 1
		for end < len(argv) && !strings.HasPrefix(argv[end], "-") {
			end++
		}
		switch flag := argv[i]; {
		case flag == "-o" || flag == "--out" || flag == "-l" || flag == "--linger" || flag == "--no-usage-report" ||
			flag == "-v" || flag == "--verbose" || strings.HasPrefix(flag, "--log-output") ||
			strings.HasPrefix(flag, "--block-hostnames") || strings.HasPrefix(flag, "--blacklist-ip") || strings.HasPrefix(flag, "--user-agent"):
		default:
			out = append(out, argv[i:end]...)
		}
		i = end
	}
	return out
}

func mergeLabels(extra, own map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range extra {
		out[k] = v
	}
	for k, v := range own {
		out[k] = v // the operator's own labels win
	}
	return out
}

func cmdStderr(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

func apiReady(ctx context.Context, addr string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v1/status", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode < 400
}

// resume is the starter's request (pkg/resources/containers: a status with
// paused false).
func resume(ctx context.Context, addr string) error {
	body := `{"data":{"attributes":{"paused":false},"id":"default","type":"status"}}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, "http://"+addr+"/v1/status", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return fmt.Errorf("PATCH /v1/status: %s", resp.Status)
	}
	return nil
}

// freeAddr is a loopback address nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}
