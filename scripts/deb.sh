#!/bin/sh
# Builds bin/netns-daemon_VERSION_ARCH.deb offline with dpkg-deb from what
# scripts/install.sh installs for PREFIX=/usr (make deb builds the
# binaries and man pages first). Prints the .deb's path.
set -eu
cd "$(dirname "$0")/.."
version=$(./scripts/version.sh)
arch=$(dpkg --print-architecture)
deb=bin/netns-daemon_${version}_$arch.deb
stage=$(mktemp -d "${TMPDIR:-/tmp}/netns-daemon-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/root
DESTDIR=$root SBINDIR=/usr/sbin UNITDIR=/lib/systemd/system DATADIR=/usr/share \
	MANDIR=/usr/share/man DOCDIR=/usr/share/doc/netns-daemon SYSCONFDIR=/etc \
	./scripts/install.sh
doc=$root/usr/share/doc/netns-daemon
install -m 0644 pkg/deb/copyright "$doc/copyright"
# A native package's changelog, dated like the commit it is built from.
date=$(git log -1 --format=%cD 2>/dev/null || date -R)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
printf 'netns-daemon (%s) unstable; urgency=medium\n\n  * Built from commit %s.\n\n -- netns-daemon developers <netns-daemon@users.noreply.github.com>  %s\n' \
	"$version" "$commit" "$date" | gzip -9n >"$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"
install -D -m 0644 pkg/deb/lintian-overrides "$root/usr/share/lintian/overrides/netns-daemon"
install -d "$root/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed "s/@VERSION@/$version/; s/@ARCH@/$arch/; s/@SIZE@/$size/" pkg/deb/control.in >"$root/DEBIAN/control"
install -m 0755 pkg/deb/postinst pkg/deb/postrm "$root/DEBIAN/"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"
# A conffile list only when /etc holds files (the directories are enough).
(cd "$root" && find etc -type f -printf '/%p\n' | sort) >"$stage/conffiles"
[ -s "$stage/conffiles" ] && install -m 0644 "$stage/conffiles" "$root/DEBIAN/conffiles"
mkdir -p bin
rm -f bin/netns-daemon_*.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
