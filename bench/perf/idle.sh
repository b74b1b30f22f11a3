#!/bin/bash
# idle.sh: worker RSS of netns-proxy (BIN, and BIN2 if set) and HAProxy
# holding N idle proxied connections, read 1 s and 3 s after they are up.
# Usage: bench/perf/idle.sh N BIN [BIN2]
set -u
N=${1:-9000}; BIN=$2; BIN2=${3:-}
NS=nperf-i$$; OUT=${OUT:-/tmp/nperf-i$$}; mkdir -p "$OUT"
HERE=$(cd "$(dirname "$0")/../.." && pwd)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.5; for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; ip netns del "$NS" 2>/dev/null; }
trap cleanup EXIT INT TERM
ulimit -n 20000
(cd "$HERE" && go build -o "$OUT/benchbin" ./bench) || exit 1
ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up
ip netns exec "$NS" sysctl -q -w net.ipv4.ip_local_port_range="20000 65000" net.core.somaxconn=8192 net.ipv4.tcp_max_syn_backlog=8192
ip netns exec "$NS" "$OUT/benchbin" sink 127.0.0.1:18090 >"$OUT/sink.log" 2>&1 & pids+=($!)
printf 'global\n    maxconn 9650\n    maxpipes 256\n    log stdout format raw daemon\ndefaults\n    mode tcp\n    log global\n    option tcplog\n    option splice-request\n    option splice-response\n    timeout connect 5s\n    timeout client 10m\n    timeout server 10m\n    maxconn 9650\nfrontend f\n    bind 127.0.0.1:18091\n    default_backend b\nbackend b\n    server s1 127.0.0.1:18090\n' >"$OUT/h.cfg"
mk() { printf '[defaults]\nclient_timeout = "10m"\nserver_timeout = "10m"\nmax_connections = 9650\n[log]\nformat = "text"\n[[frontend]]\nname = "f"\nbind = ["127.0.0.1:%s"]\nbackend = "b"\n[[backend]]\nname = "b"\n[[backend.server]]\nname = "s1"\naddress = "127.0.0.1:18090"\n' "$1" >"$OUT/n$1.toml"; }
measure() { # name port pid-to-read
  local fifo=$OUT/fifo.$1; rm -f "$fifo"; mkfifo "$fifo"
  local base; base=$(awk '/VmRSS/{print $2}' /proc/$3/status)
  ip netns exec "$NS" "$OUT/benchbin" hold "127.0.0.1:$2" "$N" 64 <"$fifo" >"$OUT/hold.$1" 2>&1 & local hp=$!
  exec 9>"$fifo"
  local i; for i in $(seq 1 600); do grep -q ready "$OUT/hold.$1" && break; sleep 0.2; done
  sleep 1; local r1; r1=$(awk '/VmRSS/{print $2}' /proc/$3/status)
  sleep 2; local r3; r3=$(awk '/VmRSS/{print $2}' /proc/$3/status)
  echo "$1: $(cat "$OUT/hold.$1") base ${base} KiB, +1s ${r1} KiB, +3s ${r3} KiB"
  exec 9>&-; wait $hp; sleep 1
}
ip netns exec "$NS" haproxy -db -f "$OUT/h.cfg" >"$OUT/h.log" 2>&1 & pids+=($!); HP=$!
sleep 0.5; measure hap 18091 $HP; kill $HP
i=0
for b in "$BIN" $BIN2; do
  i=$((i+1)); port=$((18091+i)); mk $port
  ip netns exec "$NS" "$b" -c "$OUT/n$port.toml" >"$OUT/n$port.log" 2>&1 & pids+=($!); mp=$!
  sleep 1; w=$(pgrep -P $mp | head -1)
  measure "np$i" $port "$w"; kill $mp
done
