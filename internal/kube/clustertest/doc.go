// Package clustertest holds the end-to-end tests that need a real
// Kubernetes cluster with k6-operator: the one `make cluster` runs on this
// machine (deploy/cluster), or any other whose kubeconfig is in
// $KUBECONFIG and which holds the images they name. They run only under
// `make test-k8s` (LOADGEN_K8S_TESTS=1) and skip, saying why, otherwise or
// when no cluster answers: `make test` stays cluster-free.
//
// The tests run the built loadgen (LOADGEN_BIN) as a user would, against
// the reference target deployed as a Deployment and a Service of the
// image localhost/loadgen:local, with runners of localhost/loadgen-k6:local
// (deploy/cluster/images.sh builds both from this repository).
package clustertest
