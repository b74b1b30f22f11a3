package proxy

import (
	"context"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// controlFunc is the Control hook of net.Dialer and net.ListenConfig. The
// hook socketIn hands out runs right after socket(2) and returns the thread
// to the proxy's namespace, so bind, listen and connect run unlocked.
type controlFunc = func(network, address string, c syscall.RawConn) error

// listenIn binds a TCP listener inside namespace ns ("" = the proxy's own).
func (t *nsTable) listenIn(ns, addr string) (*net.TCPListener, error) {
	var ln net.Listener
	err := t.socketIn(ns, func(control controlFunc) error {
		lc := net.ListenConfig{Control: control, KeepAlive: -1} // no keepalive setsockopts per accept
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
func (t *nsTable) dialIn(ctx context.Context, ns string, dst netip.AddrPort, source netip.Addr, timeout time.Duration) (*net.TCPConn, error) {
	var c net.Conn
	err := t.socketIn(ns, func(control controlFunc) error {
		d := net.Dialer{Timeout: timeout, Control: control, KeepAlive: -1}
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
