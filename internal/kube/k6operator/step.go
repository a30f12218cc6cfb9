package k6operator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/greenlang/loadgen/internal/kit/redact"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/greenlang/loadgen/internal/core/k6step"
	"github.com/greenlang/loadgen/internal/kube/collect"
	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

// TestRun stages (status.stage) the executor acts on.
const (
	stageFinished = "finished"
	stageError    = "error"
)

// Run runs the step as a TestRun of Config.Runners runners and returns the
// merged seconds and each runner's (step-NN.rI.ndjson, step-NN.rI.log,
// step-NN.ndjson in the run directory). onSecond gets the runners' seconds
// merged, live. A failed runner pod is reported in its RunnerResult's
// Failure with a nil error; the error is for a step that could not run at
// all (ErrOperator, ErrConfig, the cluster's refusal), or ctx's when it
// ended. The step's objects are deleted before Run returns, whatever
// happened.
func (e *Executor) Run(ctx context.Context, spec k6step.Spec, onSecond func(measure.Second)) (k6step.Result, error) {
	base := spec.FileBase()
	res := k6step.Result{SecondsFile: base + ".ndjson", LogFile: base + ".r1.log"}
	n := e.cfg.Runners
	if n > 1 && spec.MaxVUs < n {
		return res, fmt.Errorf("%w: %d runners need at least %d VUs, the step has %d (k6-operator refuses more runners than VUs): lower --runners", ErrConfig, n, n, spec.MaxVUs)
	}
	token := e.c.Collector.StepToken(base)
	objs, err := e.objects(spec, token)
	if err != nil {
		return res, err
	}
	if err := e.ensureSecret(ctx); err != nil {
		return res, err
	}
	s, err := e.newStepRun(spec, objs.name, token)
	if err != nil {
		return res, err
	}
	defer s.closeLogs()

	var mu sync.Mutex
	live := measure.NewLiveMerger(n, func(sec measure.Second) {
		if onSecond != nil {
			onSecond(sec)
		}
	})
	e.c.Collector.Expect(base, collect.Expectation{
		Runners:    expectedRunners(n),
		MaxRecords: s.maxRecords(),
		OnSecond: func(runner string, sec measure.Second) {
			if i := runnerIndex(runner, n); i >= 0 {
				mu.Lock()
				defer mu.Unlock()
				live.Add(i, sec)
			}
		},
	})

	res.Started = time.Now()
	runErr := s.run(ctx, objs)
	cleanupErr := e.deleteStep(objs.name)
	s.stopLogs()
	streams := e.c.Collector.Done(base)
	mu.Lock()
	live.Flush()
	mu.Unlock()
	res.Finished = time.Now()

	werr := s.result(&res, streams, ctx.Err() == nil && runErr == nil)
	switch {
	case ctx.Err() != nil:
		return res, ctx.Err()
	case runErr != nil:
		return res, runErr
	case werr != nil:
		return res, werr
	}
	if cleanupErr != nil {
		s.logf(0, "cleaning up: %v", cleanupErr) // Close tries again
	}
	return res, nil
}

// stepRun is one step's TestRun as the executor follows it.
type stepRun struct {
	e     *Executor
	spec  k6step.Spec
	base  string
	name  string
	n     int
	logs  []*runnerLog
	pods  map[string]*corev1.Pod // the step's pods by name, as last seen
	stage string
	gone  bool // the TestRun was deleted (not by the executor) before it finished
	// Per runner (0-based): why it failed, its exit code and end.
	failure  []string
	exitCode []int
	ended    []time.Time
	// redact are Config.Redact and the step's collector token.
	redact []string
}

// expectedRunners are the runners of a step of n: k6-operator's instance_id
// tags "1" to "n", each with its execution segment (none when n is 1: the
// operator gives the segment flags to more than one runner only).
func expectedRunners(n int) map[string]string {
	runners := make(map[string]string, n)
	for i := 1; i <= n; i++ {
		seg := ""
		if n > 1 {
			seg = k6step.Segment(i, n)
		}
		runners[strconv.Itoa(i)] = seg
	}
	return runners
}

