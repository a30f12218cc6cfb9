package cli

import (
	"github.com/spf13/pflag"

	"github.com/greenlang/loadgen/internal/session"
)

// k6operatorFlags are the k6-operator executor's machine-side settings
// (session.Kube), and --dry-run.
type k6operatorFlags struct {
	session.Kube
	dryRun bool
}

func bindK6OperatorFlags(fl *pflag.FlagSet, f *k6operatorFlags) {
	fl.StringVar(&f.Kubeconfig, "kubeconfig", "", "k6-operator: kubeconfig file (default $KUBECONFIG, then ~/.kube/config; inside a pod, its service account)")
	fl.StringVar(&f.CollectAddr, "collect-addr", session.DefaultCollectAddr, "k6-operator: where the driver's collector listens for the runners' per-second records")
	fl.StringVar(&f.CollectURL, "collect-url", "", "k6-operator: the collector as the runner pods reach it, e.g. https://10.0.0.5:6566 (required; TLS with a certificate for its host from a CA made for the campaign, which the runners trust)")
	fl.BoolVar(&f.CollectInsecure, "collect-insecure", false, "k6-operator: serve the collector over plain HTTP, for an http:// --collect-url: the runners' bearer token and records travel in clear (a network you trust only)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "k6-operator: print the first step's objects (Secret with its values hidden, ConfigMap, TestRun) as YAML and exit, contacting nothing")
}
