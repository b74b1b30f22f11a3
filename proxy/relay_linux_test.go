package proxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
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
		if _, err := c.Read(buf); !errors.Is(err, io.EOF) {
			t.Errorf("parked conn %d after grace: %v; want EOF", i, err)
		}
	}
	r.log.waitLog(t, "term=shutdown")
}

// TestResetPassedThrough: when one side aborts (RST), the other sees a
// reset too, not a clean EOF, in both directions, whether the relay was
// busy or parked.
func TestResetPassedThrough(t *testing.T) {
	for _, parked := range []bool{false, true} {
		t.Run(fmt.Sprintf("parked=%v", parked), func(t *testing.T) {
			serverSaw := make(chan error, 1)
			abortServer := make(chan bool, 1) // true: the server aborts; false: it reads until the client does
			srv := serveOn(t, listenLoopback(t), func(c net.Conn) {
				b := make([]byte, 1)
				if _, err := io.ReadFull(c, b); err != nil {
					serverSaw <- err
					return
				}
				c.Write(b)
				if <-abortServer {
					c.(*net.TCPConn).SetLinger(0)
					c.Close()
					return
				}
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				_, err := c.Read(b)
				serverSaw <- err
			})
			r := startProxy(t, config("", "", addrLine(srv)))
			wait := func() {
				if parked {
					time.Sleep(parkAfter + 300*time.Millisecond)
				}
			}

			abortServer <- true
			c := dialProxy(t, r)
			wait()
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("client after the server's reset: %v; want ECONNRESET", err)
			}

			abortServer <- false
			c = dialProxy(t, r)
			wait()
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
			select {
			case err := <-serverSaw:
				if !errors.Is(err, syscall.ECONNRESET) {
					t.Errorf("server after the client's reset: %v; want ECONNRESET", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("server saw nothing of the client's reset")
			}
		})
	}
}