// maxRecords bounds the records a runner of the step may send: a record
// per second it may run (the step's deadline), and at each of the output's
// flushes (4 a second) a late supplement for each second still getting
// responses (at most the request timeout, and a margin, back). Only a
// runner gone wrong comes near it.
func (s *stepRun) maxRecords() int {
	seconds := int(s.deadline()/time.Second) + 1
	perSecond := 1 + 4*(int(s.spec.RequestTimeout/time.Second)+3)
	return min(seconds*perSecond+collect.MaxBatchRecords, collect.MaxRecordsPerRunner)
}

func (e *Executor) newStepRun(spec k6step.Spec, name, token string) (*stepRun, error) {
	n := e.cfg.Runners
	s := &stepRun{e: e, spec: spec, base: spec.FileBase(), name: name, n: n, pods: map[string]*corev1.Pod{},
		failure: make([]string, n), exitCode: make([]int, n), ended: make([]time.Time, n),
		redact: append(slices.Clip(e.cfg.Redact), token)}
	for i := 1; i <= n; i++ {
		l, err := openRunnerLog(filepath.Join(e.cfg.Dir, s.logFile(i)), s.redact)
		if err != nil {
			s.closeLogs()
			return nil, err
		}
		s.logs = append(s.logs, l)
		l.printf("# runner %d of %d of TestRun %s/%s (image %s)", i, n, e.cfg.Namespace, name, e.cfg.Image)
	}
	return s, nil
}

func (s *stepRun) logFile(i int) string     { return fmt.Sprintf("%s.r%d.log", s.base, i) }
func (s *stepRun) secondsFile(i int) string { return fmt.Sprintf("%s.r%d.ndjson", s.base, i) }

// logf writes a note into runner i's log (0-based).
func (s *stepRun) logf(i int, format string, args ...any) {
	if i >= 0 && i < len(s.logs) {
		s.logs[i].printf("# "+format, args...)
	}
}

// deadline is how long a step may take from its TestRun's creation, as
// k6step bounds a local k6 (duration, twice the request timeout, a
// minute), plus the time its runners may take to start.
func (s *stepRun) deadline() time.Duration {
	return s.e.cfg.StartTimeout + s.spec.Duration + 2*s.spec.RequestTimeout + time.Minute
}

// run creates the step's objects and follows them until the TestRun ends,
// a runner fails, ctx ends or the deadline passes. It returns nil when the
// step ran (or a runner failed: s.failure says so).
func (s *stepRun) run(ctx context.Context, objs stepObjects) error {
	e := s.e
	events := make(chan event, 256)
	watchCtx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	go s.watchTestRun(watchCtx, events)
	go s.watchPods(watchCtx, events)

	if err := e.createStepSecret(ctx, objs.secret); err != nil {
		return err
	}
	if _, err := e.c.Kube.CoreV1().ConfigMaps(e.cfg.Namespace).Create(ctx, objs.configMap, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the step's ConfigMap %s/%s: %w", e.cfg.Namespace, objs.name, err)
	}
	if _, err := e.c.Dynamic.Resource(TestRunGVR).Namespace(e.cfg.Namespace).Create(ctx, objs.testRun, metav1.CreateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("%w: creating the TestRun: the cluster has no %s resource: is k6-operator installed?", ErrOperator, TestRunGVR.GroupResource())
		}
		return fmt.Errorf("creating the step's TestRun %s/%s: %w", e.cfg.Namespace, objs.name, err)
	}
	created := time.Now()
	deadline := time.NewTimer(s.deadline())
	defer deadline.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			s.logAll("interrupted: stopping the TestRun")
			return nil
		case <-deadline.C:
			return fmt.Errorf("%w: TestRun %s/%s still at stage %q %s after it was created (the step's limit): stopped", ErrOperator, e.cfg.Namespace, s.name, s.stage, s.deadline())
		case <-tick.C:
		case ev := <-events:
			if ev.err != nil {
				return ev.err
			}
			s.apply(ev)
		}
		now := time.Now()
		if s.stage == "" && now.Sub(created) > e.cfg.OperatorGrace {
			return fmt.Errorf("%w: no k6-operator took up TestRun %s/%s in %s (its stage is still empty): is the operator running, and watching namespace %s?", ErrOperator, e.cfg.Namespace, s.name, e.cfg.OperatorGrace, e.cfg.Namespace)
		}
		if err := s.judgePods(ctx, now); err != nil {
			return err
		}
		if s.anyFailed() {
			return nil
		}
		if s.gone {
			return fmt.Errorf("%w: TestRun %s/%s was deleted (not by loadgen) at stage %q, before it finished", ErrOperator, e.cfg.Namespace, s.name, s.stage)
		}
		switch s.stage {
		case stageFinished:
			return s.finish(ctx)
		case stageError:
			return fmt.Errorf("%w: TestRun %s/%s ended in stage error%s", ErrOperator, e.cfg.Namespace, s.name, s.operatorDetail(ctx))
		}
	}
}

