#!/usr/bin/env bash
# up.sh: starts a single-node Kubernetes cluster from the binaries build.sh made:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, containerd, kubelet,
# kube-proxy (iptables mode), then installs the k6-operator CRDs and runs its manager as a
# Deployment. Every host process's PID goes to $KUBE_WORK/pids/<name>.pid (down.sh reads them).
# When everything is ready it writes $KUBE_WORK/admin.conf. Running it again while the
# cluster is up only checks and starts what is missing.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_root

KCFG="$RUN/kubeconfig"
ADMIN_RUN="$KCFG/admin.conf"
CGROUP_NAME=loadgen-kube
ETCD_CLIENT=http://127.0.0.1:12379
APISERVER=https://$NODE_IP:6443

kubectl() { "$BIN/kubectl" --kubeconfig "$ADMIN_RUN" "$@"; }

preflight() {
	local b c
	for b in "${K8S_BINS[@]}" k6-operator-manager pause; do
		[[ -x $BIN/$b ]] || die "$BIN/$b missing: run $KUBE_DIR/build.sh first"
	done
	for b in k6 loadgen; do
		[[ -x $IMAGE_BINS/$b ]] || die "$IMAGE_BINS/$b missing: run make image-bins first (make cluster does)"
	done
	for c in etcd containerd containerd-shim-runc-v2 runc ctr iptables conntrack openssl ip curl setsid; do
		command -v "$c" >/dev/null || die "$c not found: run $KUBE_DIR/build.sh first (it installs the packages)"
	done
	for c in bridge host-local loopback; do
		[[ -x /usr/lib/cni/$c ]] || die "/usr/lib/cni/$c missing (package containernetworking-plugins)"
	done
	[[ -d /sys/fs/cgroup/memory ]] || [[ -f /sys/fs/cgroup/cgroup.controllers ]] || die "no cgroup hierarchy at /sys/fs/cgroup"
}

any_alive() {
	local f
	for f in "$PIDS"/*.pid; do
		[[ -e $f ]] && alive "$(cat "$f")" && return 0
	done
	return 1
}

# port_free PORT NAME: dies if something other than our NAME process listens on PORT.
port_free() {
	local port=$1 name=$2
	pid_alive "$name" && return 0
	if ss -Hltn "sport = :$port" | grep -q .; then
		die "port $port (for $name) is already in use: $(ss -Hltnp "sport = :$port" | head -1)"
	fi
}

# start_bg NAME CMD...: runs CMD detached (own session) with its log in $LOGS/NAME.log.
start_bg() {
	local name=$1
	shift
	if pid_alive "$name"; then
		log "$name already running (pid $(cat "$PIDS/$name.pid"))"
		return
	fi
	log "starting $name"
	[[ ! -f $LOGS/$name.log ]] || mv -f "$LOGS/$name.log" "$LOGS/$name.log.1"
	setsid "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
	echo $! >"$PIDS/$name.pid"
}

# must NAME SECONDS DESCRIPTION CMD...: waits for CMD and shows the log tail on failure.
must() {
	local name=$1 secs=$2 what=$3
	shift 3
	if ! wait_for "$secs" "$what" "$@"; then
		log "$name: $what not reached within ${secs}s; last lines of $LOGS/$name.log:"
		tail -n 25 "$LOGS/$name.log" >&2 || true
		die "$name failed to start (see $LOGS/$name.log)"
	fi
	pid_alive "$name" || die "$name exited (see $LOGS/$name.log)"
}

# put FILE: writes stdin to FILE only when it differs (kube-proxy exits when its config
# file changes under it, so a rerun must not touch files of running processes).
put() {
	local tmp="$1.new"
	cat >"$tmp"
	if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; fi
}

save_sysctls() {
	[[ -s $RUN/sysctl.orig ]] && return
	local k
	for k in net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables \
		vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops \
		kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.ipv4.conf.all.route_localnet; do
		if [[ -e /proc/sys/${k//.//} ]]; then echo "$k=$(sysctl -n "$k")"; fi
	done >"$RUN/sysctl.orig"
	# A copy that outlives down.sh, for leftovers.sh to check the restored values against.
	cp "$RUN/sysctl.orig" "$KUBE_WORK/sysctl.before"
}

setup_network() {
	sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
	if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
		if ip -4 route show | grep -q "^${NODE_CIDR%.*.*}\."; then
			die "addresses in $NODE_CIDR are already routed on this machine: $(ip -4 route show | grep "^${NODE_CIDR%.*.*}\.")"
		fi
		log "creating bridge $BRIDGE with node IP $NODE_IP"
		ip link add "$BRIDGE" type bridge
		touch "$RUN/bridge.created"
	fi
	ip addr show dev "$BRIDGE" | grep -q "inet $NODE_IP/" || ip addr add "$NODE_IP/${NODE_CIDR#*/}" dev "$BRIDGE"
	ip link set "$BRIDGE" up
	# Remember what existed before, so that down.sh removes only what this cluster made.
	[[ -e $RUN/netns.before ]] || { ls -1 /var/run/netns 2>/dev/null || true; } >"$RUN/netns.before"
	if [[ ! -e $RUN/dirs.created ]]; then
		local d
		for d in /run/containerd /var/lib/cni /var/run/netns /var/log/containers /var/log/pods; do
			[[ -e $d ]] || echo "$d"
		done >"$RUN/dirs.created"
	fi
}

