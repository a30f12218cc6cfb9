#!/usr/bin/env bash
# images.sh: builds the local container images as docker-archive tarballs in
# $KUBE_WORK/images and, when up.sh's containerd is running, imports them into its k8s.io
# namespace. No registry is involved: pods use them with imagePullPolicy: Never.
#
#   localhost/pause:3.10        the pod sandbox (static Go pause from build.sh)
#   localhost/busybox:local     busybox-static, for test targets (httpd) and jobs
#   localhost/loadgen-k6:local  busybox + this repository's k6 with xk6-steamtrap (runner and
#                               initializer image), from $IMAGE_BINS/k6
#   localhost/loadgen:local     busybox + this repository's loadgen (the reference target), from
#                               $IMAGE_BINS/loadgen
#   localhost/k6-starter:local  busybox + curl and its libraries (k6-operator's starter job)
#   localhost/k6-operator:local busybox + the k6-operator manager as /manager
#
# The binaries are static builds (CGO_ENABLED=0) that `make image-bins` writes to bin/image/ —
# the same command deploy/k6-operator/Dockerfile runs. Rerun after a rebuild (make cluster does):
# changed binaries make new images, imported when the cluster is up.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_root

IMAGES="$KUBE_WORK/images"
K6_BIN=$IMAGE_BINS/k6
LOADGEN_BIN=$IMAGE_BINS/loadgen
BUSYBOX=/bin/busybox
[[ -x $BIN/pause ]] || die "$BIN/pause missing: run build.sh first"
[[ -x $K6_BIN && -x $LOADGEN_BIN ]] || die "$IMAGE_BINS/{k6,loadgen} missing: run make image-bins first"
[[ -x $BIN/k6-operator-manager ]] || die "$BIN/k6-operator-manager missing: run build.sh first"
[[ -x $BUSYBOX ]] || die "$BUSYBOX missing: apt-get install busybox-static (build.sh does)"
command -v sha256sum >/dev/null || die "sha256sum missing"

# busybox_rootfs DIR: a minimal root with busybox applets in /bin.
busybox_rootfs() {
	local d=$1 a
	mkdir -p "$d"/{bin,etc,tmp,root,var/www,usr/bin}
	chmod 1777 "$d/tmp"
	cp "$BUSYBOX" "$d/bin/busybox"
	for a in $("$BUSYBOX" --list); do
		[[ $a == busybox || -e $d/bin/$a ]] || ln -s busybox "$d/bin/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$d/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$d/etc/group"
	if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
		mkdir -p "$d/etc/ssl/certs"
		cp /etc/ssl/certs/ca-certificates.crt "$d/etc/ssl/certs/"
	fi
}

# copy_with_libs BINARY DIR: copies a dynamic binary and every library ldd names.
copy_with_libs() {
	local bin=$1 d=$2 lib
	install -D -m 0755 "$bin" "$d$bin"
	for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
		# Keep the mode: the dynamic loader must stay executable.
		[[ -e $d$lib ]] || install -D -m "$(stat -c %a "$(readlink -f "$lib")")" "$(readlink -f "$lib")" "$d$lib"
	done
}

# make_image NAME:TAG ROOTFS ENTRYPOINT_JSON CMD_JSON: writes $IMAGES/<name>.tar in
# `docker save` format, which `ctr images import` reads.
make_image() {
	local ref=$1 root=$2 entry=$3 cmd=$4
	local base=${ref#localhost/}
	base=${base%%:*}
	local out="$IMAGES/$base.tar" tmp="$IMAGES/.tmp-$base"
	rm -rf "$tmp"
	mkdir -p "$tmp/layer"
	(cd "$root" && tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -cf "$tmp/layer/layer.tar" .)
	local diff cfg cfgsum
	diff=$(sha256sum "$tmp/layer/layer.tar" | cut -d' ' -f1)
	cfg=$(printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Entrypoint":%s,"Cmd":%s,"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"deploy/cluster/images.sh"}]}' "$entry" "$cmd" "$diff")
	cfgsum=$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)
	printf '%s' "$cfg" >"$tmp/$cfgsum.json"
	mv "$tmp/layer" "$tmp/$diff"
	printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$cfgsum" "$ref" "$diff" >"$tmp/manifest.json"
	(cd "$tmp" && tar -cf "$out.new" manifest.json "$cfgsum.json" "$diff")
	mv "$out.new" "$out"
	rm -rf "$tmp" "$root"
	log "image $ref -> $out ($(du -h "$out" | cut -f1))"
}