// event is what a watch saw: the TestRun's stage, a pod, or a watch that
// cannot go on.
type event struct {
	stage   *string
	trGone  bool
	pod     *corev1.Pod
	podGone bool
	err     error
}

func (s *stepRun) apply(ev event) {
	switch {
	case ev.stage != nil:
		if *ev.stage != s.stage {
			s.logAll("TestRun stage %q", *ev.stage)
		}
		s.stage = *ev.stage
	case ev.trGone:
		s.gone = s.stage != stageFinished && s.stage != stageError
	case ev.pod != nil && ev.podGone:
		if i := s.runnerOf(ev.pod); i >= 0 && s.failure[i] == "" && !podEnded(ev.pod) {
			s.fail(i, fmt.Sprintf("runner pod %s was deleted before it finished", ev.pod.Name))
		}
		delete(s.pods, ev.pod.Name)
	case ev.pod != nil:
		s.pods[ev.pod.Name] = ev.pod
	}
}

// judgePods follows the runners' logs as their pods start and records
// their ends; a pod that failed fails its runner (a runner pod) or the
// step (the initializer's or starter's).
func (s *stepRun) judgePods(ctx context.Context, now time.Time) error {
	for _, p := range s.pods {
		i := s.runnerOf(p)
		why := podFailure(p, now, s.e.cfg.PodGrace)
		if i < 0 {
			if why != "" {
				return fmt.Errorf("%w: %s%s", ErrOperator, why, s.podLogTail(ctx, p))
			}
			continue
		}
		if podStarted(p) {
			s.logs[i].follow(s.e, p)
		}
		if code, at, ok := k6Exit(p); ok {
			s.exitCode[i], s.ended[i] = code, at
		}
		if why != "" && s.failure[i] == "" {
			s.fail(i, why)
		}
	}
	return nil
}

func (s *stepRun) fail(i int, why string) {
	s.failure[i] = why
	s.logf(i, "runner %d failed: %s", i+1, why)
}

func (s *stepRun) anyFailed() bool {
	for _, f := range s.failure {
		if f != "" {
			return true
		}
	}
	return false
}

// finish reads the runner pods once more when the TestRun has finished
// (a watch may lag behind the operator) and judges them.
func (s *stepRun) finish(ctx context.Context) error {
	pods, err := s.e.c.Kube.CoreV1().Pods(s.e.cfg.Namespace).List(ctx, metav1.ListOptions{LabelSelector: s.podSelector()})
	if err == nil {
		for i := range pods.Items {
			s.pods[pods.Items[i].Name] = &pods.Items[i]
		}
	}
	if err := s.judgePods(ctx, time.Now()); err != nil {
		return err
	}
	seen := make([]bool, s.n)
	for _, p := range s.pods {
		if i := s.runnerOf(p); i >= 0 {
			seen[i] = true
		}
	}
	for i, ok := range seen {
		if !ok && s.failure[i] == "" {
			s.fail(i, fmt.Sprintf("no pod of runner %d was seen before TestRun %s finished", i+1, s.name))
		}
	}
	return nil
}

// runnerOf is the runner (0-based) a pod of the step runs, or -1 for the
// initializer, the starter, or another TestRun's pod. The operator runs
// runner i as job NAME-i.
func (s *stepRun) runnerOf(p *corev1.Pod) int {
	if p.Labels[operatorLabelCR] != s.name || p.Labels[operatorLabelRunner] != "true" {
		return -1
	}
	job := p.Labels["batch.kubernetes.io/job-name"]
	if job == "" {
		job = p.Labels["job-name"]
	}
	if job == "" { // the pod's name is the job's and a suffix
		job = p.Name[:max(strings.LastIndexByte(p.Name, '-'), 0)]
	}
	i, err := strconv.Atoi(strings.TrimPrefix(job, s.name+"-"))
	if err != nil || !strings.HasPrefix(job, s.name+"-") {
		return -1
	}
	return runnerIndex(strconv.Itoa(i), s.n)
}

