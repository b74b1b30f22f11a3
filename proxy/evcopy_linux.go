package proxy

import (
	"fmt"
	"log/slog"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Small transfers are copied, large ones spliced. A request or a response
// of a few KiB costs one recv and one send through the loop's buffer,
// where splice costs a splice in, a splice out and the splice that finds
// the socket empty; the first read that fills the buffer moves the
// direction to splice for good. A short read ends the direction's turn
// without the read that would say EAGAIN: the socket is drained, and with
// edge-triggered polling any byte that comes later is a new event. Once
// EOF or an error has been reported, that no longer holds (no event
// follows the last one), and the direction reads until EAGAIN or EOF; a
// short read after EPOLLRDHUP is followed by EOF at once.

const copyBuf = 32 << 10

// pumpDir moves what direction d can move without waiting.
func (c *evConn) pumpDir(d int) {
	h := &c.dir[d]
	switch {
	case h.done:
	case h.spl && h.pend == nil:
		c.spliceDir(d)
	default:
		c.copyDir(d)
	}
}

func (c *evConn) copyDir(d int) {
	h := &c.dir[d]
	src, dst := d, 1-d
	for round := 0; ; round++ {
		if round == 64 {
			c.requeue()
			return
		}
		if h.pend != nil {
			if !c.wr[dst] {
				return
			}
			rest, ok := c.send(d, h.pend)
			h.pend = rest
			if !ok {
				return
			}
			continue
		}
		if !c.rd[src] {
			return
		}
		if h.spl {
			c.spliceDir(d)
			return
		}
		buf := c.l.buf()
		n, e := recvRaw(c.fd[src], buf)
		switch {
		case e == unix.EINTR:
			continue
		case e == unix.EAGAIN:
			c.rd[src] = false
			return
		case e != 0:
			c.passReset(dst, e)
			c.end(fmt.Sprintf("%s: reading: %v", dirNames[d], e))
			return
		case n == 0:
			c.eof(d)
			return
		case n == len(buf):
			h.spl = true
		case !c.hup[src]:
			c.rd[src] = false
		}
		rest := buf[:n]
		ok := c.wr[dst]
		if ok {
			rest, ok = c.send(d, rest)
		}
		if rest != nil { // the socket is full (an ended connection returns nil)
			h.pend = append([]byte(nil), rest...) // buf is the loop's
		}
		if !ok {
			return
		}
		if n < len(buf) && c.fin[src] {
			// The FIN was in before this read drained the socket: what
			// follows is EOF, without the read that says so.
			c.eof(d)
			return
		}
	}
}

// send writes b to direction d's destination. It returns what the socket
// did not take (nil: all went) and whether to go on: false when the
// socket is full or the connection has ended.
func (c *evConn) send(d int, b []byte) ([]byte, bool) {
	h := &c.dir[d]
	dst := 1 - d
	for len(b) > 0 {
		n, e := sendRaw(c.fd[dst], b)
		switch {
		case e == unix.EINTR:
			continue
		case e == unix.EAGAIN:
			c.wr[dst] = false
			return b, false
		case e != 0:
			c.passReset(d, e)
			c.end(fmt.Sprintf("%s: writing: %v", dirNames[d], e))
			return nil, false
		}
		b = b[n:]
		h.n += int64(n)
		c.last = c.l.clock()
	}
	return nil, true
}

// eof passes direction d's EOF on, or ends the connection when the other
// direction has ended too.
func (c *evConn) eof(d int) {
	c.dir[d].done = true
	if c.dir[1-d].done {
		c.end("closed") // both reached EOF: a normal end
		return
	}
	// When the other direction ends, close sends the same FIN and this
	// shutdown is skipped.
	if err := unix.Shutdown(c.fd[1-d], unix.SHUT_WR); err != nil {
		c.end(fmt.Sprintf("%s: half-closing: %v", dirNames[d], err))
	}
}

// requeue puts the connection at the back of the loop's queue.
func (c *evConn) requeue() {
	if !c.queued {
		c.queued = true
		c.l.again = append(c.l.again, c)
	}
}

func recvRaw(fd int, b []byte) (int, unix.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0, 0, 0)
	return int(r), e
}

func sendRaw(fd int, b []byte) (int, unix.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), unix.MSG_NOSIGNAL, 0, 0)
	return int(r), e
}

// logConn logs the connection line, by hand into the turn's buffer when
// the logger allows.
func (l *evLoop) logConn(s *session, term string, level slog.Level) {
	h := l.clog
	if h == nil {
		l.g.p.logSession(s, term, level)
		return
	}
	if !h.enabled(level) {
		return
	}
	server := "-"
	if s.srv != nil {
		server = s.srv.name
	}
	peer := s.peer.String()
	client := peer // on the loop the client is the peer: no header
	if s.src != s.peer {
		client = s.src.String()
	}
	f := connFields{client: client, clientNS: s.ns, peer: peer,
		frontend: s.fe.name, backend: s.fe.backend.name, server: server,
		in: s.relay.c2s.n, out: s.relay.s2c.n, connect: s.connect, total: time.Since(s.start), term: term}
	var ok bool
	if l.logBuf, ok = h.appendConn(l.logBuf, time.Now(), level, &f); !ok {
		l.g.p.logSession(s, term, level)
	}
}

// flushLog writes the turn's connection lines in one write.
func (l *evLoop) flushLog() {
	if len(l.logBuf) == 0 {
		return
	}
	_, _ = l.clog.w.Write(l.logBuf) // as slog's handler, a failed log write is dropped
	if cap(l.logBuf) > 64<<10 {
		l.logBuf = nil // a burst's buffer is not kept
	} else {
		l.logBuf = l.logBuf[:0]
	}
}
