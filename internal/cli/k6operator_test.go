package cli

import (
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite deploy/k6-operator/testrun-example.yaml from the dry run")

// exampleArgs make deploy/k6-operator/testrun-example.yaml.
var exampleArgs = []string{"stress", "--target", "http://gl008.staging.svc:8080", "--executor", "k6-operator", "--runners", "4",
	"--namespace", "load", "--runner-image", "registry.example.com/loadgen-k6:v1", "--collect-url", "https://10.0.0.5:6566",
	"--search", "adaptive", "--start", "400", "--dry-run"}

// The example TestRun in the deployment kit is what the executor creates
// (the dry run's TestRun, with its random campaign id made "example1").
func TestK6OperatorExampleIsTheDryRun(t *testing.T) {
	t.Setenv("API_TOKEN", "example-token") // shown as its Secret reference
	out, errOut, code := runCLI(t, exampleArgs...)
	require.Equal(t, 0, code, errOut)
	docs := strings.Split(out, "---\n")
	require.Len(t, docs, 5)
	id := regexp.MustCompile(`loadgen.greenlang.io/campaign: ([a-z0-9]+)`).FindStringSubmatch(docs[4])
	require.NotNil(t, id)
	testRun := strings.ReplaceAll(docs[4], id[1], "example1")
	assert.NotContains(t, out, "example-token")
	header := "# A step of `loadgen " + strings.Join(exampleArgs, " ") + "`:\n" +
		"# the TestRun the k6-operator executor creates (internal/cli's TestK6OperatorExampleIsTheDryRun keeps it\n" +
		"# so; go test ./internal/cli -run ExampleIsTheDryRun -update). Beside it, per step, a ConfigMap with the\n" +
		"# script and a Secret of the same name (collect-token: the collector's token for this step only), and per\n" +
		"# campaign the Secret loadgen-<id> (collect-ca: the collector's CA certificate; env-NAME for API_TOKEN and each --secret-env NAME).\n---\n"
	path := "../../deploy/k6-operator/testrun-example.yaml"
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(header+testRun), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), header+testRun)
}

// The dry run prints what the first step would create, and nothing secret,
// without a cluster (and without asking before a target it will not load).
func TestStressK6OperatorDryRun(t *testing.T) {
	t.Setenv("API_TOKEN", "target-s3cr3t")
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	out, errOut, code := runCLI(t, "stress", "--target", "http://10.1.2.3:8080", "--executor", "k6-operator", "--runners", "4",
		"--runner-image", "registry.example/loadgen-k6:v1", "--start", "200", "--dry-run", "--collect-url", "https://10.0.0.5:6566")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, 4, strings.Count(out, "---\n"))
	for _, want := range []string{"kind: Secret", "kind: ConfigMap", "kind: TestRun", "namespace: default", "parallelism: 4",
		"image: registry.example/loadgen-k6:v1", "name: API_TOKEN", "key: env-API_TOKEN", "key: collect-token", "key: collect-ca",
		"env-API_TOKEN: <generated for each campaign; never printed>", "collect-token: <generated for each campaign; never printed>",
		"steamtrap=https://10.0.0.5:6566/v1/steps/step-01/seconds", "-e RATE=200", "-e BASE_URL=http://10.1.2.3:8080"} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out+errOut, "target-s3cr3t")
	assert.NotContains(t, errOut, "confirm")
	assert.NotContains(t, out, "STEAMTRAP_COLLECT_INSECURE")
	assert.NotContains(t, errOut, "warning")

	// Over plain HTTP: said so, and the runners told so.
	out, errOut, code = runCLI(t, "stress", "--target", "http://10.1.2.3:8080", "--executor", "k6-operator", "--runner-image", "img:v1",
		"--dry-run", "--collect-url", "http://10.0.0.5:6566", "--collect-insecure")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "steamtrap=http://10.0.0.5:6566/v1/steps/step-01/seconds")
	assert.Contains(t, out, "- name: STEAMTRAP_COLLECT_INSECURE\n      value: \"true\"\n")
	assert.NotContains(t, out, "collect-ca")
	assert.Contains(t, errOut, "warning: --collect-insecure: the collector serves plain HTTP: the bearer token and records travel in clear")
	assert.NotContains(t, out+errOut, "target-s3cr3t")
}

