package clustertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
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
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/greenlang/loadgen/internal/kube/k6operator"
	"github.com/greenlang/loadgen/internal/kube/kubeconfig"
	"github.com/greenlang/loadgen/internal/testutil/metricsadapter"
)

// The images deploy/cluster/images.sh makes; imagePullPolicy IfNotPresent
// (their tag is not "latest") uses them without a registry.
const (
	runnerImage  = "localhost/loadgen-k6:local"
	targetImage  = "localhost/loadgen:local"
	starterImage = "localhost/k6-starter:local"
)

// kube is the cluster under test.
type kube struct {
	path string // the kubeconfig
	rc   *rest.Config
	cs   kubernetes.Interface
	dyn  dynamic.Interface
	// nodeIP is the node's InternalIP: the runner pods reach this
	// machine's collector there.
	nodeIP string
}

// cluster returns the cluster of $KUBECONFIG, or skips the test: without
// LOADGEN_K8S_TESTS=1 (make test-k8s sets it), or when the cluster does not
// answer. The tests run in parallel, each in its own namespace, and take
// turns on the machine's two cores: the two that measure a capacity
// (k.alone) run one at a time and beside no other test but the HPA's
// (10–120 req/s, mostly waiting for the controller's syncs); the
// short ones that start pods in bursts (k.shared) run together, between
// them.
func cluster(t *testing.T) *kube {
	t.Helper()
	if os.Getenv("LOADGEN_K8S_TESTS") != "1" {
		t.Skip("Kubernetes end-to-end test: runs under make test-k8s (LOADGEN_K8S_TESTS=1), against the cluster of make cluster")
	}
	path := os.Getenv("KUBECONFIG")
	if path == "" {
		path = filepath.Join(os.Getenv("HOME"), ".cache", "loadgen-kube", "admin.conf")
	}
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no Kubernetes cluster: %v (make cluster starts one; make test-k8s does it for you)", err)
	}
	rc, _, err := kubeconfig.Load(path, "")
	require.NoError(t, err)
	cl, err := kubeconfig.Connect(path, "")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nodes, err := cl.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Skipf("no Kubernetes cluster answers at %s: %v (make cluster starts one)", path, err)
	}
	k := &kube{path: path, rc: rc, cs: cl.Kube, dyn: cl.Dynamic}
	for _, n := range nodes.Items {
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP && k.nodeIP == "" {
				k.nodeIP = a.Address
			}
		}
	}
	require.NotEmpty(t, k.nodeIP, "no node with an InternalIP")
	t.Parallel()
	return k
}

// machine is held exclusively by a test that measures a capacity (with
// hundreds to thousands of requests per second, whose verdicts depend on
// the CPU the generator and the target get), and shared by the short tests
// that start pods in bursts. (A capacity measured while a dozen pods start
// beside it was 96 req/s for a 250 req/s pod: the target's pod starved.)
var machine sync.RWMutex

// alone waits until no other test but the HPA's runs, and holds the
// machine for the rest of the test.
func (k *kube) alone(t *testing.T) {
	machine.Lock()
	t.Cleanup(machine.Unlock)
}

// shared runs the test beside the other short ones, never beside a
// capacity being measured.
func (k *kube) shared(t *testing.T) {
	machine.RLock()
	t.Cleanup(machine.RUnlock)
}

// namespace creates a namespace for the test, deleted (and waited for) when
// it ends.
func (k *kube) namespace(t *testing.T, prefix string) string {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("%s-%04x", prefix, rand.IntN(1<<16))
	_, err := k.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = k.cs.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
		deadline := time.Now().Add(2 * time.Minute)
		for time.Now().Before(deadline) {
			if _, err := k.cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
				return
			}
			time.Sleep(time.Second)
		}
		t.Errorf("namespace %s still there 2 min after its deletion", name)
	})
	// Pods are refused until the namespace's default ServiceAccount exists.
	k.eventually(t, time.Minute, "the default ServiceAccount of "+name, func() error {
		_, err := k.cs.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
		return err
	})
	return name
}