func (s *stepRun) podSelector() string { return operatorLabelCR + "=" + s.name }

func (s *stepRun) logAll(format string, args ...any) {
	for i := range s.logs {
		s.logf(i, format, args...)
	}
}

// operatorDetail is what the step's initializer says about a TestRun in
// stage error (a script k6 cannot read, more runners than VUs).
func (s *stepRun) operatorDetail(ctx context.Context) string {
	pods, err := s.e.c.Kube.CoreV1().Pods(s.e.cfg.Namespace).List(ctx, metav1.ListOptions{LabelSelector: s.podSelector()})
	if err != nil {
		return ""
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.Labels[operatorLabelRunner] != "true" && strings.Contains(p.Name, "-initializer") {
			why := podFailure(p, time.Now(), s.e.cfg.PodGrace)
			if why == "" {
				why = "initializer pod " + p.Name
			}
			return ": " + why + s.podLogTail(ctx, p)
		}
	}
	return " (see the k6-operator's log)"
}

// podLogTail is the end of a pod's log, for an error message.
func (s *stepRun) podLogTail(ctx context.Context, p *corev1.Pod) string {
	tail := int64(8)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b, err := s.e.c.Kube.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{TailLines: &tail}).DoRaw(ctx)
	if err != nil || len(strings.TrimSpace(string(b))) == 0 {
		return ""
	}
	return "; its log ends:\n" + redact.New(s.redact...).String(strings.TrimSpace(string(b)))
}

// watchTestRun sends the TestRun's stage whenever it changes, until ctx
// ends. A watch that the API server closes is opened again.
func (s *stepRun) watchTestRun(ctx context.Context, out chan<- event) {
	res := s.e.c.Dynamic.Resource(TestRunGVR).Namespace(s.e.cfg.Namespace)
	send := func(u *unstructured.Unstructured, gone bool) {
		if u.GetName() != s.name {
			return
		}
		ev := event{trGone: gone}
		if !gone {
			stage, _, _ := unstructured.NestedString(u.Object, "status", "stage")
			ev.stage = &stage
		}
		select {
		case out <- ev:
		case <-ctx.Done():
		}
	}
	s.follow(ctx, out, "TestRuns",
		func() (watch.Interface, error) {
			return res.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + s.name})
		},
		func() error {
			u, err := res.Get(ctx, s.name, metav1.GetOptions{})
			if err == nil {
				send(u, false)
			}
			return ignoreNotFound(err)
		},
		func(ev watch.Event) {
			if u, ok := ev.Object.(*unstructured.Unstructured); ok {
				send(u, ev.Type == watch.Deleted)
			}
		})
}

// watchPods sends each change of the step's pods until ctx ends.
func (s *stepRun) watchPods(ctx context.Context, out chan<- event) {
	pods := s.e.c.Kube.CoreV1().Pods(s.e.cfg.Namespace)
	opts := metav1.ListOptions{LabelSelector: s.podSelector()}
	send := func(p *corev1.Pod, gone bool) {
		if p.Labels[operatorLabelCR] != s.name {
			return
		}
		select {
		case out <- event{pod: p, podGone: gone}:
		case <-ctx.Done():
		}
	}
	s.follow(ctx, out, "pods",
		func() (watch.Interface, error) { return pods.Watch(ctx, opts) },
		func() error {
			list, err := pods.List(ctx, opts)
			if err == nil {
				for i := range list.Items {
					send(&list.Items[i], false)
				}
			}
			return err
		},
		func(ev watch.Event) {
			if p, ok := ev.Object.(*corev1.Pod); ok {
				send(p, ev.Type == watch.Deleted)
			}
		})
}

