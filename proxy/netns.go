package proxy

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// controlFunc is the Control hook of net.Dialer and net.ListenConfig. The
// hook socketIn hands out runs right after socket(2) and returns the thread
// to the proxy's namespace, so bind, listen and connect run unlocked.
type controlFunc = func(network, address string, c syscall.RawConn) error

// listenIn binds a TCP listener inside namespace ns ("" = the proxy's own);
// transparent sets IP_TRANSPARENT so it accepts what a tproxy rule delivers.
func (t *nsTable) listenIn(ns, addr string, transparent bool) (*net.TCPListener, error) {
	var ln net.Listener
	err := t.socketIn(ns, func(back controlFunc) error {
		lc := net.ListenConfig{Control: withTransparent(back, transparent), KeepAlive: -1} // no keepalive setsockopts per accept
		var err error
		ln, err = lc.Listen(context.Background(), "tcp", addr)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ln.(*net.TCPListener), nil
}

// dialIn connects to dst from inside namespace ns, from source if valid.
// transparent lets source be an address that is not local (the client's).
func (t *nsTable) dialIn(ctx context.Context, ns string, dst netip.AddrPort, source netip.Addr, transparent bool, timeout time.Duration) (*net.TCPConn, error) {
	if transparent && source.Is4() != dst.Addr().Is4() {
		return nil, fmt.Errorf("connecting to %s from client address %s: address families differ", dst, source)
	}
	var c net.Conn
	err := t.socketIn(ns, func(back controlFunc) error {
		d := net.Dialer{Timeout: timeout, Control: withTransparent(back, transparent), KeepAlive: -1}
		if source.IsValid() {
			d.LocalAddr = &net.TCPAddr{IP: source.AsSlice()}
		}
		var err error
		c, err = d.DialContext(ctx, "tcp", dst.String())
		return err
	})
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// withTransparent runs back (the way out of the namespace) and then, if
// on, sets IP_TRANSPARENT; Control runs before bind, as the kernel needs.
func withTransparent(back controlFunc, on bool) controlFunc {
	if !on {
		return back
	}
	return func(network, address string, c syscall.RawConn) error {
		if back != nil {
			if err := back(network, address, c); err != nil {
				return err
			}
		}
		var serr error
		if err := c.Control(func(fd uintptr) { serr = setTransparent(int(fd), network) }); err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("setting IP_TRANSPARENT: %w", serr)
		}
		return nil
	}
}
