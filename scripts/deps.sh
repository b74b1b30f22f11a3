#!/bin/sh
# Installs, from Debian, the tools the tests and benchmarks drive (and
# make deb / make test-systemd: dpkg-deb, lintian, mmdebstrap, nspawn).
# Safe to rerun.
set -eu
need=""
for pair in ip:iproute2 haproxy:haproxy nft:nftables socat:socat iperf3:iperf3 \
	wrk:wrk shellcheck:shellcheck start-stop-daemon:dpkg systemd-analyze:systemd \
	python3:python3 ps:procps dpkg-deb:dpkg lintian:lintian lexgrog:man-db \
	mmdebstrap:mmdebstrap systemd-nspawn:systemd-container nsenter:util-linux \
	podman:podman containerd:containerd runc:runc /usr/lib/cni/ptp:containernetworking-plugins jq:jq radvd:radvd; do
	cmd=${pair%%:*} pkg=${pair#*:}
	command -v "$cmd" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "$cmd" >/dev/null 2>&1 || need="$need $pkg"
done
# busybox-static, not busybox: the tests' container image is one static binary.
dpkg -s busybox-static >/dev/null 2>&1 || need="$need busybox-static"
# cnitool, the CNI project's reference client (the CNI plugin's tests drive it).
if ! command -v cnitool >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && command -v go >/dev/null 2>&1; then
	GOBIN=/usr/local/bin go install github.com/containernetworking/cni/cnitool@v1.3.1 ||
		echo "deps: installing cnitool failed: its tests will skip" >&2
fi
[ -z "$need" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing:$need (run as root to install)" >&2
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $need
