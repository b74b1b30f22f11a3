# shellcheck shell=bash
# What the boot test does inside its container, step by step; sourced by
# inside.sh after lib.sh.

# Namespace layouts: inbound, outbound, gateway.
declare -A LAYOUT=(
	[haproxy]="10.90.0.2/24 10.91.0.2/24 10.91.0.1"
	[p1]="10.93.0.2/24 10.94.0.2/24 10.94.0.1"
	[lsb]="10.92.0.2/24 10.95.0.2/24 10.95.0.1"
)

# spec NAME: /etc/netns-daemon/NAME.toml from LAYOUT, with a nameserver.
spec() {
	local in out gw
	read -r in out gw <<<"${LAYOUT[$1]}"
	cat >"/etc/netns-daemon/$1.toml" <<TOML
[inbound]
addresses = ["$in"]
peer_addresses = ["${in%.*}.1/24"]
[outbound]
addresses = ["$out"]
gateway = "$gw"
[dns]
nameservers = ["$gw"]
TOML
}

# package: what dpkg -i installs, that it starts nothing, what -r and -P leave.
package() {
	check "dpkg -i" dpkg -i "$DEB"
	check "package: binaries, units, init script, man pages, examples, /etc dirs" ls -d \
		/usr/sbin/netns-daemon-start /usr/sbin/netns-daemon-stop /usr/sbin/netns-daemon-status /usr/sbin/netns-proxy \
		/lib/systemd/system/netns@.service /lib/systemd/system/netns-proxy.service /lib/systemd/system/netns-proxy@.service \
		/usr/share/netns-daemon/init.d/netns-daemon /usr/share/netns-daemon/init.d/netns-daemon.default \
		/usr/share/man/man8/netns-daemon-start.8.gz /usr/share/man/man8/netns-daemon-stop.8.gz \
		/usr/share/man/man8/netns-daemon-status.8.gz /usr/share/man/man8/netns-proxy.8.gz \
		/usr/share/man/man5/netns-daemon.toml.5.gz /usr/share/man/man5/netns-proxy.toml.5.gz \
		"$EX/systemd/haproxy-netns.service" "$EX/systemd/haproxy.service.d/netns.conf" \
		"$EX/systemd/owned/netns@haproxy.service.d/owned.conf" "$EX/proxy/basic.toml" \
		/etc/netns-daemon /etc/netns-proxy
	check "systemd knows the packaged units" systemctl cat netns@x.service netns-proxy.service netns-proxy@x.service
	check "installing enabled and started nothing" nothing_started
	check "the binaries run" netns-daemon-start --help
	dpkg -L netns-daemon >/tmp/pkg.files
	check "dpkg -r" dpkg -r netns-daemon
	check "dpkg -r leaves only conffiles" leftovers conffiles
	check "dpkg -P" dpkg -P netns-daemon
	check "dpkg -P leaves nothing" leftovers none
	check "systemd forgot the units (postrm daemon-reload)" bash -c '! systemctl cat netns@x.service'
	check "dpkg -i again" dpkg -i "$DEB"
}

nothing_started() {
	local u
	u=$(systemctl list-units --all --plain --no-legend 'netns@*' 'netns-proxy*')
	[ -z "$u" ] || { echo "units loaded: $u"; return 1; }
	u=$(systemctl list-unit-files --state=enabled --plain --no-legend 'netns@*' 'netns-proxy*')
	[ -z "$u" ] || { echo "enabled: $u"; return 1; }
}

# leftovers conffiles|none: which of the package's paths are still there;
# directories other packages own (/usr/sbin …) do not count.
leftovers() {
	local p rc=0 conf
	conf=$(dpkg-query -W -f='${Conffiles}' netns-daemon 2>/dev/null | awk '{print $1}')
	while read -r p; do
		if [ "$p" = /. ] || [ ! -e "$p" ]; then continue; fi
		[ -d "$p" ] && dpkg -S "$p" >/dev/null 2>&1 && continue
		[ "$1" = conffiles ] && grep -qxF -- "$p" <<<"$conf" && continue
		echo "left: $p"
		rc=1
	done </tmp/pkg.files
	return $rc
}

