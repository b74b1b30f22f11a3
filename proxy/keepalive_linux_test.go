package proxy

import (
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

// A listener taken over from a master accepts without keepalive, as one
// the worker binds itself.
func TestInheritedListenerNoKeepAlive(t *testing.T) {
	orig, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	f, err := orig.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	fl, err := net.FileListener(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	ln := fl.(*net.TCPListener)
	defer ln.Close()
	if !noAcceptKeepAlive(ln) {
		t.Fatal("net.TCPListener has no ListenConfig field lc any more")
	}
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a, err := ln.AcceptTCP()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	raw, _ := a.SyscallConn()
	var on int
	var gerr error
	raw.Control(func(fd uintptr) { on, gerr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_KEEPALIVE) })
	if gerr != nil {
		t.Fatal(gerr)
	}
	if on != 0 {
		t.Fatal("accepted connection has SO_KEEPALIVE on")
	}
}
