# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables are used by the scripts that source this file
# Settings and helpers shared by the cluster scripts (deploy/cluster). Sourced, never run.

KUBE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$KUBE_DIR/../.." && pwd)
K6OP_SRC="$REPO_DIR/third_party/k6-operator"
# The project's own static binaries for the images (make cluster builds them: make image-bins).
IMAGE_BINS=${IMAGE_BINS:-$REPO_DIR/bin/image}

KUBE_WORK=${KUBE_WORK:-$HOME/.cache/loadgen-kube}
BIN="$KUBE_WORK/bin"       # cached binaries (build.sh)
SRC="$KUBE_WORK/src"       # scratch Go modules (build.sh)
PKI="$KUBE_WORK/pki"       # certificates (up.sh)
PIDS="$KUBE_WORK/pids"     # one file per started process (up.sh, down.sh)
LOGS="$KUBE_WORK/logs"
RUN="$KUBE_WORK/run"       # state of the running cluster; wiped by down.sh
export KUBECONFIG="$KUBE_WORK/admin.conf"

K8S_VERSION=v1.37.2
K8S_STAGING_VERSION=v0.37.2
K6_VERSION=v2.2.0

# Network: the node IP lives on our own bridge, which is also the CNI bridge.
BRIDGE=lgkube0
NODE_IP=198.18.0.1
NODE_CIDR=198.18.0.0/16
POD_RANGE_START=198.18.1.2
POD_RANGE_END=198.18.255.250
SERVICE_CIDR=198.19.0.0/16
KUBERNETES_SVC_IP=198.19.0.1
NODE_NAME=${NODE_NAME:-loadgen-node}

# Images are built locally and never pulled (imagePullPolicy: Never).
PAUSE_IMAGE=localhost/pause:3.10
BUSYBOX_IMAGE=localhost/busybox:local
K6_IMAGE=localhost/loadgen-k6:local       # this repository's k6 with xk6-steamtrap
LOADGEN_IMAGE=localhost/loadgen:local    # bin/loadgen (the reference target runs from it)
STARTER_IMAGE=localhost/k6-starter:local
OPERATOR_IMAGE=localhost/k6-operator:local

CTR_SOCK="$RUN/containerd/containerd.sock"

K8S_BINS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

log() { printf '\033[1m[kube %s]\033[0m %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

need_root() { [[ $(id -u) == 0 ]] || die "must run as root (containerd, kubelet, iptables need it)"; }

kubectl() { "$BIN/kubectl" "$@"; }
ctr() { command ctr --address "$CTR_SOCK" "$@"; }

# alive PID: true when PID runs (a zombie waiting to be reaped does not count).
alive() {
	local stat
	kill -0 "$1" 2>/dev/null && stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# pid_alive NAME: true when the process recorded under NAME still runs.
pid_alive() {
	local f="$PIDS/$1.pid"
	[[ -s $f ]] && alive "$(cat "$f")"
}

# wait_for SECONDS DESCRIPTION CMD...: retries CMD once a second.
wait_for() {
	local secs=$1 what=$2
	shift 2
	local i
	for ((i = 0; i < secs; i++)); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 1
	done
	return 1
}