# trap_check: ns_mounted can fail, and does for what issue 13 calls the
# trap: a unit with any sandboxing (here PrivateTmp=) runs in a private
# mount namespace, and a /run/netns mount made there is not the system's.
trap_check() {
	systemd-run -q --wait -p PrivateTmp=yes /usr/sbin/netns-daemon-start -q -- nd-trap
	check "a namespace mounted from a sandboxed unit is invisible outside (the check sees it)" \
		bash -c ". $T/lib.sh; ! ns_mounted nd-trap"
	netns-daemon-stop -q -- nd-trap
	check "netns-daemon-stop cleans up what is left of it" gone nd-trap none
}

configure() {
	systemctl disable -q --now haproxy.service
	spec haproxy
	spec p1
	spec lsb
	cat >>/etc/haproxy/haproxy.cfg <<'CFG'

frontend test
	bind 10.90.0.2:80
	http-request return status 200 content-type text/plain string ok
CFG
	cat >/etc/haproxy/lsb.cfg <<'CFG'
global
	log /dev/log local0
defaults
	log global
	mode http
	option httplog
	timeout connect 1s
	timeout client 5s
	timeout server 5s
frontend lsb
	bind 10.92.0.2:80
	http-request return status 200 content-type text/plain string ok
CFG
	proxy_config 127.0.0.1:8081 127.0.0.1:9000 127.0.0.1:9101 >/etc/netns-proxy/proxy.toml
	proxy_config 10.93.0.2:80 10.93.0.1:9000 10.93.0.2:9101 >/etc/netns-proxy/p1.toml
	# The proxies' server, in the container's own namespace.
	systemd-run -q --unit=netns-test-backend python3 "$T/backend.py" 0.0.0.0 9000
	check "backend serves" serves http://127.0.0.1:9000/
}

# proxy_config BIND SERVER METRICS
proxy_config() {
	cat <<TOML
[defaults]
grace = "2s"
[metrics]
listen = "$3"
[[frontend]]
name = "web"
bind = ["$1"]
backend = "app"
[[backend]]
name = "app"
[[backend.server]]
name = "s1"
address = "$2"
TOML
}

# drive UNIT NS URL IDENT PATTERN: start, status, the namespace, reload
# under load, logs, 10 restarts, SIGKILL, stop.
drive() {
	local unit=$1 ns=$2 url=$3 since pid
	since=$(date +%s)
	check "$unit: start" systemctl start "$unit"
	check "$unit: status" systemctl status --no-pager "$unit"
	pid=$(mainpid "$unit")
	check "$unit: MainPID $pid is in namespace ${ns:-of the container}" in_ns "$ns" "$pid"
	if [ -n "$ns" ]; then
		check "$unit: /run/netns/$ns is an nsfs mount outside the unit" ns_mounted "$ns"
		# shellcheck disable=SC2086 # LAYOUT holds three words
		check "$unit: addresses and the only default route" ns_layout "$ns" ${LAYOUT[$ns]}
		check "$unit: the namespace's resolv.conf is the daemon's" \
			grep -q "nameserver ${LAYOUT[$ns]##* }" "/proc/$pid/root/etc/resolv.conf"
	fi
	check "$unit: serves $url" serves "$url"
	[ -z "${EXTRA:-}" ] || check "$unit: $EXTRA" "${EXTRA%% *}"
	check "$unit: reload keeps MainPID and loses none of 200 requests" \
		reload_check "$url" "mainpid $unit" systemctl reload "$unit"
	metrics_check "$unit" "$url"
	check "$unit: logs under identifier $4" logs "$4" "$since" "$5"
	check "$unit: 10 restarts" restarts "$unit" "$url" "$ns"
	check "$unit: restarted after SIGKILL of its main process" sigkill "$unit" "$url" "$ns"
	check "$unit: stop" systemctl stop "$unit"
}