func TestStressK6OperatorBadInput(t *testing.T) {
	t.Parallel()
	k8s := []string{"stress", "--target", "http://10.1.2.3:8080", "--yes", "--executor", "k6-operator", "--runner-image", "img:v1",
		"--collect-addr", "127.0.0.1:0", "--out", filepath.Join(t.TempDir(), "run")}
	noK6Operator := apiServer(t, http.StatusNotFound)
	forbidden := apiServer(t, http.StatusForbidden)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{append(k8s[:6:6], "--dry-run"), "needs --runner-image"},
		{[]string{"stress", "--target", "http://127.0.0.1:9", "--dry-run"}, "--dry-run shows the Kubernetes objects of --executor k6-operator"},
		{append(k8s, "--dry-run", "--collect-url", "10.0.0.5:6566"), `--collect-url "10.0.0.5:6566": want https://HOST:PORT`},
		{append(k8s, "--env", "NOTE=two words", "--dry-run"), "cannot travel in a TestRun"},
		{k8s, "needs --collect-url"},
		{append(k8s, "--collect-url", "http://10.0.0.5:6566"), "--collect-url http://10.0.0.5:6566 is plain HTTP: the collector's bearer token and the runners' records would travel in clear. Give https://10.0.0.5:6566"},
		{append(k8s, "--collect-url", "http://10.0.0.5:6566", "--dry-run"), "or add --collect-insecure to send in clear on a network you trust"},
		{append(k8s, "--collect-url", "https://10.0.0.5:6566", "--collect-insecure"), "--collect-insecure is for an http:// --collect-url"},
		{append(k8s, "--collect-url", "https://10.0.0.5:6566", "--kubeconfig", "/nonexistent/kubeconfig"), "--kubeconfig"},
		{append(k8s, "--collect-url", "https://10.0.0.5:6566", "--kubeconfig", noK6Operator), "is k6-operator installed?"},
		{append(k8s, "--collect-url", "https://10.0.0.5:6566", "--kubeconfig", forbidden), "apply deploy/k6-operator/rbac.yaml"},
		// --collect-insecure passes the checks, warns, and the campaign
		// goes on to the cluster.
		{append(k8s, "--collect-url", "http://10.0.0.5:6566", "--collect-insecure", "--kubeconfig", noK6Operator), "warning: --collect-insecure"},
		{[]string{"sweep", "--target", "http://10.1.2.3:8080", "--yes", "--scaler", "kubernetes", "--deployment", "d", "--replicas", "1",
			"--executor", "k6-operator", "--runner-image", "img:v1", "--collect-url", "http://10.0.0.5:6566"}, "is plain HTTP"},
	} {
		_, errOut, code := runCLI(t, tc.args...)
		assert.Equal(t, ExitBadInput, code, "%v: %s", tc.args, errOut)
		assert.Contains(t, errOut, tc.want, tc.args)
		assert.NotContains(t, errOut, "goroutine", tc.args)
	}
}

// apiServer is a Kubernetes API that answers every request with code, and
// a kubeconfig to reach it.
func apiServer(t *testing.T, code int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		reason := map[int]string{http.StatusNotFound: "NotFound", http.StatusForbidden: "Forbidden"}[code]
		fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"the server says %d","reason":%q,"code":%d}`, code, reason, code)
	}))
	t.Cleanup(srv.Close)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(path, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: %q}}]
users: [{name: fake, user: {token: fake}}]
contexts: [{name: fake, context: {cluster: fake, user: fake, namespace: load}}]
current-context: fake
`, srv.URL)), 0o600))
	return path
}