// follow keeps a watch open until ctx ends: it opens it, catches up with a
// read (what changed before the watch began), and passes on its events;
// when the API server closes the watch, it does it again. A refusal (RBAC)
// ends the step with an error; other errors are retried every second.
func (s *stepRun) follow(ctx context.Context, out chan<- event, what string, open func() (watch.Interface, error), catchUp func() error, handle func(watch.Event)) {
	for ctx.Err() == nil {
		w, err := open()
		if err == nil {
			err = catchUp()
			if err != nil {
				w.Stop()
			}
		}
		if err != nil {
			if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
				select {
				case out <- event{err: fmt.Errorf("%w: watching %s in namespace %s: %v (apply deploy/k6-operator/rbac.yaml)", ErrConfig, what, s.e.cfg.Namespace, err)}:
				case <-ctx.Done():
				}
				return
			}
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
			}
			continue
		}
		func() {
			defer w.Stop()
			for {
				select {
				case ev, ok := <-w.ResultChan():
					if !ok || ev.Type == watch.Error {
						return
					}
					handle(ev)
				case <-ctx.Done():
					return
				}
			}
		}()
	}
}

// createStepSecret creates the step's Secret, and notes it for Close.
func (e *Executor) createStepSecret(ctx context.Context, secret *corev1.Secret) error {
	if _, err := e.c.Kube.CoreV1().Secrets(e.cfg.Namespace).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the step's Secret %s/%s: %w", e.cfg.Namespace, secret.Name, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stepSecrets[secret.Name] = true
	return nil
}

func (e *Executor) forgetStepSecret(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.stepSecrets, name)
}

// deleteStep deletes the step's TestRun (its jobs and pods go with it,
// garbage-collected in the background), ConfigMap and Secret, and waits
// for the step's pods to be gone, at most CleanupTimeout. It does not use
// the step's context: a cancelled step is cleaned up too.
func (e *Executor) deleteStep(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.CleanupTimeout)
	defer cancel()
	secretErr := ignoreNotFound(e.c.Kube.CoreV1().Secrets(e.cfg.Namespace).Delete(ctx, name, metav1.DeleteOptions{}))
	if secretErr == nil {
		e.forgetStepSecret(name)
	}
	err := errors.Join(
		ignoreNotFound(e.c.Dynamic.Resource(TestRunGVR).Namespace(e.cfg.Namespace).Delete(ctx, name, background())),
		ignoreNotFound(e.c.Kube.CoreV1().ConfigMaps(e.cfg.Namespace).Delete(ctx, name, metav1.DeleteOptions{})),
		secretErr)
	pods := e.c.Kube.CoreV1().Pods(e.cfg.Namespace)
	for {
		list, lerr := pods.List(ctx, metav1.ListOptions{LabelSelector: operatorLabelCR + "=" + name})
		if lerr == nil && len(list.Items) == 0 {
			return err
		}
		select {
		case <-ctx.Done():
			left := "?"
			if lerr == nil {
				left = strconv.Itoa(len(list.Items))
			}
			return errors.Join(err, fmt.Errorf("%s pods of TestRun %s were still there %s after it was deleted", left, name, e.cfg.CleanupTimeout))
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// result fills res from the runners' streams: each runner's seconds file
// and record, the merged seconds and file. checkData says whether a runner
// that sent nothing failed (not when the step was cut short).
func (s *stepRun) result(res *k6step.Result, streams []collect.Stream, checkData bool) error {
	byRunner := map[string]collect.Stream{}
	for _, st := range streams {
		byRunner[st.Runner] = st
	}
	failed := s.anyFailed()
	var errs []error
	secs := make([][]measure.Second, 0, s.n)
	began := make([]time.Time, 0, s.n)
	for i := 1; i <= s.n; i++ {
		id := strconv.Itoa(i)
		one := k6step.RunnerResult{ID: id, Segment: k6step.Segment(i, s.n), SecondsFile: s.secondsFile(i), LogFile: s.logFile(i),
			ExitCode: s.exitCode[i-1], Finished: s.ended[i-1], Failure: s.failure[i-1]}
		if one.Finished.IsZero() {
			one.Finished = res.Finished
		}
		st, ok := byRunner[id]
		switch {
		case ok:
			one.Seconds, one.Began, one.ByCompletion = measure.FoldLate(st.Seconds), st.Header.Began(), !st.Header.ByOffered()
			if err := writeSeconds(filepath.Join(s.e.cfg.Dir, one.SecondsFile), st.Header, st.Seconds); err != nil {
				errs = append(errs, err)
			}
		case checkData && !failed && one.Failure == "":
			one.Failure = fmt.Sprintf("runner %d sent no measurements to the collector at %s: can the runner pods reach --collect-url? (see %s)", i, s.e.cfg.CollectURL, one.LogFile)
			s.logf(i-1, "%s", one.Failure)
		}
		res.ExitCode = max(res.ExitCode, one.ExitCode)
		res.Runners = append(res.Runners, one)
		secs, began = append(secs, one.Seconds), append(began, one.Began)
		res.ByCompletion = res.ByCompletion || one.ByCompletion
	}
	res.Seconds = measure.MergeRunners(secs...)
	res.Began, _ = measure.LoadSpan(began, s.spec.Duration)
	if err := writeSeconds(filepath.Join(s.e.cfg.Dir, res.SecondsFile), measure.NewHeader(res.Began).Recounted(res.ByCompletion), res.Seconds); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("writing the step's seconds: %w", err)
	}
	return nil
}

// writeSeconds writes a seconds file as k6's output writes it: the header,
// when the load began (a began_at line, if known), then each record.
func writeSeconds(path string, h measure.Header, secs []measure.Second) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := measure.NewWriter(f)
	began := h.BeganAt
	h.BeganAt = time.Time{}
	err = w.WriteHeader(h)
	if err == nil && !began.IsZero() {
		err = w.WriteBegan(began)
	}
	for _, sec := range secs {
		if err == nil {
			err = w.WriteSecond(sec)
		}
	}
	return errors.Join(err, f.Close())
}

