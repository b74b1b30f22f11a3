#!/bin/bash
# Runs inside the boot test's container, whose PID 1 is systemd, as a
# transient unit without sandboxing: it sees the system's mount namespace,
# as an operator's shell would, so it checks the units from outside.
#   inside.sh boot1: the package (install, remove, purge, install again),
#                    then every unit and the init script; enables some.
#   inside.sh boot2: the units enabled in boot 1 came up, in order.
# Prints ok/FAIL lines and "inside: N passed, M failed".
set -uo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin SYSTEMD_PAGER='' SYSTEMD_COLORS=0
T=/srv/netns-test
DEB=/srv/netns-deb/netns-daemon.deb
EX=/usr/share/doc/netns-daemon/examples
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$T/lib.sh"
# shellcheck source-path=SCRIPTDIR source=scenarios.sh
. "$T/scenarios.sh"

case ${1:-} in
boot1)
	package
	trap_check
	configure
	helper_dropin
	owned_dropin
	exec_unit
	proxy_unit
	proxy_template
	lsb_script
	enable_for_boot2
	;;
boot2) boot2 ;;
*)
	echo "usage: $0 boot1|boot2" >&2
	exit 2
	;;
esac
echo "inside: $pass passed, $failed failed"
[ "$failed" = 0 ]
