#!/bin/bash
# ab.sh: netns-proxy vs HAProxy on loopback in a throwaway namespace,
# alternating rounds of wrk (close and keep-alive). Usage:
#   bench/perf/ab.sh [ROUNDS] [DURATION] [NETNS_PROXY_BIN]
# Env: COST=1 adds CPU, context switches and system calls per request
# (perf stat; STATEV: more events to count, into $OUT/stat.WHO.MODE;
# TRACE=1: perf trace -s, which slows the proxy a lot). PERF=1 records `perf record -g` of the netns-proxy worker during
# round 1 (close) into $OUT/perf.data (PERFEV: an event to record instead
# of cycles, e.g. syscalls:sys_enter_futex). OUT (default /tmp/nperf-$$).
set -u
ROUNDS=${1:-5}; DUR=${2:-5}; BIN=${3:-}
NS=nperf-$$
OUT=${OUT:-/tmp/nperf-$$}
mkdir -p "$OUT"; : >"$OUT/results"
HERE=$(cd "$(dirname "$0")/../.." && pwd)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.3
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  for n in "$NS" "$NS-c" "$NS-s"; do ip netns del "$n" 2>/dev/null; done
}
trap cleanup EXIT INT TERM
ulimit -n 100000
if [ -z "$BIN" ]; then
  (cd "$HERE" && go build -o "$OUT/netns-proxy" ./cmd/netns-proxy) || exit 1
  BIN=$OUT/netns-proxy
fi
(cd "$HERE" && go build -o "$OUT/benchbin" ./bench) || exit 1
# TOPO=veth: client ns -> proxy ns ($NS) -> server ns over two veth pairs,
# created inside the namespaces; default: everything on loopback in $NS.
ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up
CNS=$NS; SNS=$NS; HOST=127.0.0.1; SRV=127.0.0.1
if [ "${TOPO:-lo}" = veth ]; then
  CNS=$NS-c; SNS=$NS-s; HOST=10.231.1.1; SRV=10.231.2.2
  ip netns add "$CNS" && ip netns add "$SNS" || exit 1
  ip -n "$CNS" link add c0 type veth peer name p0 netns "$NS" || exit 1
  ip -n "$SNS" link add s0 type veth peer name p1 netns "$NS" || exit 1
  ip -n "$CNS" addr add 10.231.1.2/24 dev c0; ip -n "$NS" addr add 10.231.1.1/24 dev p0
  ip -n "$SNS" addr add 10.231.2.2/24 dev s0; ip -n "$NS" addr add 10.231.2.1/24 dev p1
  for l in "$CNS lo" "$CNS c0" "$SNS lo" "$SNS s0" "$NS p0" "$NS p1"; do set -- $l; ip -n "$1" link set "$2" up; done
fi
for n in $(printf '%s\n' "$NS" "$CNS" "$SNS" | sort -u); do
  ip netns exec "$n" sysctl -q -w net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="20000 65000" net.core.somaxconn=8192 net.ipv4.tcp_max_syn_backlog=8192
done
ip netns exec "$SNS" "$OUT/benchbin" httpd "$SRV:18080" >"$OUT/httpd.log" 2>&1 & pids+=($!)
# The same HAProxy global/defaults as bench/topo.go (haproxyHead), on purpose:
# numbers here must compare with the bench's.
cat >"$OUT/haproxy.cfg" <<H
global
    maxconn 9000
    maxpipes 256
    log stdout format raw daemon
defaults
    mode tcp
    log global
    option tcplog
    option splice-request
    option splice-response
    timeout connect 5s
    timeout client 10m
    timeout server 10m
    maxconn 9000
frontend f
    bind $HOST:18081
    default_backend b
backend b
    server s1 $SRV:18080
H
cat >"$OUT/np.toml" <<T
[defaults]
connect_timeout = "5s"
client_timeout = "10m"
server_timeout = "10m"
max_connections = 9000

[log]
format = "text"

[[frontend]]
name = "f"
bind = ["$HOST:18082"]
backend = "b"

[[backend]]
name = "b"

[[backend.server]]
name = "s1"
address = "$SRV:18080"
T
ip netns exec "$NS" haproxy -db -f "$OUT/haproxy.cfg" >"$OUT/haproxy.log" 2>&1 & pids+=($!); HPID=$!
ip netns exec "$NS" env ${NPENV:-} "$BIN" -c "$OUT/np.toml" >"$OUT/np.log" 2>&1 & pids+=($!); NPID=$!
# Optional second netns-proxy (BIN2 and/or NP2ENV) on 18083, as "np2".
WHO="hap np"
if [ -n "${BIN2:-}${NP2ENV:-}" ]; then
  sed 's/18082/18083/' "$OUT/np.toml" >"$OUT/np2.toml"
  ip netns exec "$NS" env ${NP2ENV:-} "${BIN2:-$BIN}" -c "$OUT/np2.toml" >"$OUT/np2.log" 2>&1 & pids+=($!); NP2PID=$!
  WHO="hap np np2"
