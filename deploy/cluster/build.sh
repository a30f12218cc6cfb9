#!/usr/bin/env bash
# build.sh: installs the Debian packages the cluster needs and builds (or reuses from
# $KUBE_WORK/bin) kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
# kube-proxy, kubectl, the k6-operator manager (from third_party/k6-operator) and a static
# pause. A second run only checks and returns. The images' k6 and loadgen are this
# repository's own (make image-bins, which make cluster runs first), not built here.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_root

PKGS=(containerd runc containernetworking-plugins etcd-server busybox-static conntrack
	iptables iproute2 openssl curl ca-certificates)

install_packages() {
	local missing=() p
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if ((${#missing[@]} == 0)); then
		log "packages present"
		return
	fi
	log "installing packages: ${missing[*]}"
	# Keep maintainer scripts from starting etcd/containerd as system services: up.sh runs
	# its own instances. policy-rc.d is removed again only if this script created it.
	local policy=/usr/sbin/policy-rc.d made_policy=
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
		apt-get update
		apt-get install -y --no-install-recommends "${missing[@]}"
	fi
	[[ -z $made_policy ]] || rm -f "$policy"
}

k8s_ldflags() {
	local v=${K8S_VERSION#v} kv=() k
	local major=${v%%.*} rest=${v#*.}
	local minor=${rest%%.*}
	kv=(gitVersion="$K8S_VERSION" gitMajor="$major" gitMinor="$minor"
		gitTreeState=clean buildDate="$(date -u +%Y-%m-%dT%H:%M:%SZ)")
	local flags="-s -w"
	for k in "${kv[@]}"; do
		flags+=" -X k8s.io/component-base/version.$k -X k8s.io/client-go/pkg/version.$k"
	done
	echo "$flags"
}

build_k8s() {
	local missing=() b
	for b in "${K8S_BINS[@]}"; do [[ -x $BIN/$b ]] || missing+=("$b"); done
	if ((${#missing[@]} == 0)); then
		log "kubernetes $K8S_VERSION binaries cached in $BIN"
		return
	fi
	log "building kubernetes $K8S_VERSION: ${missing[*]} (cold: ~15 min on 2 cores)"
	mkdir -p "$SRC/k8s"
	(
		cd "$SRC/k8s"
		if [[ ! -f go.mod ]]; then
			go mod init loadgen.local/k8sbuild >/dev/null 2>&1
			go mod edit -require="k8s.io/kubernetes@$K8S_VERSION"
			# kubernetes requires its staging repos as v0.0.0 and replaces them with local
			# directories; replace directives of a dependency are ignored, so pin them here.
			local modfile m
			modfile=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
			for m in $(awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" {print $1}' "$modfile"); do
				go mod edit -replace="$m=$m@$K8S_STAGING_VERSION"
			done
		fi
		local pkgs=()
		for b in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
		GOFLAGS="-mod=mod -trimpath -buildvcs=false" CGO_ENABLED=0 \
			go build -ldflags "$(k8s_ldflags)" -o "$BIN/" "${pkgs[@]}"
	)
}

build_k6_operator() {
	local out="$BIN/k6-operator-manager"
	[[ -f $K6OP_SRC/go.mod ]] || die "k6-operator source missing at $K6OP_SRC"
	# Cached by content (a fresh clone's files are all new, so mtimes would not do).
	local sum
	sum=$(cd "$K6OP_SRC" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
	if [[ -x $out && $(cat "$out.inputs" 2>/dev/null) == "$sum" ]]; then
		log "k6-operator manager cached"
		return
	fi
	log "building k6-operator manager"
	# Build from a copy so that -mod=mod never rewrites the shared source snapshot.
	rm -rf "$SRC/k6-operator"
	cp -a "$K6OP_SRC" "$SRC/k6-operator"
	(cd "$SRC/k6-operator" && GOFLAGS="-mod=mod -trimpath -buildvcs=false" CGO_ENABLED=0 \
		go build -ldflags "-s -w" -o "$out" ./cmd)
	echo "$sum" >"$out.inputs"
}

build_pause() {
	[[ -x $BIN/pause ]] && { log "pause cached"; return; }
	log "building pause"
	mkdir -p "$SRC/pause"
	cat >"$SRC/pause/main.go" <<'EOF'
// Command pause is the pod sandbox process: it sleeps until SIGINT/SIGTERM and reaps
// zombies, like registry.k8s.io/pause.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 8)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sig {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}
EOF
	(cd "$SRC/pause" && { [[ -f go.mod ]] || go mod init loadgen.local/pause >/dev/null 2>&1; } &&
		CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$BIN/pause" .)
}

command -v go >/dev/null || die "go not found in PATH"
mkdir -p "$BIN" "$SRC"
start=$SECONDS
install_packages
build_k8s
build_k6_operator
build_pause
log "build done in $((SECONDS - start)) s; binaries in $BIN:"
ls -la "$BIN" >&2
