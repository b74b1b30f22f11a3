package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/netns-daemon/netns-daemon/proxy/proxyproto"
)

func TestHalfClose(t *testing.T) {
	srv := serveOn(t, listenLoopback(t), reportServer)
	r := startProxy(t, config("", "", addrLine(srv)))
	got, err := roundTrip(t, dialTo(r.addr()), "hello")
	if err != nil || got != "got:hello" {
		t.Fatalf("got %q, %v; want %q", got, err, "got:hello")
	}
	r.log.waitLog(t, "bytes_in=5 bytes_out=9")
	r.log.waitLog(t, "term=closed")
}

func TestLargeTransfer(t *testing.T) {
	srv := serveOn(t, listenLoopback(t), echoServer)
	r := startProxy(t, config("", "", addrLine(srv)))
	c, err := net.Dial("tcp", r.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	const size = 8 << 20
	go func() {
		buf := make([]byte, 64<<10)
		for i := range buf {
			buf[i] = byte(i)
		}
		for sent := 0; sent < size; sent += len(buf) {
			c.Write(buf)
		}
		c.(*net.TCPConn).CloseWrite()
	}()
	n, err := io.Copy(io.Discard, c)
	if err != nil || n != size {
		t.Fatalf("echoed %d bytes, %v; want %d", n, err, size)
	}
}

func TestSendProxyAndAcceptProxy(t *testing.T) {
	hdrs := make(chan proxyproto.Header, 1)
	srv := serveOn(t, listenLoopback(t), func(c net.Conn) {
		br := bufio.NewReaderSize(c, proxyproto.MinReaderSize)
		h, err := proxyproto.Read(br)
		if err != nil {
			t.Errorf("server reading header: %v", err)
			return
		}
		hdrs <- h
		rest, _ := io.ReadAll(br)
		io.WriteString(c, "got:"+string(rest))
	})
	for _, v := range []string{"v1", "v2"} {
		t.Run(v, func(t *testing.T) {
			r := startProxy(t, config("accept_proxy = true\ntrusted_sources = [\"127.0.0.0/8\"]", "send_proxy = \""+v+"\"", addrLine(srv)))
			in := proxyproto.Header{Command: proxyproto.Proxy, Family: proxyproto.TCP4,
				Src: netip.MustParseAddrPort("192.0.2.7:4000"), Dst: netip.MustParseAddrPort("198.51.100.1:80"),
				TLVs: []proxyproto.TLV{{Type: 0xe0, Value: []byte("kept")}, {Type: proxyproto.TypeCRC32C, Value: []byte("abcd")}}}
			b, _ := in.AppendV2(nil)
			got, err := roundTrip(t, dialTo(r.addr()), string(b)+"payload")
			if err != nil || got != "got:payload" {
				t.Fatalf("got %q, %v; want %q", got, err, "got:payload")
			}
			h := <-hdrs
			if h.Src != in.Src || h.Dst != in.Dst {
				t.Errorf("server saw %v -> %v; want %v -> %v", h.Src, h.Dst, in.Src, in.Dst)
			}
			wantTLVs := 0
			if v == "v2" {
				wantTLVs = 1
				if h.TLVs[0].Type != 0xe0 || string(h.TLVs[0].Value) != "kept" {
					t.Errorf("TLVs %+v; want only 0xe0 \"kept\" passed on", h.TLVs)
				}
			}
			if len(h.TLVs) != wantTLVs {
				t.Errorf("got %d TLVs; want %d", len(h.TLVs), wantTLVs)
			}
			r.log.waitLog(t, "client=192.0.2.7:4000")
		})
	}
}

func TestHeaderRefused(t *testing.T) {
	srv := serveOn(t, listenLoopback(t), reportServer)
	tests := []struct {
		name, trusted, send, log string
	}{
		{"untrusted source", `["10.0.0.0/8"]`, "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nx", "untrusted source"},
		{"no header", `["127.0.0.1"]`, "GET / HTTP/1.0\r\n\r\n", "no PROXY header"},
		{"truncated", `["127.0.0.1"]`, "PROXY TCP4 1.2.3.4", "truncated header"},
		{"too large", `["127.0.0.1"]`, "PROXY TCP4 " + strings.Repeat("1", 200), "header too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startProxy(t, config("accept_proxy = true\ntrusted_sources = "+tt.trusted, "", addrLine(srv)))
			got, _ := roundTrip(t, dialTo(r.addr()), tt.send)
			if got != "" {
				t.Errorf("client got %q; want the connection closed", got)
			}
			r.log.waitLog(t, "term=\"refused: ")
			r.log.waitLog(t, tt.log)
		})
	}
}

