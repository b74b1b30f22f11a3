package proxy

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// goroutinesPerConn opens n echo connections through a plain proxy and
// returns the goroutines they added, less the test server's one each.
func goroutinesPerConn(t *testing.T, n int) float64 {
	srv := serveOn(t, listenLoopback(t), bufferEcho)
	r := startProxy(t, config("", "", addrLine(srv)))
	time.Sleep(50 * time.Millisecond)
	before := runtime.NumGoroutine()
	for range n {
		dialProxy(t, r) // relayed: one byte echoed
	}
	return float64(runtime.NumGoroutine()-before-n) / float64(n)
}

// TestEventLoopServesPlainTCP: a plain frontend's connections are slots in
// the event loops, not goroutines (the goroutine path adds two each until
// they park after a second).
func TestEventLoopServesPlainTCP(t *testing.T) {
	if got := goroutinesPerConn(t, 40); got > 0.5 {
		t.Errorf("%.2f proxy goroutines per open connection; want none (event loop)", got)
	}
}

// TestGoroutinePathSelectable: NETNS_PROXY_DATAPATH=goroutines keeps the
// goroutine path for plain frontends too, and it still relays.
func TestGoroutinePathSelectable(t *testing.T) {
	t.Setenv("NETNS_PROXY_DATAPATH", "goroutines")
	if got := goroutinesPerConn(t, 40); got < 1.5 {
		t.Errorf("%.2f proxy goroutines per open connection; want two (goroutine path)", got)
	}
}

// TestEventLoopConnectionLines: logging to a file (the binary's stderr),
// the loops format the connection lines themselves: one per connection,
// as slog writes them, with the bytes each way, for a small exchange
// (copied) and a large one (spliced after the first 32 KiB).
func TestEventLoopConnectionLines(t *testing.T) {
	srv := serveOn(t, listenLoopback(t), echoServer)
	logf, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	r := startProxyLog(t, config("", "", addrLine(srv)), logf)
	if connLogOf(r.p.log) == nil {
		t.Fatal("a file logger is not formatted by hand")
	}
	for _, n := range []int{5, 300 << 10} {
		c, err := net.Dial("tcp", r.addr())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		want := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
		go func() { c.Write(want); c.(*net.TCPConn).CloseWrite() }()
		got, err := io.ReadAll(c)
		c.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%d bytes through the proxy: got %d back, err %v", n, len(got), err)
		}
	}
	var text []byte
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		text, _ = os.ReadFile(logf.Name())
		if bytes.Count(text, []byte("msg=connection")) >= 2 {
			break
		}
	}
	line := regexp.MustCompile(`(?m)^time=\S+ level=INFO msg=connection client=127\.0\.0\.1:\d+ client_ns="" peer=127\.0\.0\.1:\d+ frontend=in backend=app server=s1 bytes_in=(\d+) bytes_out=(\d+) connect=\S+ total=\S+ term=closed$`)
	m := line.FindAllStringSubmatch(string(text), -1)
	if len(m) != 2 || m[0][1] != "5" || m[0][2] != "5" || m[1][1] != "307200" || m[1][2] != "307200" {
		t.Fatalf("connection lines %q; want two, 5 and 307200 bytes each way, in:\n%s", m, text)
	}
}

// TestEventLoopsShareConnections: long-lived connections end up spread
// over the loops, whichever loop the kernel wakes for them (it woke one
// loop for 44 of 50 before connections were handed over).
func TestEventLoopsShareConnections(t *testing.T) {
	srv := serveOn(t, listenLoopback(t), bufferEcho)
	r := startProxy(t, config("", "", addrLine(srv)))
	const n = 60
	for range n {
		dialProxy(t, r) // open and relaying when it returns
	}
	r.p.mu.Lock()
	loops := r.p.ev.loops
	r.p.mu.Unlock()
	if len(loops) < 2 {
		t.Skipf("%d event loop (one CPU): nothing to share", len(loops))
	}
	var counts []int32
	sum, lo, hi := int32(0), int32(n), int32(0)
	for _, l := range loops {
		c := l.in.live.Load()
		counts = append(counts, c)
		sum, lo, hi = sum+c, min(lo, c), max(hi, c)
	}
	if sum != n || hi-lo > handSlack {
		t.Fatalf("connections per loop %v; want %d in all, within %d of each other", counts, n, handSlack)
	}
}

// TestEventLoopSlowReader: a client that stops reading makes the proxy
// hold what it has read (small writes: the copied path's pending bytes;
// then a bulk transfer: the spliced path's pipe) and stop reading the
// server; when the client reads again, every byte arrives, in order.
func TestEventLoopSlowReader(t *testing.T) {
	var want bytes.Buffer
	for i := range 400000 {
		fmt.Fprintf(&want, "%07d ", i) // 3.2 MB of small messages, numbered
	}
	small := want.Len()
	want.Write(bytes.Repeat([]byte("bulk"), 1<<20))
	data := want.Bytes()
	srv := serveOn(t, listenLoopback(t), func(c net.Conn) {
		defer c.Close()
		for off := 0; off < small; off += 800 {
			c.Write(data[off:min(off+800, small)])
			if off%(16*800) == 0 {
				time.Sleep(time.Millisecond) // reads stay small: copied, not spliced
			}
		}
		c.Write(data[small:])
	})
	r := startProxy(t, config("", "", addrLine(srv)))
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	c, err := d.Dial("tcp", r.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(500 * time.Millisecond) // the server has written all it can
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(got, data) {
		i := 0
		for i < min(len(got), len(data)) && got[i] == data[i] {
			i++
		}
		t.Fatalf("got %d of %d bytes (err %v), first difference at %d", len(got), len(data), err, i)
	}
}
