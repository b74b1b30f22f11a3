package proxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuf is a log sink tests can read while the proxy writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitLog waits up to 5s for the log to contain want.
func (s *syncBuf) waitLog(t testing.TB, want string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(s.String(), want) {
			return
		}
	}
	t.Fatalf("log does not contain %q:\n%s", want, s)
}

type running struct {
	p    *Proxy
	log  *syncBuf
	stop context.CancelFunc
	done chan error
}

// addr is the first listener of frontend "in".
func (r *running) addr() string { return r.p.Addrs("in")[0].String() }

// startProxy runs a config until the test ends.
func startProxy(t testing.TB, cfgText string) *running {
	t.Helper()
	return startProxyLog(t, cfgText, nil)
}

// startProxyLog is startProxy logging to logTo (nil: the running's log).
func startProxyLog(t testing.TB, cfgText string, logTo io.Writer) *running {
	t.Helper()
	cfg, err := Load(strings.NewReader(cfgText))
	if err != nil {
		t.Fatalf("config: %v\n%s", err, cfgText)
	}
	r := &running{log: &syncBuf{}, done: make(chan error, 1)}
	if logTo == nil {
		logTo = r.log
	}
	r.p, err = New(cfg, NewLogger(logTo, "text"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go func() { r.done <- r.p.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			t.Error("proxy did not stop")
		}
		if t.Failed() {
			t.Logf("proxy log:\n%s", r.log)
		}
	})
	return r
}

// testServer accepts until the test ends and runs handle per connection.
type testServer struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (s *testServer) addr() string { return s.ln.Addr().String() }

func serveOn(t testing.TB, ln net.Listener, handle func(net.Conn)) *testServer {
	t.Helper()
	s := &testServer{ln: ln}
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return s
}

func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// nameServer replies with its name and closes.
func nameServer(name string) func(net.Conn) {
	return func(c net.Conn) { io.WriteString(c, name) }
}

// reportServer reads to EOF then replies with what it got.
func reportServer(c net.Conn) {
	b, _ := io.ReadAll(c)
	fmt.Fprintf(c, "got:%s", b)
}

// roundTrip connects, sends msg, half-closes and reads the whole reply.
func roundTrip(t *testing.T, dial func() (net.Conn, error), msg string) (string, error) {
	t.Helper()
	c, err := dial()
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, msg); err != nil {
		return "", err
	}
	c.(*net.TCPConn).CloseWrite()
	b, err := io.ReadAll(c)
	return string(b), err
}

func dialTo(addr string) func() (net.Conn, error) {
	return func() (net.Conn, error) { return net.DialTimeout("tcp", addr, 2*time.Second) }
}

// config builds a one-frontend, one-backend config on loopback.
func config(frontendExtra, backendExtra string, servers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[[frontend]]\nname = \"in\"\nbind = [\"127.0.0.1:0\"]\nbackend = \"app\"\n%s\n", frontendExtra)
	fmt.Fprintf(&b, "[[backend]]\nname = \"app\"\n%s\n", backendExtra)
	for i, s := range servers {
		fmt.Fprintf(&b, "[[backend.server]]\nname = \"s%d\"\n%s\n", i+1, s)
	}
	return b.String()
}

func addrLine(s *testServer) string { return fmt.Sprintf("address = %q", s.addr()) }

// starConfig: accept_proxy from loopback, one server at address in
// namespace "*", with the given allow-list.
func starConfig(address string, namespaces ...string) string {
	q := make([]string, len(namespaces))
	for i, n := range namespaces {
		q[i] = strconv.Quote(n)
	}
	return "namespaces = [" + strings.Join(q, ", ") + "]\n" + config(
		"accept_proxy = true\ntrusted_sources = [\"127.0.0.1\"]", "",
		fmt.Sprintf("address = %q\nnamespace = \"*\"", address))
}

func echoServer(c net.Conn) { io.Copy(c, c) }

// dialProxy connects to frontend "in" and sends one byte through the
// echo server behind it, so the connection is surely relayed.
func dialProxy(t *testing.T, r *running) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", r.addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	io.WriteString(c, "a")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatalf("first echo: %v", err)
	}
	return c
}