// stopLogs waits a little for the runners' log streams to end (their pods
// are gone or going), then cuts them.
func (s *stepRun) stopLogs() {
	done := make(chan struct{})
	go func() {
		for _, l := range s.logs {
			l.wait()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		for _, l := range s.logs {
			l.cancel()
		}
		<-done
	}
}

func (s *stepRun) closeLogs() {
	for _, l := range s.logs {
		l.close()
	}
}

// runnerLog is a runner's log file: the executor's notes and its pod's
// log, followed while the pod runs, secrets redacted.
type runnerLog struct {
	mu        sync.Mutex
	file      *os.File
	w         io.Writer
	flush     func()
	following string // the pod followed
	stop      context.CancelFunc
	wg        sync.WaitGroup
}

func openRunnerLog(path string, secrets []string) (*runnerLog, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	rw := redact.NewWriter(f, redact.New(secrets...))
	return &runnerLog{file: f, w: rw, flush: rw.Flush, stop: func() {}}, nil
}

func (l *runnerLog) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format+"\n", args...)
}

// follow copies pod p's log into the file, once per pod, until the pod's
// container ends or cancel.
func (l *runnerLog) follow(e *Executor, p *corev1.Pod) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.following == p.Name {
		return
	}
	l.following = p.Name
	fmt.Fprintf(l.w, "# pod %s on node %s\n", p.Name, p.Spec.NodeName)
	ctx, cancel := context.WithCancel(context.Background())
	l.stop = cancel
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		stream, err := e.c.Kube.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: "k6", Follow: true}).Stream(ctx)
		if err != nil {
			l.printf("# reading the pod's log: %v", err)
			return
		}
		defer stream.Close()
		w := &lockedWriter{l: l}
		_, err = io.Copy(w, stream)
		switch {
		case err != nil && ctx.Err() == nil:
			l.printf("\n# reading the pod's log: %v", err)
		case w.partial:
			l.printf("") // end the log's last line
		}
	}()
}

// lockedWriter writes a pod's log into the file, between the executor's
// notes.
type lockedWriter struct {
	l       *runnerLog
	partial bool // the last write did not end a line
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	if len(p) > 0 {
		w.partial = p[len(p)-1] != '\n'
	}
	return w.l.w.Write(p)
}

func (l *runnerLog) wait() { l.wg.Wait() }

func (l *runnerLog) cancel() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stop()
}

func (l *runnerLog) close() {
	l.cancel()
	l.wg.Wait()
	l.flush()
	l.file.Close()
}
