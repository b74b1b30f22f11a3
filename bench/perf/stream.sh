#!/bin/bash
# stream.sh: one-stream (or P streams) throughput through netns-proxy and
# HAProxy, client ns -> proxy ns -> server ns over veth, rounds interleaved.
# Usage: bench/perf/stream.sh [ROUNDS] [SECONDS] [NETNS_PROXY_BIN] ; env P
# (parallel streams, default 1), BIN2 (a second netns-proxy, as "np2").
set -u
ROUNDS=${1:-3}; DUR=${2:-5}; BIN=${3:-}; P=${P:-1}
NS=nstr-$$; OUT=${OUT:-/tmp/nstr-$$}; mkdir -p "$OUT"
HERE=$(cd "$(dirname "$0")/../.." && pwd)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.3
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  for n in "$NS" "$NS-c" "$NS-s"; do ip netns del "$n" 2>/dev/null; done
}
trap cleanup EXIT INT TERM
[ -z "$BIN" ] && { (cd "$HERE" && go build -o "$OUT/netns-proxy" ./cmd/netns-proxy) || exit 1; BIN=$OUT/netns-proxy; }
for n in "$NS" "$NS-c" "$NS-s"; do ip netns add "$n" || exit 1; ip -n "$n" link set lo up; done
ip -n "$NS-c" link add c0 type veth peer name p0 netns "$NS" || exit 1
ip -n "$NS-s" link add s0 type veth peer name p1 netns "$NS" || exit 1
ip -n "$NS-c" addr add 10.232.1.2/24 dev c0; ip -n "$NS" addr add 10.232.1.1/24 dev p0
ip -n "$NS-s" addr add 10.232.2.2/24 dev s0; ip -n "$NS" addr add 10.232.2.1/24 dev p1
for l in "$NS-c c0" "$NS-s s0" "$NS p0" "$NS p1"; do set -- $l; ip -n "$1" link set "$2" up; done
ip netns exec "$NS-s" iperf3 -s -B 10.232.2.2 -p 15201 >/dev/null 2>&1 & pids+=($!)
printf 'global\n    maxconn 100\n    maxpipes 256\ndefaults\n    mode tcp\n    option splice-request\n    option splice-response\n    timeout connect 5s\n    timeout client 1m\n    timeout server 1m\nfrontend f\n    bind 10.232.1.1:15202\n    default_backend b\nbackend b\n    server s1 10.232.2.2:15201\n' >"$OUT/h.cfg"
printf '[[frontend]]\nname = "f"\nbind = ["10.232.1.1:PORT"]\nbackend = "b"\n[[backend]]\nname = "b"\n[[backend.server]]\nname = "s1"\naddress = "10.232.2.2:15201"\n' >"$OUT/n.tmpl"
sed s/PORT/15203/ "$OUT/n.tmpl" >"$OUT/n.toml"; sed s/PORT/15204/ "$OUT/n.tmpl" >"$OUT/n2.toml"
ip netns exec "$NS" haproxy -db -f "$OUT/h.cfg" >"$OUT/h.log" 2>&1 & pids+=($!); HPID=$!
ip netns exec "$NS" "$BIN" -c "$OUT/n.toml" >"$OUT/n.log" 2>&1 & pids+=($!); NPID=$!
WHO="hap np"
if [ -n "${BIN2:-}" ]; then ip netns exec "$NS" "$BIN2" -c "$OUT/n2.toml" >"$OUT/n2.log" 2>&1 & pids+=($!); NP2PID=$!; WHO="hap np np2"; fi
sleep 1
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
: >"$OUT/results"
for r in $(seq 1 "$ROUNDS"); do
  for who in $WHO; do
    case $who in hap) port=15202; tp=$HPID;; np) port=15203; tp=$(pgrep -P $NPID | head -1);; np2) port=15204; tp=$(pgrep -P $NP2PID | head -1);; esac
    c0=$(cpu "$tp")
    gb=$(ip netns exec "$NS-c" iperf3 -c 10.232.1.1 -p $port -t "$DUR" -P "$P" -J 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.2f %.3f" % (d["end"]["sum_received"]["bits_per_second"]/1e9, d["end"]["sum_received"]["bytes"]/1e9))')
    c1=$(cpu "$tp")
    set -- $gb
    echo "$who $1 $(awk -v c=$((c1-c0)) -v b="$2" 'BEGIN{printf "%.3f", c/100/b}')" | tee -a "$OUT/results"
  done
done
python3 - "$OUT/results" <<'PY'
import sys,statistics as st
rows=[l.split() for l in open(sys.argv[1])]
h=st.median(float(r[1]) for r in rows if r[0]=='hap')
for who in ('hap','np','np2'):
    v=[float(r[1]) for r in rows if r[0]==who]
    if v: print(f"{who}: {st.median(v):.2f} Gbit/s ({st.median(v)/h:.2f}x hap), CPU s/GB {st.median(float(r[2]) for r in rows if r[0]==who):.3f}")
PY