fi
sleep 1
run() { # name port mode
  local hdr=()
  [ "$3" = close ] && hdr=(-H "Connection: close")
  local spid=""
  if [ "${COST:-0}" = 1 ]; then
    local tp=$HPID; [ "$1" = np ] && tp=$(pgrep -P "$NPID" | head -1); [ "$1" = np2 ] && tp=$(pgrep -P "$NP2PID" | head -1)
    perf stat -x, -e task-clock,context-switches,raw_syscalls:sys_enter${STATEV:+,$STATEV} -p "$tp" -o "$OUT/stat.$1.$3" -- sleep "$DUR" &
    spid=$!
    # TRACE=1: system calls by name too (perf trace -s), in $OUT/trace.WHO.MODE.
    [ "${TRACE:-0}" = 1 ] && perf trace -s -p "$tp" -o "$OUT/trace.$1.$3" -- sleep "$DUR" >/dev/null 2>&1 &
  fi
  local idle0; idle0=$(awk '/^cpu /{print $5+$6, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
  ip netns exec "$CNS" timeout $((DUR+10)) wrk -c "${C:-50}" -t 2 -d "${DUR}s" --latency "${hdr[@]}" "http://$HOST:$2/" >"$OUT/wrk.out" 2>&1
  local rps p50 p99
  rps=$(awk '/Requests\/sec/{print $2}' "$OUT/wrk.out")
  p50=$(awk '$1=="50%"{print $2}' "$OUT/wrk.out")
  p99=$(awk '$1=="99%"{print $2}' "$OUT/wrk.out")
  local extra
  extra="idle=$(awk -v a="$idle0" '/^cpu /{split(a,x," "); printf "%.1f%%", 100*($5+$6-x[1])/($2+$3+$4+$5+$6+$7+$8+$9-x[2])}' /proc/stat) "
  if [ -n "$spid" ]; then
    wait "$spid"
    local req; req=$(awk '/requests in/{print $1}' "$OUT/wrk.out")
    extra=$(awk -F, -v req="$req" -v dur="$DUR" '$3=="task-clock"{printf "cpu_us/req=%.1f ", $1*1000/req/1} $3=="context-switches"{printf "cs/req=%.2f ", $1/req} $3 ~ /^raw_syscalls/{printf "sys/req=%.1f", $1/req} $3 ~ /^syscalls:sys_enter_/{n=$3; sub(/syscalls:sys_enter_/, "", n); printf " %s=%.2f", n, $1/req}' "$OUT/stat.$1.$3")
  fi
  echo "$1 $3 $rps $p50 $p99 $extra" | tee -a "$OUT/results"
}
for r in $(seq 1 "$ROUNDS"); do
  for mode in close keep; do
    if [ $((r % 2)) = 1 ]; then order="$WHO"; else order=$(echo $WHO | tr ' ' '\n' | tac | tr '\n' ' '); fi
    for who in $order; do
      port=18081; [ $who = np ] && port=18082; [ $who = np2 ] && port=18083
      if [ "${PERF:-0}" = 1 ] && [ $r = 1 ] && [ $who = np ] && [ $mode = close ]; then
        wpid=$(pgrep -P "$(pgrep -f "$BIN -c $OUT/np.toml" | head -1)" | head -1)
        [ -z "$wpid" ] && wpid=$(pgrep -f "$BIN -c $OUT/np.toml" | tail -1)
        perf record ${PERFEV:+-e "$PERFEV"} -g -o "$OUT/perf.data" -p "$wpid" -- sleep "$DUR" >/dev/null 2>&1 &
        pp=$!
        run $who $port $mode
        wait $pp
      else
        run $who $port $mode
      fi
    done
  done
done
ps -o rss=,comm= -p "$(pgrep -f "$BIN -c $OUT/np.toml" | tr '\n' ',' | sed 's/,$//')" 2>/dev/null
python3 - "$OUT/results" <<'P'
import sys,statistics as st
rows=[l.split() for l in open(sys.argv[1])]
def ms(s):
    if s.endswith('us'): return float(s[:-2])/1000
    if s.endswith('ms'): return float(s[:-2])
    if s.endswith('s'): return float(s[:-1])*1000
    return float('nan')
for mode in ('close','keep'):
    h=[r for r in rows if r[0]=='hap' and r[1]==mode]
    for who in ('np','np2'):
        n=[r for r in rows if r[0]==who and r[1]==mode]
        if not n: continue
        ratios=[float(b[2])/float(a[2]) for a,b in zip(h,n)]
        print(f"{mode} {who}: hap rps med {st.median(float(r[2]) for r in h):.0f} {who} {st.median(float(r[2]) for r in n):.0f} ratio med {st.median(ratios):.2f} (min {min(ratios):.2f} max {max(ratios):.2f}) | p50 hap {st.median(ms(r[3]) for r in h):.2f}ms {who} {st.median(ms(r[3]) for r in n):.2f}ms | p99 hap {st.median(ms(r[4]) for r in h):.2f}ms {who} {st.median(ms(r[4]) for r in n):.2f}ms")
P
echo "out: $OUT"