# stale NAME INPUT...: true unless $IMAGES/NAME.tar was built from exactly these inputs
# (compared by content, so pointing K6_BIN at another k6 rebuilds the k6 image).
stale() {
	local name=$1 sum
	shift
	sum=$(cat "$@" | sha256sum | cut -d' ' -f1)
	if [[ -f $IMAGES/$name.tar && $(cat "$IMAGES/$name.inputs" 2>/dev/null) == "$sum" ]]; then
		return 1
	fi
	echo "$sum" >"$IMAGES/$name.inputs.new"
}

# built NAME: records the inputs of the image just written.
built() { mv "$IMAGES/$1.inputs.new" "$IMAGES/$1.inputs"; }

# fresh OUT INPUT: true when OUT exists and is newer than INPUT.
fresh() { [[ -f $1 && $1 -nt $2 ]]; }

mkdir -p "$IMAGES"
self="$KUBE_DIR/images.sh"

if stale pause "$BIN/pause" "$self"; then
	r="$IMAGES/.root-pause"
	rm -rf "$r" && mkdir -p "$r"
	cp "$BIN/pause" "$r/pause"
	make_image "$PAUSE_IMAGE" "$r" '["/pause"]' 'null'
	built pause
fi

if stale busybox "$BUSYBOX" "$self"; then
	r="$IMAGES/.root-busybox"
	rm -rf "$r" && busybox_rootfs "$r"
	make_image "$BUSYBOX_IMAGE" "$r" 'null' '["sh"]'
	built busybox
fi

if stale loadgen-k6 "$K6_BIN" "$BUSYBOX" "$self"; then
	r="$IMAGES/.root-k6"
	rm -rf "$r" && busybox_rootfs "$r"
	install -m 0755 "$K6_BIN" "$r/usr/bin/k6"
	mkdir -p "$r/home/k6" && chmod 0777 "$r/home/k6"
	make_image "$K6_IMAGE" "$r" '["k6"]' '["version"]'
	built loadgen-k6
fi

if stale loadgen "$LOADGEN_BIN" "$BUSYBOX" "$self"; then
	r="$IMAGES/.root-loadgen"
	rm -rf "$r" && busybox_rootfs "$r"
	install -m 0755 "$LOADGEN_BIN" "$r/usr/bin/loadgen"
	make_image "$LOADGEN_IMAGE" "$r" '["loadgen"]' '["version"]'
	built loadgen
fi

if stale k6-starter "$(command -v curl)" "$BUSYBOX" "$self"; then
	r="$IMAGES/.root-starter"
	rm -rf "$r" && busybox_rootfs "$r"
	copy_with_libs "$(command -v curl)" "$r"
	make_image "$STARTER_IMAGE" "$r" 'null' '["sh"]'
	built k6-starter
fi

if stale k6-operator "$BIN/k6-operator-manager" "$BUSYBOX" "$self"; then
	r="$IMAGES/.root-operator"
	rm -rf "$r" && busybox_rootfs "$r"
	install -m 0755 "$BIN/k6-operator-manager" "$r/manager"
	make_image "$OPERATOR_IMAGE" "$r" '["/manager"]' 'null'
	built k6-operator
fi

if [[ -S $CTR_SOCK ]] && pid_alive containerd; then
	# A marker per image in $RUN (wiped by down.sh) skips re-importing an unchanged tarball.
	mkdir -p "$RUN/imported"
	for t in pause busybox loadgen-k6 loadgen k6-starter k6-operator; do
		fresh "$RUN/imported/$t" "$IMAGES/$t.tar" && continue
		log "importing $t.tar into containerd (k8s.io)"
		ctr -n k8s.io images import "$IMAGES/$t.tar" >/dev/null
		touch "$RUN/imported/$t"
	done
else
	log "containerd not running; up.sh imports the images"
fi
