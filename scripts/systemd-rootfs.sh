#!/bin/sh
# Prints the path of a cached Debian bookworm rootfs for the systemd boot
# test, building it with mmdebstrap when missing (~1 min, ~250 MB) from the
# archive apt already uses. The test boots throwaway copies, never this one.
# Bump VERSION when the package list changes.
set -eu
VERSION=1
CACHE=${NETNS_DAEMON_CACHE:-/var/cache/netns-daemon}
ROOT=$CACHE/systemd-rootfs-bookworm-v$VERSION
if [ -x "$ROOT/lib/systemd/systemd" ] && [ -e "$ROOT/.complete" ]; then
	echo "$ROOT"
	exit 0
fi
mkdir -p "$CACHE"
tmp=$(mktemp -d "$CACHE/.rootfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
sources=/etc/apt/sources.list.d/debian.sources
[ -r "$sources" ] || sources=/etc/apt/sources.list
echo "systemd-rootfs: building $ROOT with mmdebstrap" >&2
# shellcheck disable=SC2016 # the hooks expand $1 (the root) themselves
mmdebstrap --quiet --variant=minbase \
	--include=systemd,systemd-sysv,dbus,iproute2,haproxy,procps,curl,python3-minimal \
	--customize-hook=': >"$1/etc/machine-id"' \
	--customize-hook='echo netns-test > "$1/etc/hostname"' \
	bookworm "$tmp/root" "$sources" >&2
touch "$tmp/root/.complete"
rm -rf "$ROOT"
mv "$tmp/root" "$ROOT"
echo "$ROOT"
