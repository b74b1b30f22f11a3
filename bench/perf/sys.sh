#!/bin/bash
# sys.sh: per-connection syscalls of netns-proxy and HAProxy (strace -c)
# under a light Connection: close load, in a throwaway namespace.
set -u
NS=nperf-s$$; OUT=${OUT:-/tmp/nperf-s$$}; BIN=${1:-}
mkdir -p "$OUT"; HERE=$(cd "$(dirname "$0")/../.." && pwd)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.3; for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; ip netns del "$NS" 2>/dev/null; }
trap cleanup EXIT INT TERM
[ -z "$BIN" ] && { (cd "$HERE" && go build -o "$OUT/netns-proxy" ./cmd/netns-proxy) || exit 1; BIN=$OUT/netns-proxy; }
(cd "$HERE" && go build -o "$OUT/benchbin" ./bench) || exit 1
ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up
ip netns exec "$NS" sysctl -q -w net.ipv4.tcp_tw_reuse=1
ip netns exec "$NS" "$OUT/benchbin" httpd 127.0.0.1:18080 >"$OUT/httpd.log" 2>&1 & pids+=($!)
printf 'global\n    maxconn 4000\n    log stdout format raw daemon\ndefaults\n    mode tcp\n    log global\n    option tcplog\n    option splice-request\n    option splice-response\n    timeout connect 5s\n    timeout client 10m\n    timeout server 10m\nfrontend f\n    bind 127.0.0.1:18081\n    default_backend b\nbackend b\n    server s1 127.0.0.1:18080\n' >"$OUT/h.cfg"
printf '[defaults]\nmax_connections = 4000\n[log]\nformat = "text"\n[[frontend]]\nname = "f"\nbind = ["127.0.0.1:18082"]\nbackend = "b"\n[[backend]]\nname = "b"\n[[backend.server]]\nname = "s1"\naddress = "127.0.0.1:18080"\n' >"$OUT/n.toml"
ip netns exec "$NS" haproxy -db -f "$OUT/h.cfg" >"$OUT/h.log" 2>&1 & pids+=($!); HPID=$!
ip netns exec "$NS" "$BIN" -c "$OUT/n.toml" >"$OUT/n.log" 2>&1 & pids+=($!); NPID=$!
sleep 1
for who in hap np; do
  port=18081; tp=$HPID; [ $who = np ] && { port=18082; tp=$(pgrep -P "$NPID" | head -1); }
  strace -f ${STRACE_OPTS:--c} -p "$tp" -o "$OUT/strace.$who" & sp=$!
  sleep 0.5
  ip netns exec "$NS" timeout 20 wrk -c 4 -t 1 -d 3s -H "Connection: close" "http://127.0.0.1:$port/" >"$OUT/wrk.$who" 2>&1
  kill -INT $sp; wait $sp
  req=$(awk '/requests in/{print $1}' "$OUT/wrk.$who")
  echo "== $who: $req requests"
  awk -v req="$req" 'NR>2 && $0 !~ /^-/ && $NF!="total" {c=($4 ~ /^[0-9]+$/)?$4:0; if (NF>=5) printf "%-16s %6.2f/req\n", $NF, $4/req}' "$OUT/strace.$who" | sort -k2 -rn | head -25
done
