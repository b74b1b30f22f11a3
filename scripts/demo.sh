#!/bin/sh
# make demo: provisions a service namespace beside a throwaway "host"
# namespace, runs a real daemon in it in exec mode, shows it answering
# through the inbound network and the egress path, then removes it all.
# Touches only the namespaces it creates, also when interrupted.
set -eu
cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/bin}
PATH=$PATH:/usr/sbin:/sbin
[ "$(id -u)" -eq 0 ] || { echo "demo: needs root (it creates network namespaces)" >&2; exit 1; }
for b in netns-daemon-start netns-daemon-stop netns-daemon-status; do
	[ -x "$BIN/$b" ] || { echo "demo: $BIN/$b missing: run make build" >&2; exit 1; }
done

id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
HOST=demo-host-$id # stands in for the machine's own network
SVC=demo-$id
tmp=$(mktemp -d)
pid=""

cleanup() {
	trap - EXIT INT TERM
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	"$BIN/netns-daemon-stop" -q "$SVC" || true
	ip netns del "$HOST" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "a throwaway host namespace: $HOST"
ip netns add "$HOST"
ip -n "$HOST" link set lo up

cat >"$tmp/$SVC.toml" <<TOML
host_netns = "$HOST"
[inbound]                       # clients come in here
addresses = ["10.10.0.2/24"]
peer_addresses = ["10.10.0.1/24"]
[outbound]                      # the only default route
addresses = ["10.20.0.2/24"]
gateway = "10.20.0.1"
[dns]
nameservers = ["10.20.0.1"]
TOML
say "the spec ($tmp/$SVC.toml) and its plan"
cat "$tmp/$SVC.toml"
"$BIN/netns-daemon-start" -c "$tmp/$SVC.toml" --dry-run "$SVC"

port=8080
if command -v haproxy >/dev/null; then
	cat >"$tmp/haproxy.cfg" <<CFG
global
	maxconn 64
defaults
	mode http
	timeout connect 1s
	timeout client 5s
	timeout server 5s
frontend web
	bind 10.10.0.2:$port
	http-request return status 200 content-type text/plain lf-string "hello from haproxy in namespace $SVC\n"
CFG
	set -- "$(command -v haproxy)" -W -db -f "$tmp/haproxy.cfg"
else
	mkdir "$tmp/www"
	echo "hello from python3 http.server in namespace $SVC" >"$tmp/www/index.html"
	set -- python3 -m http.server --bind 10.10.0.2 --directory "$tmp/www" "$port"
fi

say "exec mode: netns-daemon-start -c $SVC.toml $SVC -- $*"
"$BIN/netns-daemon-start" -q -c "$tmp/$SVC.toml" "$SVC" -- "$@" &
pid=$!
fetch="import sys, urllib.request; sys.stdout.write(urllib.request.urlopen('http://10.10.0.2:$port/', timeout=2).read().decode())"
i=0
until ip netns exec "$HOST" python3 -c "$fetch" >"$tmp/reply" 2>/dev/null; do
	i=$((i + 1))
	[ "$i" -lt 50 ] || { echo "demo: the daemon did not answer" >&2; exit 1; }
	sleep 0.1
done
echo "netns-daemon-start ran as PID $pid; PID $pid is now: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
echo "its network namespace: $(readlink "/proc/$pid/ns/net") = /run/netns/$SVC ($(stat -L -c 'inode %i' "/run/netns/$SVC"))"

say "a client in the host namespace, through the inbound network (10.10.0.1 -> 10.10.0.2:$port)"
cat "$tmp/reply"

say "egress from inside: ip netns exec $SVC ip route get 192.0.2.1"
ip netns exec "$SVC" ip route get 192.0.2.1
say "its resolv.conf, as exec mode binds it over /etc/resolv.conf"
grep nameserver "/proc/$pid/root/etc/resolv.conf" 2>/dev/null || cat "/etc/netns/$SVC/resolv.conf"

say "netns-daemon-status"
"$BIN/netns-daemon-status" "$SVC"

say "a VIP added in place: only the difference is applied; the daemon keeps running"
sed 's|^addresses = \["10.10.0.2/24"\]|addresses = ["10.10.0.2/24", "10.10.0.3/24"]|' "$tmp/$SVC.toml" >"$tmp/$SVC-vip.toml"
"$BIN/netns-daemon-start" -c "$tmp/$SVC-vip.toml" --dry-run "$SVC"
"$BIN/netns-daemon-start" -c "$tmp/$SVC-vip.toml" "$SVC"
echo "PID $pid is still: $(tr '\0' ' ' <"/proc/$pid/cmdline")"

say "drift: the outbound veth deleted by hand; status says so (exit 1), start repairs it"
ip -n "$HOST" link del "$SVC-out"
"$BIN/netns-daemon-status" "$SVC" || echo "(exit $?)"
"$BIN/netns-daemon-start" -c "$tmp/$SVC-vip.toml" "$SVC"
"$BIN/netns-daemon-status" "$SVC"

say "teardown"
kill "$pid"
wait "$pid" || true
pid=""
"$BIN/netns-daemon-stop" "$SVC"
ip netns del "$HOST"
if [ -e "/run/netns/$SVC" ] || [ -e "/run/netns/$HOST" ]; then
	echo "demo: namespaces left behind" >&2
	exit 1
fi
echo "nothing left behind: /run/netns/$SVC and /run/netns/$HOST are gone"
