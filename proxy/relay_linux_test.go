package proxy

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// bufferEcho echoes through a small buffer: io.Copy between TCPConns
// would splice and pin pipes and goroutines on the test's side.
func bufferEcho(c net.Conn) {
	io.CopyBuffer(struct{ io.Writer }{c}, struct{ io.Reader }{c}, make([]byte, 64))
}

// TestIdleHoldsNoPipe: idle connections must not pin splice pipes (two fds
// each), or 10,000 idle connections run out of fds.
func TestIdleHoldsNoPipe(t *testing.T) {
	pipesOpen := func() int {
		fds, _ := filepath.Glob("/proc/self/fd/*")
		n := 0
		for _, fd := range fds {
			if l, _ := os.Readlink(fd); strings.HasPrefix(l, "pipe:") {
				n++
			}
		}
		return n
	}
	srv := serveOn(t, listenLoopback(t), bufferEcho)
	r := startProxy(t, config("", "", addrLine(srv)))
	before := pipesOpen()
	const n = 200
	for range n {
		dialProxy(t, r)
	}
	if got := pipesOpen() - before; got >= n {
		t.Errorf("%d idle connections hold %d pipe fds; want fewer than one per connection", n, got)
	}
}

// TestParkedConnections: connections idle past parkAfter give up their
// goroutines, then relay again, half-close and end on grace like others.
func TestParkedConnections(t *testing.T) {
	srv := serveOn(t, listenLoopback(t), bufferEcho)
	r := startProxy(t, "[defaults]\ngrace = \"200ms\"\n"+config("", "", addrLine(srv)))
	before := runtime.NumGoroutine()
	const n = 20
	conns := make([]net.Conn, n)
	for i := range conns {
		conns[i] = dialProxy(t, r)
	}
	time.Sleep(parkAfter + 500*time.Millisecond)
	// Left: the test's own echo goroutine per connection, not the proxy's two.
	if got := runtime.NumGoroutine() - before; got > n+5 {
		t.Errorf("%d goroutines for %d idle connections; want the proxy's parked", got, n)
	}
	buf := make([]byte, 5)
	for i, c := range conns[:n/2] {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "again")
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "again" {
			t.Fatalf("conn %d after parking: %q, %v", i, buf, err)
		}
		c.(*net.TCPConn).CloseWrite()
		if rest, err := io.ReadAll(c); err != nil || len(rest) != 0 {
			t.Errorf("conn %d half-close after parking: %q, %v", i, rest, err)
		}
	}
	r.stop() // the other half are still parked: grace must end them
	select {
	case err := <-r.done:
		r.done <- err
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return with parked connections")
	}
	for i, c := range conns[n/2:] {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Read(buf); err != io.EOF {
			t.Errorf("parked conn %d after grace: %v; want EOF", i, err)
		}
	}
	r.log.waitLog(t, "term=shutdown")
}
