#!/bin/bash
# make test-systemd: boots systemd 252 as PID 1 of a systemd-nspawn
# --private-network container (an overlay over a cached Debian bookworm
# rootfs, thrown away after), installs DEB in it and runs inside.sh twice:
# boot 1 drives every unit and the init script, boot 2 checks what boot 1
# enabled. The container has its own network namespace and everything
# netns-daemon makes is nested in it: the machine's network is not touched.
#   run.sh path/to/netns-daemon_VERSION_ARCH.deb
set -euo pipefail
if [ $# != 1 ] || [ ! -f "$1" ]; then
	echo "usage: $0 DEB" >&2
	exit 2
fi
[ "$(id -u)" = 0 ] || { echo "test-systemd: needs root (systemd-nspawn)" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
deb=$(realpath "$1")
began=$(date +%s)
last=$(date +%s.%N)
# phase WHAT: says how long WHAT took (since the last phase).
phase() {
	local now
	now=$(date +%s.%N)
	awk -v a="$now" -v b="$last" -v w="$1" 'BEGIN { printf "test-systemd: %s in %.1f s\n", w, a - b }'
	last=$now
}
rootfs=$("$here/../systemd-rootfs.sh")
phase "rootfs ready ($rootfs)"
name=ndtest-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
work=$(mktemp -d "/var/tmp/$name.XXXXXX")
nspawn=""
pid1=""
# The container's cgroups: one per hierarchy that systemd uses here (the
# machines these run on are hybrid: name=systemd v1 and a unified v2).
cgdirs=()
for c in systemd unified; do
	if [ -d "/sys/fs/cgroup/$c" ]; then cgdirs+=("/sys/fs/cgroup/$c/$name"); fi
done
[ ${#cgdirs[@]} -gt 0 ] || cgdirs=("/sys/fs/cgroup/$name")

halt() {
	[ -n "$nspawn" ] || return 0
	kill -TERM "$nspawn" 2>/dev/null || true
	local _
	for _ in $(seq 300); do
		kill -0 "$nspawn" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$nspawn" 2>/dev/null || true
	wait "$nspawn" 2>/dev/null || true
	nspawn=""
}

# cgroups: kills what is left, then removes the container's cgroup tree.
cgroups() {
	local d
	for d in "${cgdirs[@]}"; do
		[ -d "$d" ] || continue
		find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r p; do kill -KILL "$p"; done 2>/dev/null || true
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
		[ ! -d "$d" ] || echo "test-systemd: could not remove $d" >&2
	done
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	halt
	cgroups
	mountpoint -q "$work/root" && umount "$work/root"
	rm -rf "$work" "/run/systemd/nspawn/propagate/$name"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# boot N: starts the container in a cgroup of its own; waits for systemd.
boot() {
	local st
	mkdir -p "${cgdirs[@]}"
	# shellcheck disable=SC2016 # $$ is the inner shell's
	setsid bash -c 'for d in $0; do echo $$ >"$d/cgroup.procs"; done; exec "$@"' "${cgdirs[*]}" \
		systemd-nspawn --quiet --register=no --keep-unit --private-network --boot \
		--directory="$work/root" --machine="$name" \
		--bind-ro="$work/deb:/srv/netns-deb" --bind-ro="$here:/srv/netns-test" \
		</dev/null >"$work/console.$1" 2>&1 &
	nspawn=$!
	for _ in $(seq 100); do
		pid1=$(pgrep -P "$nspawn" -x systemd) && break
		sleep 0.1
	done
	[ -n "$pid1" ] || { echo "test-systemd: boot $1: no systemd in the container" >&2; cat "$work/console.$1" >&2; return 1; }
	for _ in $(seq 600); do
		st=$(in_ct systemctl is-system-running 2>/dev/null) || true
		case $st in running | degraded) break ;; esac
		sleep 0.1
	done
	case $st in running | degraded) ;; *)
		echo "test-systemd: boot $1: systemd is '$st' after 60 s" >&2
		return 1
		;;
	esac
	[ "$st" = running ] || in_ct systemctl --failed --no-pager >&2 || true
}

in_ct() { nsenter -t "$pid1" -a "$@" </dev/null; }

# run N: inside.sh bootN as a transient unit of the container's systemd.
run() {
	local rc=0
	# In the background, so that a signal to this script is handled at once
	# (wait returns); halting the container ends what runs inside.
	timeout 240 nsenter -t "$pid1" -a systemd-run --quiet --wait --pipe --collect \
		--unit="netns-test-$1" --setenv=NETNS_TEST_PROXY="${NETNS_TEST_PROXY:-1}" \
		/bin/bash /srv/netns-test/inside.sh "$1" </dev/null >"$work/out.$1" 2>&1 &
	local job=$! tailer
	tail -n +1 --pid=$job -f "$work/out.$1" &
	tailer=$!
	wait "$job" || rc=$?
	wait "$tailer" || true
	if [ $rc != 0 ]; then
		echo "--- journal of the container (last 60 lines)"
		in_ct journalctl -q --no-pager -n 60 || true
	fi
	return $rc
}

# The package itself first: lintian must report no error.
lintian_ok=0
if out=$(lintian --fail-on error --tag-display-limit 0 "$deb" 2>&1); then
	echo "ok - lintian reports no error"
	lintian_ok=1
else
	echo "FAIL - lintian reports errors"
fi
printf '%s\n' "$out" | { grep -v 'root privileges' || true; } | sed 's/^/    /'

# make install PREFIX=/usr installs what the package holds, less the
# package's own files (copyright, changelog, lintian overrides).
install_ok=0
make -s -C "$here/../.." -o build -o man install DESTDIR="$work/install" PREFIX=/usr >/dev/null
(cd "$work/install" && find . -mindepth 1 | sed 's#^\./##' | sort) >"$work/install.list"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's#^\./##; s#/$##' | grep -v '^$' |
	grep -vxE 'usr/share/doc/netns-daemon/(copyright|changelog.gz)|usr/share/lintian(/overrides(/netns-daemon)?)?' |
	sort >"$work/deb.list"
if diff -u "$work/deb.list" "$work/install.list"; then
	echo "ok - make install PREFIX=/usr installs the package's files"
	install_ok=1
else
	echo "FAIL - make install PREFIX=/usr installs the package's files"
fi

mkdir "$work/upper" "$work/work" "$work/root" "$work/deb"
cp "$deb" "$work/deb/netns-daemon.deb"
mount -t overlay overlay -o "lowerdir=$rootfs,upperdir=$work/upper,workdir=$work/work" "$work/root"

phase "lintian and make install"
rc=0
boot 1
phase "boot 1 up"
run boot1 || rc=1
phase "boot 1 checks"
halt
cgroups
boot 2
phase "halt, boot 2 up"
run boot2 || rc=1
halt
phase "boot 2 checks, halt"
p=$(($(cat "$work"/out.* | grep -c '^ok - ' || true) + lintian_ok + install_ok))
f=$(($(cat "$work"/out.* | grep -c '^FAIL - ' || true) + 2 - lintian_ok - install_ok))
[ "$f" = 0 ] || rc=1
echo "test-systemd: $p passed, $f failed ($(($(date +%s) - began)) s)"
exit $rc