# cert NAME CN ORG EXTENSIONS: a key and a certificate signed by our CA (kept across runs).
cert() {
	local name=$1 cn=$2 org=$3 ext=$4 subj
	if [[ -s $PKI/$name.crt && -s $PKI/$name.key ]] &&
		openssl x509 -checkend 86400 -noout -in "$PKI/$name.crt" >/dev/null; then
		return
	fi
	subj="/CN=$cn"
	[[ -z $org ]] || subj="/O=$org$subj"
	openssl genrsa -out "$PKI/$name.key" 2048 2>/dev/null
	openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr"
	printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n%b\n' "$ext" >"$PKI/$name.ext"
	openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
		-days 365 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
	rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

setup_pki() {
	mkdir -p "$PKI"
	chmod 0700 "$PKI"
	if [[ ! -s $PKI/ca.crt ]] || ! openssl x509 -checkend 86400 -noout -in "$PKI/ca.crt" >/dev/null; then
		log "generating CA and certificates in $PKI"
		rm -f "$PKI"/*
		openssl genrsa -out "$PKI/ca.key" 2048 2>/dev/null
		openssl req -x509 -new -key "$PKI/ca.key" -subj /CN=loadgen-kube-ca -days 3650 -sha256 \
			-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
			-out "$PKI/ca.crt"
	fi
	local client='extendedKeyUsage=clientAuth'
	cert apiserver kube-apiserver "" "extendedKeyUsage=serverAuth\nsubjectAltName=IP:$NODE_IP,IP:$KUBERNETES_SVC_IP,IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
	cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters "$client"
	cert admin loadgen-admin system:masters "$client"
	cert controller-manager system:kube-controller-manager "" "$client"
	cert scheduler system:kube-scheduler "" "$client"
	cert kube-proxy system:kube-proxy "" "$client"
	cert kubelet-client "system:node:$NODE_NAME" system:nodes "$client"
	cert kubelet "$NODE_NAME" "" "extendedKeyUsage=serverAuth\nsubjectAltName=IP:$NODE_IP,DNS:$NODE_NAME"
	# The aggregation layer (an APIService such as the metrics adapter's): the apiserver
	# proxies to it with this client certificate, signed by a CA of its own.
	if [[ ! -s $PKI/front-proxy-ca.crt ]] || ! openssl x509 -checkend 86400 -noout -in "$PKI/front-proxy-ca.crt" >/dev/null; then
		openssl genrsa -out "$PKI/front-proxy-ca.key" 2048 2>/dev/null
		openssl req -x509 -new -key "$PKI/front-proxy-ca.key" -subj /CN=loadgen-kube-front-proxy-ca -days 3650 -sha256 \
			-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
			-out "$PKI/front-proxy-ca.crt"
		rm -f "$PKI/front-proxy-client.crt"
	fi
	if [[ ! -s $PKI/front-proxy-client.crt ]] || ! openssl x509 -checkend 86400 -noout -in "$PKI/front-proxy-client.crt" >/dev/null; then
		openssl genrsa -out "$PKI/front-proxy-client.key" 2048 2>/dev/null
		openssl req -new -key "$PKI/front-proxy-client.key" -subj /CN=front-proxy-client -out "$PKI/front-proxy-client.csr"
		printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >"$PKI/front-proxy-client.ext"
		openssl x509 -req -in "$PKI/front-proxy-client.csr" -CA "$PKI/front-proxy-ca.crt" -CAkey "$PKI/front-proxy-ca.key" \
			-CAcreateserial -days 365 -sha256 -extfile "$PKI/front-proxy-client.ext" -out "$PKI/front-proxy-client.crt" 2>/dev/null
		rm -f "$PKI/front-proxy-client.csr" "$PKI/front-proxy-client.ext"
	fi
	if [[ ! -s $PKI/sa.key ]]; then
		openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
		openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
	fi
}

# kubeconfig FILE USER CERT (mode 0600: it holds a private key)
kubeconfig() {
	local mask
	mask=$(umask)
	umask 077
	put "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: loadgen-kube
  cluster:
    server: $APISERVER
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$3.crt")
    client-key-data: $(base64 -w0 "$PKI/$3.key")
contexts:
- name: loadgen-kube
  context: {cluster: loadgen-kube, user: $2}
current-context: loadgen-kube
EOF
	umask "$mask"
	chmod 0600 "$1"
}

start_etcd() {
	port_free 12379 etcd
	start_bg etcd etcd --name loadgen --data-dir "$RUN/etcd" \
		--listen-client-urls "$ETCD_CLIENT" --advertise-client-urls "$ETCD_CLIENT" \
		--listen-peer-urls http://127.0.0.1:12380 --initial-advertise-peer-urls http://127.0.0.1:12380 \
		--initial-cluster loadgen=http://127.0.0.1:12380 --initial-cluster-state new
	must etcd 60 "etcd /health" curl -fsS "$ETCD_CLIENT/health"
}

start_control_plane() {
	port_free 6443 kube-apiserver
	start_bg kube-apiserver "$BIN/kube-apiserver" \
		--advertise-address="$NODE_IP" --bind-address="$NODE_IP" --secure-port=6443 \
		--etcd-servers="$ETCD_CLIENT" \
		--service-cluster-ip-range="$SERVICE_CIDR" \
		--client-ca-file="$PKI/ca.crt" \
		--tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
		--kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
		--kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
		--kubelet-certificate-authority="$PKI/ca.crt" \
		--kubelet-preferred-address-types=InternalIP \
		--service-account-issuer=https://kubernetes.default.svc.cluster.local \
		--service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
		--authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
		--requestheader-client-ca-file="$PKI/front-proxy-ca.crt" \
		--requestheader-allowed-names=front-proxy-client \
		--requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
		--requestheader-extra-headers-prefix=X-Remote-Extra- \
		--proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key" \
		--enable-aggregator-routing=true \
		--allow-privileged=true --profiling=false --v=1
	must kube-apiserver 120 "/readyz" curl -fsS --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" \
		--key "$PKI/admin.key" "$APISERVER/readyz"

	port_free 10257 kube-controller-manager
	start_bg kube-controller-manager "$BIN/kube-controller-manager" \
		--kubeconfig="$KCFG/controller-manager.conf" \
		--authentication-kubeconfig="$KCFG/controller-manager.conf" \
		--authorization-kubeconfig="$KCFG/controller-manager.conf" \
		--bind-address=127.0.0.1 --leader-elect=false \
		--service-cluster-ip-range="$SERVICE_CIDR" \
		--cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
		--root-ca-file="$PKI/ca.crt" --service-account-private-key-file="$PKI/sa.key" \
		--use-service-account-credentials=true --profiling=false --v=1

	port_free 10259 kube-scheduler
	start_bg kube-scheduler "$BIN/kube-scheduler" \
		--kubeconfig="$KCFG/scheduler.conf" \
		--authentication-kubeconfig="$KCFG/scheduler.conf" \
		--authorization-kubeconfig="$KCFG/scheduler.conf" \
		--bind-address=127.0.0.1 --leader-elect=false --v=1
	must kube-controller-manager 60 "/healthz" curl -fsSk https://127.0.0.1:10257/healthz
	must kube-scheduler 60 "/healthz" curl -fsSk https://127.0.0.1:10259/healthz
}

# has_cap NUMBER: whether this process holds the capability (24 = CAP_SYS_RESOURCE).
has_cap() { (( (0x$(awk '/^CapEff/ {print $2}' /proc/self/status) >> $1) & 1 )); }

start_containerd() {
	mkdir -p "$RUN/containerd" "$RUN/cni/net.d"
	local restrict_oom=false
	has_cap 24 || { restrict_oom=true; log "no CAP_SYS_RESOURCE: containerd restrict_oom_score_adj = true"; }
	put "$RUN/containerd/config.toml" <<EOF
version = 2
root = "$RUN/containerd/root"
state = "$RUN/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$CTR_SOCK"
[ttrpc]
  address = "$CTR_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$RUN/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # Without CAP_SYS_RESOURCE (as in some VMs) runc cannot lower oom_score_adj to the
  # sandbox's -998; clamp to containerd's own value instead.
  restrict_oom_score_adj = $restrict_oom
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$RUN/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$RUN/cni/net.d"
EOF
	start_bg containerd containerd --config "$RUN/containerd/config.toml"
	must containerd 60 "socket" ctr version
	"$KUBE_DIR/images.sh"
}

write_cni() {
	put "$RUN/cni/net.d/10-loadgen.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "loadgen-kube",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$RUN/cni/ipam",
        "ranges": [[{"subnet": "$NODE_CIDR", "rangeStart": "$POD_RANGE_START",
                     "rangeEnd": "$POD_RANGE_END", "gateway": "$NODE_IP"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    }
  ]
}
EOF
}

# setup_cgroups: kubelet wants its cgroupRoot to exist in every v1 hierarchy.
setup_cgroups() {
	local h
	if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
		mkdir -p "/sys/fs/cgroup/$CGROUP_NAME"
		return
	fi
	for h in /sys/fs/cgroup/*/; do
		[[ $h == */unified/ ]] && continue
		mountpoint -q "$h" || continue
		mkdir -p "$h$CGROUP_NAME"
		if [[ -f $h/cpuset.cpus ]]; then
			[[ -n $(cat "$h$CGROUP_NAME/cpuset.cpus") ]] || cat "$h/cpuset.cpus" >"$h$CGROUP_NAME/cpuset.cpus"
			[[ -n $(cat "$h$CGROUP_NAME/cpuset.mems") ]] || cat "$h/cpuset.mems" >"$h$CGROUP_NAME/cpuset.mems"
		fi
	done
}

start_kubelet() {
	mkdir -p "$RUN/kubelet" "$RUN/pod-logs"
	put "$RUN/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$PKI/ca.crt"}
authorization: {mode: Webhook}
tlsCertFile: "$PKI/kubelet.crt"
tlsPrivateKeyFile: "$PKI/kubelet.key"
containerRuntimeEndpoint: "unix://$CTR_SOCK"
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP_NAME
failCgroupV1: false
failSwapOn: false
podLogsDir: "$RUN/pod-logs"
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
serializeImagePulls: false
evictionHard: {memory.available: 100Mi, nodefs.available: 3%, imagefs.available: 3%, nodefs.inodesFree: 3%}
imageGCHighThresholdPercent: 97
imageGCLowThresholdPercent: 95
EOF
	port_free 10250 kubelet
	start_bg kubelet "$BIN/kubelet" --config="$RUN/kubelet/config.yaml" \
		--kubeconfig="$KCFG/kubelet.conf" --root-dir="$RUN/kubelet" \
		--hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --v=1
	must kubelet 60 "/healthz" curl -fsS http://127.0.0.1:10248/healthz
	log "waiting for node $NODE_NAME to be Ready"
	must kubelet 60 "node registration" kubectl get node "$NODE_NAME"
	kubectl wait --for=condition=Ready "node/$NODE_NAME" --timeout=120s >/dev/null ||
		{ tail -n 25 "$LOGS/kubelet.log" >&2; die "node $NODE_NAME not Ready (see $LOGS/kubelet.log)"; }
}

