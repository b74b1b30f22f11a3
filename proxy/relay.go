package proxy

import (
	"errors"
	"net"
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
	r        *relay
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

func (r *relay) newHalf(h *half, dst, src *net.TCPConn, idle time.Duration, name, timeout string) error {
	h.r = r
	raw, err := src.SyscallConn()
	if err != nil {
		return err
	}
	dstRaw, err := dst.SyscallConn()
	if err != nil {
		return err
	}
	// Field by field: the mover's lock may already be in use by closeAll.
	h.dst, h.src, h.raw, h.dstRaw = dst, src, raw, dstRaw
	h.idle, h.name, h.timeout = idle, name, timeout
	h.init(h)
	return nil
}

// start relays on two new goroutines, one per direction; the last to
// finish calls done with the termination reason. Not on the caller's
// goroutine: its stack, grown deep by the set-up, would stay with every
// connection until it parks, and under a burst of new connections that
// is tens of MB of RSS at 10k connections.
func (r *relay) start(client, server *net.TCPConn, clientIdle, serverIdle time.Duration, done func(term string)) {
	r.client, r.server, r.done = client, server, done
	err := r.newHalf(&r.c2s, server, client, clientIdle, "client->server", "client timeout")
	if err == nil {
		err = r.newHalf(&r.s2c, client, server, serverIdle, "server->client", "server timeout")
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

// runHalf runs one direction until it ends or parks; a parked direction
// is resumed on a new goroutine by whatever wakes it.
func (r *relay) runHalf(h *half) {
	reason, parked := copyHalf(h)
	if parked {
		return
	}
	if reason != "" {
		r.fail(reason)
	}
	if r.left.Add(-1) == 0 {
		r.fail("closed") // both reached EOF: a normal end
		r.done(r.reason())
	}
}

// halfClose passes EOF on to dst. When the other direction has already
// ended, the relay is about to close both sockets, and close sends the same
// FIN (src was read to EOF, so nothing unread turns it into a RST): the
// shutdown(2) is skipped.
func (h *half) halfClose() error {
	if h.r.left.Load() < 2 {
		return nil
	}
	return h.dst.CloseWrite()
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
	r.wakeParked()
}

// wakeParked resumes parked directions after their sockets were closed, so
// they see the close and end.
func (r *relay) wakeParked() {
	r.c2s.wakeClosed()
	r.s2c.wakeClosed()
}

// passReset makes the coming close of c an abort (SO_LINGER 0: a RST, not
// a FIN) when err says the other side was reset, so that a reset reaches
// the far end as a reset rather than as a clean EOF.
func passReset(c *net.TCPConn, err error) {
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		_ = c.SetLinger(0)
	}
}