# metrics_check UNIT URL: for netns-proxy units, scrapes survive reloads and
# the workers are named netns-proxy (NETNS_TEST_PROXY=0 makes these notes
# only, for bisecting an older proxy).
metrics_check() {
	case $1 in netns-proxy*) ;; *) return 0 ;; esac
	local m=http://127.0.0.1:9101/metrics
	[ "$1" = netns-proxy.service ] || m=http://10.93.0.2:9101/metrics
	local f=check
	[ "${NETNS_TEST_PROXY:-1}" = 1 ] || f=soft
	$f "$1: no metrics scrape fails during reloads" reload_check "$m" "mainpid $1" systemctl reload "$1"
	$f "$1: workers are named netns-proxy" workers_named "$1"
}

# soft WHAT CMD...: like check, but a failure is only a note.
soft() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$what"; else note "$what: not yet ($(printf '%s' "$out" | tail -n 1))"; fi
}

# workers_named UNIT: the master and its workers are all named netns-proxy.
workers_named() {
	local m comms
	m=$(mainpid "$1")
	comms=$( (cat "/proc/$m/comm"; pgrep -P "$m" | xargs -r -I{} cat /proc/{}/comm) | sort | xargs)
	[ "$comms" = "netns-proxy netns-proxy" ] || { echo "processes: $comms"; return 1; }
}

helper_dropin() {
	install -D -m 0644 "$EX/systemd/haproxy.service.d/netns.conf" /etc/systemd/system/haproxy.service.d/netns.conf
	systemctl daemon-reload
	drive haproxy.service haproxy http://10.90.0.2/ haproxy "GET / HTTP"
	check "haproxy.service (helper drop-in): stop keeps netns@haproxy's namespace" ns_mounted haproxy
	check "netns@haproxy.service: stop" systemctl stop netns@haproxy.service
	check "haproxy.service (helper drop-in): nothing left" gone haproxy haproxy
}

# owned_dropin: the same drop-in, plus owned.conf on netns@haproxy: the
# namespace goes when haproxy stops.
owned_dropin() {
	install -D -m 0644 "$EX/systemd/owned/netns@haproxy.service.d/owned.conf" \
		/etc/systemd/system/netns@haproxy.service.d/owned.conf
	systemctl daemon-reload
	drive haproxy.service haproxy http://10.90.0.2/ haproxy "GET / HTTP"
	check "haproxy.service (owned): nothing left after stop" gone haproxy haproxy
	rm -r /etc/systemd/system/haproxy.service.d
	systemctl daemon-reload
}

exec_unit() {
	local since
	since=$(date +%s)
	install -m 0644 "$EX/systemd/haproxy-netns.service" /etc/systemd/system/
	echo 'EXTRAOPTS="-S /run/haproxy-master.sock -L netns-test"' >/etc/default/haproxy
	systemctl daemon-reload
	EXTRA="master_socket answers on /run/haproxy-master.sock; EnvironmentFile= read" \
		drive haproxy-netns.service haproxy http://10.90.0.2/ haproxy "GET / HTTP"
	check "haproxy-netns.service: haproxy's own output is logged as haproxy (SyslogIdentifier=)" \
		logs haproxy "$since" "Loading success"
	check "haproxy-netns.service (owned): nothing left after stop" gone haproxy haproxy
	rm /etc/default/haproxy
}

proxy_unit() {
	drive netns-proxy.service "" http://127.0.0.1:8081/ netns-proxy "127.0.0.1"
	check "netns-proxy.service: nothing left after stop" bash -c '! pgrep -a -f "^/usr/sbin/netns-proxy"'
}

proxy_template() {
	drive netns-proxy@p1.service p1 http://10.93.0.2/ netns-proxy "10.93.0"
	check "netns-proxy@p1.service: nothing left after stop" gone p1 netns-proxy
}

