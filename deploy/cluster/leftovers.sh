#!/usr/bin/env bash
# leftovers.sh: exits 1, naming each, if anything of the cluster is still on this machine
# after down.sh: a process started from $KUBE_WORK or running in its cgroup, a mount under
# $KUBE_WORK/run, a CNI network namespace it made, its bridge or a veth on it, a KUBE-*
# iptables chain, a pid file or the kubeconfig. make cluster-down and make test-k8s run it.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

found=0
say() { log "left behind: $*"; found=$((found + 1)); }

# This script's ancestors (make, a shell whose command line names $KUBE_WORK) are not the
# cluster's: a process is if it runs a binary of $KUBE_WORK or names its state directory
# ($RUN: etcd's data, containerd's socket, which every shim carries).
ancestors=" "
a=$$
while [[ -n $a && $a != 0 && $a != 1 ]]; do
	ancestors+="$a "
	a=$(awk '/^PPid:/ {print $2}' "/proc/$a/status" 2>/dev/null || true)
done
for p in /proc/[0-9]*; do
	p=${p#/proc/}
	[[ $ancestors == *" $p "* || $p == "$BASHPID" ]] && continue
	alive "$p" || continue
	exe=$(readlink "/proc/$p/exe" 2>/dev/null || true)
	cmd=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null || true)
	if [[ $exe == "$KUBE_WORK/"* || $cmd == *"$RUN/"* ]]; then
		say "process $p: ${cmd:0:120}"
	fi
done
for f in /sys/fs/cgroup/*/loadgen-kube /sys/fs/cgroup/loadgen-kube; do
	[[ -d $f ]] && say "cgroup $f"
done
while read -r m; do say "mount $m"; done < <(findmnt -rn -o TARGET | grep -F "$KUBE_WORK/" || true)
ip link show "$BRIDGE" >/dev/null 2>&1 && say "bridge $BRIDGE"
while read -r v; do [[ -n $v ]] && say "veth $v"; done < <(ip -o link show type veth 2>/dev/null |
	awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^veth' || true)
for ns in /var/run/netns/cni-*; do [[ -e $ns ]] && say "network namespace ${ns##*/}"; done
for cmd in iptables ip6tables; do
	command -v "$cmd-save" >/dev/null || continue
	n=$({ "$cmd-save" 2>/dev/null || true; } | grep -c 'KUBE-' || true)
	((n == 0)) || say "$n $cmd lines naming KUBE- chains"
done
if [[ -s $KUBE_WORK/sysctl.before ]]; then
	while IFS='=' read -r k v; do
		[[ -e /proc/sys/${k//.//} ]] || continue
		now=$(sysctl -n "$k")
		[[ $now == "$v" ]] || say "sysctl $k = $now (was $v before the cluster)"
	done <"$KUBE_WORK/sysctl.before"
fi
[[ -e $KUBE_WORK/admin.conf ]] && say "kubeconfig $KUBE_WORK/admin.conf"
[[ -d $PIDS ]] && [[ -n $(ls -A "$PIDS") ]] && say "pid files in $PIDS"
[[ -d $RUN ]] && say "state directory $RUN"
((found == 0)) || die "$found thing(s) of the cluster are still on this machine"
log "nothing of the cluster is left on this machine"