start_kube_proxy() {
	put "$RUN/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$KCFG/kube-proxy.conf"}
mode: iptables
hostnameOverride: $NODE_NAME
clusterCIDR: $NODE_CIDR
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: [primary]
iptables: {localhostNodePorts: false, masqueradeAll: false}
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
	port_free 10256 kube-proxy
	start_bg kube-proxy "$BIN/kube-proxy" --config="$RUN/kube-proxy.yaml" --v=1
	must kube-proxy 60 "/healthz" curl -fsS http://127.0.0.1:10256/healthz
}

crds_established() {
	local crd
	for crd in testruns.k6.io privateloadzones.k6.io; do
		[[ $(kubectl get crd "$crd" -o jsonpath='{.status.conditions[?(@.type=="Established")].status}') == True ]] || return 1
	done
}

start_operator() {
	log "installing k6-operator CRDs"
	# Server-side apply: the TestRun CRD is larger than the 256 KiB last-applied annotation.
	kubectl apply --server-side --force-conflicts -f "$K6OP_SRC/config/crd/bases/" >/dev/null
	# (kubectl wait errors out while .status.conditions is still empty, so poll instead.)
	wait_for 60 "CRDs established" crds_established || die "k6-operator CRDs not established"
	# In-cluster, not a host process: the operator reads the initializer's log through
	# rest.InClusterConfig(), which needs a ServiceAccount token mounted in a pod.
	log "deploying k6-operator manager ($OPERATOR_IMAGE)"
	kubectl apply -f "$K6OP_SRC/config/rbac/role.yaml" >/dev/null
	kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: k6-operator-system}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: k6-operator-controller, namespace: k6-operator-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: k6-operator-manager-rolebinding}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: manager-role}
