#!/bin/sh
# Routing and nftables for transparent proxying with netns-proxy, inside
# network namespace NAMESPACE (where the proxy's sockets live):
#
#   transparent.sh up NAMESPACE     add the rules below
#   transparent.sh down NAMESPACE   remove exactly those, nothing else
#
# What up adds (IPv4 and IPv6):
#   ip rule add fwmark $MARK lookup $TABLE
#   ip route add local 0.0.0.0/0 dev lo table $TABLE   (::/0 for IPv6)
#   nft table inet netns_proxy_transparent, chain prerouting:
#     socket transparent 1 -> mark    replies to a socket bound to a
#                                      non-local address (backend
#                                      source = "client") are delivered
#                                      locally instead of forwarded
#     tproxy rule (only with TPROXY_PORT and TPROXY_DST)
#                                      connections to TPROXY_DST[:TPROXY_DPORT]
#                                      go to the transparent listener on
#                                      TPROXY_PORT (frontend transparent = true)
#
# This is what HAProxy's `source 0.0.0.0 usesrc clientip` needs around it.
# Environment: MARK (default 1), TABLE (default 100), TPROXY_PORT,
# TPROXY_DST (an IPv4 CIDR), TPROXY_DPORT (optional).
set -eu

MARK=${MARK:-1}
TABLE=${TABLE:-100}
NFT_TABLE=netns_proxy_transparent

usage() {
	echo "usage: $0 up|down NAMESPACE" >&2
	exit 2
}

[ $# -eq 2 ] || usage
action=$1
ns=$2

in_ns() {
	ip netns exec "$ns" "$@"
}

ruleset() {
	tproxy=""
	if [ -n "${TPROXY_PORT:-}" ] && [ -n "${TPROXY_DST:-}" ]; then
		dport=""
		if [ -n "${TPROXY_DPORT:-}" ]; then
			dport="tcp dport $TPROXY_DPORT"
		fi
		tproxy="meta l4proto tcp ip daddr $TPROXY_DST $dport tproxy ip to :$TPROXY_PORT meta mark set $MARK accept"
	fi
	cat <<NFT
table inet $NFT_TABLE {
	chain prerouting {
		type filter hook prerouting priority mangle; policy accept;
		meta l4proto tcp socket transparent 1 meta mark set $MARK accept
		$tproxy
	}
}
NFT
}

load_rules() {
	ruleset | in_ns nft -f -
}

down() {
	# Each item may already be gone; that counts as removed.
	in_ns nft delete table inet "$NFT_TABLE" 2>/dev/null || :
	in_ns ip -6 route del local ::/0 dev lo table "$TABLE" 2>/dev/null || :
	in_ns ip -6 rule del fwmark "$MARK" lookup "$TABLE" 2>/dev/null || :
	in_ns ip route del local 0.0.0.0/0 dev lo table "$TABLE" 2>/dev/null || :
	in_ns ip rule del fwmark "$MARK" lookup "$TABLE" 2>/dev/null || :
}

# step runs one change of up; on failure it undoes everything up added.
step() {
	if ! "$@"; then
		echo "$0: failed: $*" >&2
		down
		exit 1
	fi
}

up() {
	[ -e "/run/netns/$ns" ] || { echo "$0: namespace $ns does not exist" >&2; exit 1; }
	step in_ns ip rule add fwmark "$MARK" lookup "$TABLE"
	step in_ns ip route add local 0.0.0.0/0 dev lo table "$TABLE"
	step in_ns ip -6 rule add fwmark "$MARK" lookup "$TABLE"
	step in_ns ip -6 route add local ::/0 dev lo table "$TABLE"
	step load_rules
}

case $action in
up) up ;;
down) down ;;
*) usage ;;
esac