// eventually retries f once a second until it returns nil or the time is
// up.
func (k *kube) eventually(t *testing.T, limit time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	var err error
	for {
		if err = f(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, limit, err)
		}
		time.Sleep(time.Second)
	}
}

// target deploys the reference target (loadgen target, one simulated pod
// per pod) as a Deployment of the given replicas and a Service in front of
// it, waits until it is ready and this machine reaches it through the
// Service, and returns the Service's URL.
func (k *kube) target(t *testing.T, ns, name string, replicas int32, args ...string) string {
	t.Helper()
	ctx := context.Background()
	labels := map[string]string{"app": name}
	grace := int64(2)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: &grace,
					Containers: []corev1.Container{{
						Name: "target", Image: targetImage, ImagePullPolicy: corev1.PullIfNotPresent,
						Args:  append([]string{"target", "--addr", "0.0.0.0:8080", "--allow-remote", "--replicas", "1", "--shutdown-timeout", "1s"}, args...),
						Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
						ReadinessProbe: &corev1.Probe{PeriodSeconds: 1,
							ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}}},
					}},
				},
			},
		},
	}
	_, err := k.cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
	require.NoError(t, err)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.ServiceSpec{Selector: labels,
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
	}
	svc, err = k.cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
	require.NoError(t, err)
	k.ready(t, ns, name, replicas)
	url := "http://" + svc.Spec.ClusterIP
	// kube-proxy answers "connection refused" until it has synced the
	// endpoints; before it has a rule for the ClusterIP at all, this
	// machine's default route takes the request off the machine, to
	// whatever answers there (this project machine's egress proxy: 404,
	// "server: keryx"). A kept-alive connection to that would take every
	// later try with it — for a minute, three times, under -parallel 8 — so
	// each try opens a connection of its own, which kube-proxy's rules see.
	probe := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	k.eventually(t, time.Minute, "the target's Service from this machine", func() error {
		resp, err := probe.Get(url + "/metrics")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			// Something other than the target has answered: say what,
			// and where the Service's endpoints are.
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
			return fmt.Errorf("GET /metrics: %s (Server %q, %q); the Service's endpoints: %s", resp.Status, resp.Header.Get("Server"), body, k.endpoints(ns, name))
		}
		return nil
	})
	return url
}

// endpoints are the addresses of the Service's EndpointSlices and the pods
// they name, in words (for an error).
func (k *kube) endpoints(ns, name string) string {
	slices, err := k.cs.DiscoveryV1().EndpointSlices(ns).List(context.Background(),
		metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + name})
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, sl := range slices.Items {
		for _, e := range sl.Endpoints {
			pod := ""
			if e.TargetRef != nil {
				pod = e.TargetRef.Name
			}
			out = append(out, fmt.Sprintf("%v %s ready=%v", e.Addresses, pod, e.Conditions.Ready != nil && *e.Conditions.Ready))
		}
	}
	return "[" + strings.Join(out, "; ") + "]"
}

// ready waits until the Deployment has replicas ready pods and no others.
func (k *kube) ready(t *testing.T, ns, name string, replicas int32) {
	t.Helper()
	k.eventually(t, 2*time.Minute, fmt.Sprintf("deployment %s/%s: %d ready", ns, name, replicas), func() error {
		d, err := k.cs.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if d.Status.ReadyReplicas != replicas || d.Status.Replicas != replicas || d.Status.UpdatedReplicas != replicas {
			return fmt.Errorf("%d ready, %d in all, want %d", d.Status.ReadyReplicas, d.Status.Replicas, replicas)
		}
		return nil
	})
}

// served is the target's own counter of the requests it answered for a
// service (http_requests_total{service=...}, every endpoint and code) over
// the pods behind url (none yet before the first request). With one pod
// behind the Service, that is the pod's.
func served(t *testing.T, url, service string) int64 {
	t.Helper()
	n, err := metricsadapter.Sum(context.Background(), http.DefaultClient, url+"/metrics", "http_requests_total",
		labels.SelectorFromSet(labels.Set{"service": service}))
	if errors.Is(err, metricsadapter.ErrNoSample) {
		return 0
	}
	require.NoError(t, err)
	return int64(n)
}