// TestLocalHeaderStarServer: a LOCAL header (HAProxy's health check) to
// a backend whose address comes from the header has nowhere to go; it must
// not loop back into our own listener.
func TestLocalHeaderStarServer(t *testing.T) {
	r := startProxy(t, config("accept_proxy = true\ntrusted_sources = [\"127.0.0.1\"]", "", `address = "*"`))
	local, _ := (&proxyproto.Header{Command: proxyproto.Local}).AppendV2(nil)
	if got, _ := roundTrip(t, dialTo(r.addr()), string(local)); got != "" {
		t.Errorf("got %q; want the connection closed", got)
	}
	r.log.waitLog(t, "carries no destination")
	if strings.Count(r.log.String(), "msg=connection") != 1 {
		t.Errorf("want exactly one connection logged:\n%s", r.log)
	}
}

func TestHeaderTimeout(t *testing.T) {
	srv := serveOn(t, listenLoopback(t), reportServer)
	r := startProxy(t, "[defaults]\nproxy_header_timeout = \"200ms\"\n"+config("accept_proxy = true\ntrusted_sources = [\"127.0.0.1\"]", "", addrLine(srv)))
	c, err := net.Dial("tcp", r.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "PROXY TCP4")
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("read after a stalled header: %v; want EOF", err)
	}
	r.log.waitLog(t, "i/o timeout")
}

func TestBalance(t *testing.T) {
	s1 := serveOn(t, listenLoopback(t), nameServer("s1"))
	s2 := serveOn(t, listenLoopback(t), nameServer("s2"))
	s3 := serveOn(t, listenLoopback(t), nameServer("s3"))
	t.Run("roundrobin", func(t *testing.T) {
		r := startProxy(t, config("", "", addrLine(s1), addrLine(s2), addrLine(s3)))
		count := map[string]int{}
		for range 9 {
			got, _ := roundTrip(t, dialTo(r.addr()), "")
			count[got]++
		}
		if count["s1"] != 3 || count["s2"] != 3 || count["s3"] != 3 {
			t.Errorf("spread %v; want 3 each", count)
		}
	})
	t.Run("source", func(t *testing.T) {
		r := startProxy(t, config("", "balance = \"source\"", addrLine(s1), addrLine(s2), addrLine(s3)))
		count := map[string]int{}
		for range 6 {
			got, _ := roundTrip(t, dialTo(r.addr()), "")
			count[got]++
		}
		if len(count) != 1 {
			t.Errorf("spread %v; want one server for one client address", count)
		}
	})
}

func TestLeastConn(t *testing.T) {
	hold := make(chan struct{})
	defer close(hold)
	holder := func(name string) func(net.Conn) {
		return func(c net.Conn) {
			io.WriteString(c, name)
			<-hold
		}
	}
	s1 := serveOn(t, listenLoopback(t), holder("s1"))
	s2 := serveOn(t, listenLoopback(t), holder("s2"))
	r := startProxy(t, config("", "balance = \"leastconn\"", addrLine(s1), addrLine(s2)))
	count := map[string]int{}
	for range 6 {
		c, err := net.Dial("tcp", r.addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		b := make([]byte, 2)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatal(err)
		}
		count[string(b)]++
	}
	if count["s1"] != 3 || count["s2"] != 3 {
		t.Errorf("spread of held connections %v; want 3 each", count)
	}
}

func TestFailoverAndAllDown(t *testing.T) {
	dead := listenLoopback(t)
	deadAddr := dead.Addr().String()
	dead.Close()
	live := serveOn(t, listenLoopback(t), nameServer("live"))
	r := startProxy(t, config("", "", "address = \""+deadAddr+"\"", addrLine(live)))
	for range 4 {
		if got, err := roundTrip(t, dialTo(r.addr()), ""); got != "live" {
			t.Fatalf("got %q, %v; want %q", got, err, "live")
		}
	}
	r2 := startProxy(t, config("", "", "address = \""+deadAddr+"\""))
	start := time.Now()
	got, _ := roundTrip(t, dialTo(r2.addr()), "x")
	if got != "" || time.Since(start) > 2*time.Second {
		t.Errorf("all down: got %q after %v; want a prompt close", got, time.Since(start))
	}
	r2.log.waitLog(t, "no server available")
}

