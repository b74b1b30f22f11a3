package proxy

import (
	"runtime"
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
