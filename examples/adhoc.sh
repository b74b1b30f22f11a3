#!/bin/sh
# The ad-hoc one-liners: provision from flags alone, look inside, run
# commands there, tear down. As root: ./adhoc.sh [NAME]. With
# HOST_NETNS=NS the host side goes into namespace NS instead of the host.
set -eu
NAME=${1:-adhoc}
if [ -n "${HOST_NETNS:-}" ]; then set -- --host-netns "$HOST_NETNS"; else set --; fi
trap 'netns-daemon-stop -q "$NAME"' EXIT

# Inbound veth with a host-side address, outbound veth with the gateway.
netns-daemon-start -q "$@" --network 10.1.0.5/24 --peer-address 10.1.0.1/24 \
	--outbound 10.2.0.5/24 --gateway 10.2.0.1 --nameserver 10.2.0.1 "$NAME"
netns-daemon-status "$NAME"

# Join it: commands see its network and its /etc/netns files.
netns-daemon-start --join "$NAME" -- ip route get 192.0.2.1
netns-daemon-start --join "$NAME" -- grep nameserver /etc/resolv.conf

# Exec mode: the same flags again reuse the namespace; the command gets
# NETNS_* in its environment and runs as nobody.
# shellcheck disable=SC2016 # expanded by the command, inside
netns-daemon-start -q "$@" --network 10.1.0.5/24 --peer-address 10.1.0.1/24 \
	--outbound 10.2.0.5/24 --gateway 10.2.0.1 --nameserver 10.2.0.1 --user nobody "$NAME" -- \
	sh -c 'echo "$(id -un) in $NETNS_NAME: in=$NETNS_INBOUND_ADDRS out=$NETNS_OUTBOUND_ADDRS gw=$NETNS_GATEWAY"'
