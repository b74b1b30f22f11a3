#!/bin/sh
# Installs what the Debian package holds (make install and make deb share
# it): binaries, units, the LSB script, man pages, examples, /etc dirs.
# Env: DESTDIR, SBINDIR, UNITDIR, DATADIR, MANDIR, DOCDIR, SYSCONFDIR; the
# binaries and man pages are read from BIN (bin/).
set -eu
cd "$(dirname "$0")/.."
: "${DESTDIR:=}" "${BIN:=bin}"
: "${SBINDIR:?}" "${UNITDIR:?}" "${DATADIR:?}" "${MANDIR:?}" "${DOCDIR:?}" "${SYSCONFDIR:?}"
D=$DESTDIR

# Units name the binaries as the package installs them (/usr/sbin).
unit() { sed "s#/usr/sbin/netns-#$SBINDIR/netns-#g" "$1" >"$2" && chmod 0644 "$2"; }

install -d "$D$SBINDIR" "$D$UNITDIR" "$D$DATADIR/netns-daemon/init.d" \
	"$D$MANDIR/man5" "$D$MANDIR/man8" "$D$DOCDIR/examples" \
	"$D$SYSCONFDIR/netns-daemon" "$D$SYSCONFDIR/netns-proxy"
for b in netns-daemon-start netns-daemon-stop netns-daemon-status netns-proxy; do
	install -m 0755 "$BIN/$b" "$D$SBINDIR/$b"
done
for u in netns@.service netns-proxy.service netns-proxy@.service; do
	unit "examples/systemd/$u" "$D$UNITDIR/$u"
done
install -m 0755 init.d/netns-daemon "$D$DATADIR/netns-daemon/init.d/netns-daemon"
install -m 0644 init.d/netns-daemon.default "$D$DATADIR/netns-daemon/init.d/netns-daemon.default"
for m in "$BIN"/man/*.[58]; do
	gzip -9n -c "$m" >"$D$MANDIR/man${m##*.}/${m##*/}.gz"
	chmod 0644 "$D$MANDIR/man${m##*.}/${m##*/}.gz"
done
install -m 0644 README.md "$D$DOCDIR/README.md"
install -m 0644 init.d/README.md "$D$DOCDIR/README.init.d.md"
# Examples without their tests; units with the installed binaries' paths.
find examples -type f ! -name '*_test.go' | sort | while read -r f; do
	dst=$D$DOCDIR/$f
	install -d "${dst%/*}"
	case $f in
	*.service | *.conf) unit "$f" "$dst" ;;
	*) install -m 0644 "$f" "$dst" ;;
	esac
done
