package proxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// half is one direction of a relay: bytes from src to dst. Its fields are
// set once per connection so the copy loop does not allocate.
type half struct {
	dst, src *net.TCPConn
	raw      syscall.RawConn // src's, for readiness and TCP_INFO
	idle     time.Duration
	timeout  string // termination reason when idle runs out
	name     string // "client->server", for errors
	lr       io.LimitedReader
	avail    availPoller
	n        int64
}

// relay copies both ways between client and server until both sides are
// done or one fails.
type relay struct {
	c2s, s2c half
	client   *net.TCPConn
	server   *net.TCPConn
	mu       sync.Mutex // guards term
	term     string
	left     atomic.Int32 // directions still copying
	done     func(term string)
}

func newHalf(h *half, dst, src *net.TCPConn, idle time.Duration, name, timeout string) error {
	raw, err := src.SyscallConn()
	if err != nil {
		return err
	}
	*h = half{dst: dst, src: src, raw: raw, idle: idle, name: name, timeout: timeout}
	h.lr.R = src
	h.avail.init()
	return nil
}

// start relays on two new goroutines, one per direction; the last to
// finish calls done with the termination reason.
func (r *relay) start(client, server *net.TCPConn, clientIdle, serverIdle time.Duration, done func(term string)) {
	r.client, r.server, r.done = client, server, done
	err := newHalf(&r.c2s, server, client, clientIdle, "client->server", "client timeout")
	if err == nil {
		err = newHalf(&r.s2c, client, server, serverIdle, "server->client", "server timeout")
	}
	if err != nil {
		r.fail(err.Error())
		done(r.reason())
		return
	}
	r.left.Store(2)
	go r.runHalf(&r.c2s)
	go r.runHalf(&r.s2c)
}

func (r *relay) reason() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.term
}

func (r *relay) runHalf(h *half) {
	if reason := copyHalf(h); reason != "" {
		r.fail(reason)
	}
	if r.left.Add(-1) == 0 {
		r.fail("closed") // both reached EOF: a normal end
		r.done(r.reason())
	}
}

// fail records the first termination reason and closes both sockets, which
// ends the other direction too.
func (r *relay) fail(reason string) {
	r.mu.Lock()
	if r.term == "" {
		r.term = reason
	}
	r.mu.Unlock()
	r.client.Close()
	r.server.Close()
}

// copyHalf is the copy loop (named, to show in stack dumps). It waits for
// data without holding a splice pipe, so idle connections cost no pipe fds,
// then splices exactly the queued bytes: *net.TCPConn.ReadFrom of a
// LimitedReader over a *net.TCPConn is the kernel's splice path, as io.Copy
// would pick. The idle deadline is armed once per idle period, not per read;
// when it fires, TCP_INFO says how long the socket has really been quiet.
// On EOF it passes the half-close on and returns "".
func copyHalf(h *half) string {
	if h.idle > 0 {
		h.src.SetReadDeadline(time.Now().Add(h.idle))
	}
	for {
		n, err := h.avail.wait(h.raw)
		if n > 0 {
			h.lr.N = int64(n)
			var m int64
			m, err = h.dst.ReadFrom(&h.lr)
			h.n += m
			// The deadline may pass between wait and splice; that is an
			// idle check like any other, with nothing lost.
			if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				return fmt.Sprintf("%s: copying: %v", h.name, err)
			}
			if err == nil {
				continue
			}
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			quiet := quietFor(h.raw)
			if quiet >= h.idle {
				return h.timeout
			}
			h.src.SetReadDeadline(time.Now().Add(h.idle - quiet))
			continue
		}
		if err != nil {
			return fmt.Sprintf("%s: reading: %v", h.name, err)
		}
		if err := h.dst.CloseWrite(); err != nil { // n == 0: EOF
			return fmt.Sprintf("%s: half-closing: %v", h.name, err)
		}
		return ""
	}
}