# lsb_script: the init script, copied as /etc/init.d/haproxy-lsb, driven by
# hand (its processes live in this test's own unit).
lsb_script() {
	local s=/etc/init.d/haproxy-lsb url=http://10.92.0.2/ since pid old
	since=$(date +%s)
	install -m 0755 /usr/share/netns-daemon/init.d/netns-daemon "$s"
	cat >/etc/default/netns-daemon-haproxy-lsb <<'EOF2'
DAEMON=/usr/sbin/haproxy
DAEMON_ARGS="-W -db -f /etc/haproxy/lsb.cfg"
NETNS=lsb
CONFIG=/etc/netns-daemon/lsb.toml
RELOAD_COMMAND='/usr/sbin/haproxy -c -q -f /etc/haproxy/lsb.cfg && kill -USR2 $MAINPID'
STOP_TIMEOUT=5
EOF2
	check "init.d: status before start is 3" bash -c "$s status; [ \$? = 3 ]"
	check "init.d: start" "$s" start
	check "init.d: status" "$s" status
	pid=$(cat /run/haproxy-lsb.pid)
	check "init.d: the pidfile's PID $pid is haproxy in namespace lsb" in_ns lsb "$pid"
	check "init.d: /run/netns/lsb is an nsfs mount" ns_mounted lsb
	# shellcheck disable=SC2086
	check "init.d: addresses and the only default route" ns_layout lsb ${LAYOUT[lsb]}
	check "init.d: serves $url" serves "$url"
	check "init.d: reload keeps the PID and loses none of 200 requests" \
		reload_check "$url" "cat /run/haproxy-lsb.pid" "$s" reload
	check "init.d: haproxy logs under identifier haproxy" logs haproxy "$since" "lsb lsb/<NOSRV>"
	check "init.d: 10 restarts" initd_restarts "$s"
	check "init.d: serves after the restarts" serves "$url"
	old=$(cat /run/haproxy-lsb.pid)
	kill -KILL "$old"
	for _ in $(seq 20); do [ -e "/proc/$old" ] || break; sleep 0.1; done
	check "init.d: status after SIGKILL is 1 (dead, pidfile left)" bash -c "$s status; [ \$? = 1 ]"
	check "init.d: start after SIGKILL" "$s" start
	check "init.d: serves again" serves "$url"
	check "init.d: stop" "$s" stop
	check "init.d: status after stop is 3" bash -c "$s status; [ \$? = 3 ]"
	check "init.d: nothing left after stop" gone lsb haproxy
}

initd_restarts() {
	local i
	for i in $(seq 10); do "$1" restart >/dev/null || { echo "restart $i failed"; return 1; }; done
}

# master_socket: the master CLI answers, and haproxy got /etc/default/haproxy
# (EnvironmentFile=: its EXTRAOPTS set the local peer name netns-test).
master_socket() {
	echo "show proc" | timeout 2 python3 "$T/unixsend.py" /run/haproxy-master.sock | grep -w master &&
		tr '\0' ' ' <"/proc/$(mainpid haproxy-netns.service)/cmdline" | grep -- "-L netns-test"
}

enable_for_boot2() {
	install -D -m 0644 "$EX/systemd/haproxy.service.d/netns.conf" /etc/systemd/system/haproxy.service.d/netns.conf
	rm -rf /etc/systemd/system/haproxy-netns.service /etc/systemd/system/netns@haproxy.service.d
	systemctl daemon-reload
	check "enable netns@haproxy, haproxy (helper drop-in), netns-proxy@p1" \
		systemctl enable -q netns@haproxy.service haproxy.service netns-proxy@p1.service
	systemctl disable -q netns-test-backend.service 2>/dev/null || true
}

boot2() {
	systemd-run -q --unit=netns-test-backend python3 "$T/backend.py" 0.0.0.0 9000
	local u
	for u in netns@haproxy.service haproxy.service netns-proxy@p1.service; do
		check "boot 2: $u is active" systemctl -q is-active "$u"
	done
	check "boot 2: netns@haproxy was active before haproxy started" ordered netns@haproxy.service haproxy.service
	check "boot 2: haproxy is in namespace haproxy" in_ns haproxy "$(mainpid haproxy.service)"
	check "boot 2: /run/netns/haproxy is an nsfs mount" ns_mounted haproxy
	check "boot 2: haproxy serves" serves http://10.90.0.2/
	check "boot 2: netns-proxy@p1 is in namespace p1" in_ns p1 "$(mainpid netns-proxy@p1.service)"
	check "boot 2: netns-proxy@p1 serves" serves http://10.93.0.2/
	check "boot 2: stop" systemctl stop haproxy.service netns@haproxy.service netns-proxy@p1.service
	check "boot 2: nothing left of haproxy" gone haproxy haproxy
	check "boot 2: nothing left of p1" gone p1 netns-proxy
}
