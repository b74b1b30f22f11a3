package proxy

import (
	"errors"
	"fmt"
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
	dstRaw   syscall.RawConn
	idle     time.Duration
	timeout  string // termination reason when idle runs out
	name     string // "client->server", for errors
	n        int64
	mover    // per-platform state of move
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
	dstRaw, err := dst.SyscallConn()
	if err != nil {
		return err
	}
	*h = half{dst: dst, src: src, raw: raw, dstRaw: dstRaw, idle: idle, name: name, timeout: timeout}
	h.mover.init()
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

// copyHalf is the copy loop (named, to show in stack dumps). move waits
// for data and passes it on; the idle deadline is armed once per idle
// period, not per read, and when it fires TCP_INFO says how long the socket
// has really been quiet. On EOF it passes the half-close on and returns "".
func copyHalf(h *half) string {
	if h.idle > 0 {
		h.src.SetReadDeadline(time.Now().Add(h.idle))
	}
	for {
		n, err := h.move()
		h.n += n
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			quiet := quietFor(h.raw)
			if quiet >= h.idle {
				return h.timeout
			}
			h.src.SetReadDeadline(time.Now().Add(h.idle - quiet))
		case err != nil:
			return fmt.Sprintf("%s: %v", h.name, err)
		case n == 0: // EOF
			if err := h.dst.CloseWrite(); err != nil {
				return fmt.Sprintf("%s: half-closing: %v", h.name, err)
			}
			return ""
		}
	}
}