subjects: [{kind: ServiceAccount, name: k6-operator-controller, namespace: k6-operator-system}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: k6-operator-controller-manager, namespace: k6-operator-system}
spec:
  replicas: 1
  selector: {matchLabels: {control-plane: controller-manager}}
  template:
    metadata: {labels: {control-plane: controller-manager}}
    spec:
      serviceAccountName: k6-operator-controller
      terminationGracePeriodSeconds: 5
      securityContext: {runAsNonRoot: true, runAsUser: 65532}
      containers:
      - name: manager
        image: $OPERATOR_IMAGE
        imagePullPolicy: Never
        command: [/manager]
        args: [--metrics-bind-address=0, --health-probe-bind-address=:8081, --leader-elect=false]
        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
        readinessProbe: {httpGet: {path: /readyz, port: 8081}, periodSeconds: 2}
        resources:
          requests: {cpu: 50m, memory: 64Mi}
          limits: {memory: 256Mi}
EOF
	kubectl -n k6-operator-system rollout status deploy/k6-operator-controller-manager --timeout=120s >/dev/null || {
		kubectl -n k6-operator-system get pods -o wide >&2
		die "k6-operator manager not ready (kubectl -n k6-operator-system logs deploy/k6-operator-controller-manager)"
	}
}

preflight
if ! any_alive && [[ -d $RUN ]]; then
	log "stale state from an earlier run found; cleaning it with down.sh"
	"$KUBE_DIR/down.sh"
fi
mkdir -p "$PIDS" "$LOGS" "$RUN" "$KCFG"
t0=$SECONDS
save_sysctls
setup_network
setup_pki
kubeconfig "$ADMIN_RUN" loadgen-admin admin
kubeconfig "$KCFG/controller-manager.conf" system:kube-controller-manager controller-manager
kubeconfig "$KCFG/scheduler.conf" system:kube-scheduler scheduler
kubeconfig "$KCFG/kube-proxy.conf" system:kube-proxy kube-proxy
kubeconfig "$KCFG/kubelet.conf" "system:node:$NODE_NAME" kubelet-client
start_etcd
start_control_plane
start_containerd
write_cni
setup_cgroups
start_kubelet
start_kube_proxy
start_operator
install -m 0600 "$ADMIN_RUN" "$KUBE_WORK/admin.conf"
log "cluster up in $((SECONDS - t0)) s"
kubectl get nodes -o wide >&2
log "use it with: export KUBECONFIG=$KUBE_WORK/admin.conf"
