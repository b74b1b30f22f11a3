#!/usr/bin/env bash
# make bench [QUICK=1]: builds the Go harness in bench/ and runs it as root.
# The harness removes its namespaces (nb-<pid>-*) on every path; this
# script sweeps them again in case the harness itself was killed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin:/usr/sbin:/sbin

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root (it creates network namespaces)" >&2
	exit 1
fi
missing=""
for t in ip haproxy socat iperf3 wrk ss sysctl; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
	echo "bench: missing:$missing (run make deps)" >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/netns-bench-bin.XXXXXX)
pid=""
sweep() {
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	for ns in $(ls /run/netns 2>/dev/null | grep "^nb-$pid-" || true); do
		[ -x bin/netns-daemon-stop ] && [ -e "/run/netns-daemon/$ns.json" ] &&
			timeout 15 bin/netns-daemon-stop "$ns" >/dev/null 2>&1 || true
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
		rm -rf "/etc/netns/$ns"
	done
}
trap 'sweep; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

"${GO:-go}" build -buildvcs=false -o "$tmp/nsbench" ./bench
# The floor is built as bin/ is (make build): static, trimmed.
CGO_ENABLED=0 "${GO:-go}" build -buildvcs=false -trimpath -ldflags='-s -w' -o "$tmp/floor" ./bench/floor
CGO_ENABLED=0 "${GO:-go}" build -buildvcs=false -trimpath -ldflags='-s -w' -o "$tmp/noop" ./bench/floor/noop
"$tmp/nsbench" --root . --tmp "$tmp" "$@" &
pid=$!
rc=0
wait "$pid" || rc=$?
pid_done=$pid
pid=""
# The harness cleaned up after itself; only sweep if it died abnormally.
if [ "$rc" -gt 128 ]; then pid=$pid_done; sweep; fi
exit "$rc"
