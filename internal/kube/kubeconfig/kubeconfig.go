// Package kubeconfig finds the cluster a command talks to, as kubectl
// does: --kubeconfig, else $KUBECONFIG, else ~/.kube/config, else the pod's
// service account.
package kubeconfig

import (
	"errors"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/greenlang/loadgen/internal/kit/exitcode"
)

// ErrNoConfig is Load's error when there is no configuration at all: no
// kubeconfig file and not in a pod.
var ErrNoConfig = errors.New("no kubeconfig ($KUBECONFIG, ~/.kube/config), and not in a pod: give --kubeconfig FILE")

// Load returns the cluster's address and credentials from path (or the
// defaults above) and the namespace: namespace if given, else the
// kubeconfig context's, else "default".
func Load(path, namespace string) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	rc, err := cc.ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		return nil, "", ErrNoConfig
	} else if err != nil {
		return nil, "", err
	}
	if namespace == "" {
		if namespace, _, err = cc.Namespace(); err != nil {
			return nil, "", err
		}
	}
	return rc, namespace, nil
}

// Clients are the typed and dynamic clients of one cluster.
type Clients struct {
	Kube      kubernetes.Interface
	Dynamic   dynamic.Interface
	Namespace string
}

// Connect loads the configuration (see Load) and makes both clients. Its
// errors are bad input (exit 2), naming --kubeconfig.
func Connect(path, namespace string) (*Clients, error) {
	rc, ns, err := Load(path, namespace)
	if err != nil {
		return nil, exitcode.Usage("--kubeconfig: %v", err)
	}
	kube, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, exitcode.Usage("--kubeconfig: %v", err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, exitcode.Usage("--kubeconfig: %v", err)
	}
	return &Clients{Kube: kube, Dynamic: dyn, Namespace: ns}, nil
}