func TestHealthCheck(t *testing.T) {
	ln := listenLoopback(t)
	addr := ln.Addr().String()
	serveOn(t, ln, nameServer("s1"))
	other := serveOn(t, listenLoopback(t), nameServer("s2"))
	r := startProxy(t, config("", "",
		"address = \""+addr+"\"\ncheck = true\ncheck_interval = \"50ms\"",
		addrLine(other)))
	ln.Close() // s1 dies
	r.log.waitLog(t, "server down")
	for range 4 {
		if got, _ := roundTrip(t, dialTo(r.addr()), ""); got != "s2" {
			t.Fatalf("with s1 down got %q; want s2", got)
		}
	}
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot rebind %s to bring s1 back: %v", addr, err)
	}
	serveOn(t, ln2, nameServer("s1"))
	r.log.waitLog(t, "server up")
	count := map[string]int{}
	for range 4 {
		got, _ := roundTrip(t, dialTo(r.addr()), "")
		count[got]++
	}
	if count["s1"] == 0 {
		t.Errorf("spread %v after s1 came back; want s1 used", count)
	}
}

func TestIdleTimeout(t *testing.T) {
	srv := serveOn(t, listenLoopback(t), echoServer)
	r := startProxy(t, "[defaults]\nclient_timeout = \"300ms\"\nserver_timeout = \"300ms\"\n"+config("", "", addrLine(srv)))
	c := dialProxy(t, r)
	// Keep it busy past the timeout: an active connection must survive.
	buf := make([]byte, 4)
	var last time.Time
	for range 8 {
		io.WriteString(c, "ping")
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatalf("active connection cut: %v", err)
		}
		last = time.Now()
		time.Sleep(100 * time.Millisecond)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(buf); !errors.Is(err, io.EOF) {
		t.Errorf("idle read: %v; want EOF", err)
	}
	if d := time.Since(last); d < 250*time.Millisecond || d > 2*time.Second {
		t.Errorf("idle connection closed after %v; want about 300ms", d)
	}
	r.log.waitLog(t, "timeout")
}

func TestMaxConnectionsBackPressure(t *testing.T) {
	srv := serveOn(t, listenLoopback(t), echoServer)
	r := startProxy(t, "[defaults]\nmax_connections = 1\n"+config("", "", addrLine(srv)))
	c1 := dialProxy(t, r)
	c2, err := net.Dial("tcp", r.addr()) // completes in the kernel backlog
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	io.WriteString(c2, "b")
	c2.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := c2.Read(make([]byte, 1)); n != 0 {
		t.Fatalf("second connection served while the first holds the only slot (%v)", err)
	}
	c1.Close()
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 1)
	if _, err := c2.Read(b); err != nil || b[0] != 'b' {
		t.Fatalf("second connection after the slot freed: %q, %v", b, err)
	}
}

func TestGrace(t *testing.T) {
	srv := serveOn(t, listenLoopback(t), echoServer)
	r := startProxy(t, "[defaults]\ngrace = \"500ms\"\n"+config("", "", addrLine(srv)))
	addr := r.addr()
	c := dialProxy(t, r)
	start := time.Now()
	r.stop()
	r.log.waitLog(t, "stopping")
	if c2, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c2.Close()
		t.Error("new connection accepted after stop")
	}
	// Still relaying during the grace period.
	io.WriteString(c, "b")
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatalf("connection broken during grace: %v", err)
	}
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
		r.done <- err // for cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after grace")
	}
	if d := time.Since(start); d < 450*time.Millisecond {
		t.Errorf("stopped after %v; want the 500ms grace", d)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("after grace read %v; want EOF", err)
	}
	r.log.waitLog(t, "term=shutdown")
}

func TestStartFailsOnBind(t *testing.T) {
	ln := listenLoopback(t)
	defer ln.Close()
	cfg, err := Load(strings.NewReader(strings.Replace(config("", "", `address = "127.0.0.1:1"`), "127.0.0.1:0", ln.Addr().String(), 1)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(cfg, NewLogger(io.Discard, "text"))
	if err == nil || !strings.Contains(err.Error(), `frontend "in": binding `+ln.Addr().String()) {
		t.Errorf("got %v; want a bind error naming the frontend and address", err)
	}
}
