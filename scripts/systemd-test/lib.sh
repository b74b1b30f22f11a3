# shellcheck shell=bash
# Checks the boot test runs inside its container; sourced by inside.sh.

pass=0 failed=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { failed=$((failed + 1)); echo "FAIL - $*"; }
# note WHAT: a finding that does not count (a check not switched on yet).
note() { echo "note - $*"; }

# check WHAT CMD...: counts CMD's result; shows its output when it fails.
check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$what"
	else
		bad "$what"
		printf '%s\n' "$out" | tail -n 20 | sed 's/^/    /'
	fi
}

mainpid() { systemctl show -P MainPID "$1"; }
nsid() { stat -L -c %d:%i "$1"; }

# in_ns NS PID: PID lives in /run/netns/NS ("" = init's network namespace).
in_ns() {
	local want=/run/netns/$1
	[ -n "$1" ] || want=/proc/1/ns/net
	if [ -z "$2" ] || [ "$2" = 0 ]; then echo "no PID"; return 1; fi
	[ "$(nsid "/proc/$2/ns/net")" = "$(nsid "$want")" ] ||
		{ echo "pid $2 is in $(readlink "/proc/$2/ns/net"), not in $want"; return 1; }
}

# ns_mounted NS: /run/netns/NS is an nsfs mount in this shell's mount
# namespace, the system's (not the unit's), so ip netns sees it. (It may
# show twice: /run/netns is a shared bind mount of itself, as ip makes it.)
ns_mounted() {
	local fs
	fs=$(findmnt -n -o FSTYPE --mountpoint "/run/netns/$1" | sort -u)
	[ "$fs" = nsfs ] || { echo "/run/netns/$1: file system '$fs', not nsfs"; ls -l /run/netns; return 1; }
	ip netns exec "$1" true
}

# ns_layout NS IN OUT GW: exactly these addresses, and one default route,
# via out0 (none for IPv6).
ns_layout() {
	local a r
	a=$(ip -n "$1" -4 -o addr show | awk '{print $2, $4}' | sort | xargs)
	[ "$a" = "in0 $2 lo 127.0.0.1/8 out0 $3" ] || { echo "addresses: $a"; return 1; }
	r=$( (ip -n "$1" route show default; ip -n "$1" -6 route show default) | xargs)
	[ "$r" = "default via $4 dev out0" ] || { echo "default routes: $r"; return 1; }
}

# get URL: one request, 2 s at most.
get() { curl -fsS -m 2 -o /dev/null "$1"; }
# serves URL: answers within 3 s (a unit may just have come up).
serves() {
	local i
	for i in $(seq 30); do
		get "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	get "$1"
}
# load URL N OUT: N requests one after the other; the failures go to OUT.
load() {
	local i f=0
	for i in $(seq "$2"); do get "$1" 2>/dev/null || f=$((f + 1)); done
	echo "$f" >"$3"
}

# reload_check URL PIDCMD RELOADCMD...: 5 reloads while 200 requests run;
# the PID stays and no request fails.
reload_check() {
	local url=$1 pidcmd=$2 pid lp i f rc=0
	shift 2
	pid=$($pidcmd)
	load "$url" 200 /tmp/load.out &
	lp=$!
	for i in 1 2 3 4 5; do
		sleep 0.3
		"$@" || { echo "reload $i: $* failed"; rc=1; }
	done
	wait "$lp"
	f=$(cat /tmp/load.out)
	[ "$f" = 0 ] || { echo "$f of 200 requests failed"; rc=1; }
	[ "$($pidcmd)" = "$pid" ] || { echo "PID changed: $pid -> $($pidcmd)"; rc=1; }
	return $rc
}

# logs IDENT SINCE PATTERN: the journal has PATTERN under identifier IDENT.
logs() {
	local i
	for i in $(seq 30); do
		journalctl -q --no-pager -t "$1" --since "@$2" -o cat | grep -q -- "$3" && return 0
		sleep 0.1
	done
	echo "no '$3' under -t $1; the journal since then:"
	journalctl -q --no-pager --since "@$2" | tail -n 15
	return 1
}

# restarts UNIT URL NS: 10 restarts, each serving again, in the namespace.
restarts() {
	local i first
	first=$(mainpid "$1")
	for i in $(seq 10); do
		systemctl reset-failed "$1" 2>/dev/null
		systemctl restart "$1" || { echo "restart $i failed"; return 1; }
		serves "$2" || { echo "restart $i: not serving"; return 1; }
	done
	[ "$(mainpid "$1")" != "$first" ] || { echo "MainPID $first never changed"; return 1; }
	in_ns "$3" "$(mainpid "$1")"
}

# sigkill UNIT URL NS: SIGKILL to the main process; systemd restarts the
# unit, which serves again from the same namespace.
sigkill() {
	local old i new
	old=$(mainpid "$1")
	kill -KILL "$old"
	for i in $(seq 100); do
		new=$(mainpid "$1")
		[ "$new" != 0 ] && [ "$new" != "$old" ] && systemctl -q is-active "$1" && break
		sleep 0.1
	done
	if [ "$new" = 0 ] || [ "$new" = "$old" ]; then
		echo "not restarted: MainPID $new"
		systemctl status --no-pager "$1"
		return 1
	fi
	serves "$2" || return 1
	in_ns "$3" "$new" || return 1
	[ -z "$3" ] || ns_mounted "$3"
}

# gone NS PROC: nothing of namespace NS is left (mount, state, /etc/netns,
# host-side veths, which the kernel reaps within a moment) and no process
# named PROC runs.
gone() {
	local rc=0 _
	for _ in $(seq 30); do
		ip -o link show | grep -qF " $1-" || break
		sleep 0.1
	done
	[ ! -e "/run/netns/$1" ] || { echo "/run/netns/$1 left: $(findmnt -n -o FSTYPE --mountpoint "/run/netns/$1")"; rc=1; }
	[ ! -e "/run/netns-daemon/$1.json" ] || { echo "/run/netns-daemon/$1.json left"; rc=1; }
	[ ! -e "/etc/netns/$1" ] || { echo "/etc/netns/$1 left"; rc=1; }
	! ip -o link show | grep -F " $1-" || { echo "host-side links left"; rc=1; }
	! pgrep -a -x "$2" || { echo "$2 still runs"; rc=1; }
	return $rc
}

# ordered FIRST SECOND: FIRST was active before SECOND's main process began.
ordered() {
	local a b
	a=$(systemctl show -P ActiveEnterTimestampMonotonic "$1")
	b=$(systemctl show -P ExecMainStartTimestampMonotonic "$2")
	if [ "$a" = 0 ] || [ "$b" = 0 ] || [ "$a" -gt "$b" ]; then
		echo "$1 active at $a, $2 started at $b (µs)"
		return 1
	fi
}