// leftovers lists what loadgen created in the namespace and did not delete:
// TestRuns, ConfigMaps and Secrets labelled managed-by=loadgen, and the
// runner pods.
func (k *kube) leftovers(t *testing.T, ns string) []string {
	t.Helper()
	ctx := context.Background()
	sel := metav1.ListOptions{LabelSelector: k6operator.LabelManagedBy + "=" + k6operator.ManagedBy}
	var out []string
	trs, err := k.dyn.Resource(k6operator.TestRunGVR).Namespace(ns).List(ctx, sel)
	require.NoError(t, err)
	for _, tr := range trs.Items {
		out = append(out, "testrun/"+tr.GetName())
	}
	cms, err := k.cs.CoreV1().ConfigMaps(ns).List(ctx, sel)
	require.NoError(t, err)
	for _, cm := range cms.Items {
		out = append(out, "configmap/"+cm.Name)
	}
	secrets, err := k.cs.CoreV1().Secrets(ns).List(ctx, sel)
	require.NoError(t, err)
	for _, s := range secrets.Items {
		out = append(out, "secret/"+s.Name)
	}
	pods, err := k.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=k6"})
	require.NoError(t, err)
	for _, p := range pods.Items {
		out = append(out, "pod/"+p.Name)
	}
	return out
}

// collector is a free port on the node's address for a campaign's
// collector: --collect-addr and --collect-url, https (the default: the
// collector's certificate is for the node's address, from the campaign's
// CA, which the runner pods get in its Secret).
func (k *kube) collector(t *testing.T) []string {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(k.nodeIP, "0"))
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return []string{"--collect-addr", addr, "--collect-url", "https://" + addr}
}

// operatorFlags are a campaign's flags for the k6-operator executor in ns.
func (k *kube) operatorFlags(t *testing.T, ns string, runners int) []string {
	return append([]string{"--executor", "k6-operator", "--runners", strconv.Itoa(runners), "--namespace", ns,
		"--kubeconfig", k.path, "--runner-image", runnerImage, "--starter-image", starterImage}, k.collector(t)...)
}

// result is how a loadgen command ended.
type result struct {
	code           int
	stdout, stderr string
}

// loadgenBin is the loadgen under test: LOADGEN_BIN (make test-k8s sets
// it to bin/loadgen).
func loadgenBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("LOADGEN_BIN")
	if bin == "" {
		t.Fatal("LOADGEN_BIN is not set: run make test-k8s")
	}
	return bin
}

// command is a loadgen command, started with start and ended by wait.
type command struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
}

func start(t *testing.T, args ...string) *command {
	t.Helper()
	c := &command{cmd: exec.Command(loadgenBin(t), args...)}
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	c.cmd.Env = append(os.Environ(), "NO_COLOR=1")
	t.Logf("loadgen %s", strings.Join(args, " "))
	require.NoError(t, c.cmd.Start())
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			_ = c.cmd.Process.Kill()
			_ = c.cmd.Wait()
			t.Logf("loadgen killed at the test's end; stdout:\n%s\nstderr:\n%s", tail(c.stdout.String(), 4000), tail(c.stderr.String(), 4000))
		}
	})
	return c
}

// interrupt sends SIGINT, as Ctrl-C does.
func (c *command) interrupt(t *testing.T) {
	t.Helper()
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGINT))
}

func (c *command) wait(t *testing.T, limit time.Duration) result {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(limit):
		_ = c.cmd.Process.Kill()
		<-done
		t.Fatalf("loadgen did not end within %s; stdout:\n%s\nstderr:\n%s", limit, c.stdout.String(), c.stderr.String())
	}
	r := result{code: c.cmd.ProcessState.ExitCode(), stdout: c.stdout.String(), stderr: c.stderr.String()}
	t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, tail(r.stdout, 4000), tail(r.stderr, 4000))
	return r
}

// loadgen runs a command to its end.
func loadgen(t *testing.T, limit time.Duration, args ...string) result {
	t.Helper()
	return start(t, args...).wait(t, limit)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

func errNotYet(n, want int) error { return fmt.Errorf("%d of %d", n, want) }

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
