package proxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// evConn is one connection of an event loop: client side 0, server side 1.
// Only its loop touches it. The struct is reused for the slot's next
// connection.
type evConn struct {
	l          *evLoop
	slot       int32
	gen        uint32
	fe         *frontend
	srv        *server
	fd         [2]int // -1: closed; fd[0] < 0: the slot is free
	rd, wr     [2]bool
	hup        [2]bool  // EOF or an error was reported: read until EAGAIN
	fin        [2]bool  // EOF (EPOLLRDHUP) was reported, and no error
	dir        [2]evDir // 0: client->server, 1: server->client
	connecting bool
	queued     bool
	tried      int
	first      int
	peer       netip.AddrPort
	start      time.Time
	connect    time.Duration
	last       int64 // loop clock of the last move, or of the connect
	deadline   int64 // connecting: when it times out
	errs       []error
}

type evDir struct {
	p    *pipe  // held only while it holds data
	pend []byte // read, not yet written (dst was full)
	n    int64
	spl  bool // large transfers: splice from now on
	done bool // read to EOF and passed on
}

var dirNames = [2]string{"client->server", "server->client"}

const evStream = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET

// accept takes a connection from listener i, after a max_connections
// slot; without a slot the listener leaves this loop's set until one
// frees, and the kernel backlog pushes back. One per event: the listener
// is level-triggered, so the next wait reports it again while connections
// wait, and no accept4 is spent on finding the queue empty.
func (l *evLoop) accept(i int) {
	ln := l.g.lns[i]
	fe := ln.fe
	for range 2 { // a second try only after EINTR or ECONNABORTED
		select {
		case fe.sem <- struct{}{}:
		default:
			fe.stats.refused[refusedMaxConns].Add(1)
			l.pause(i)
			return
		}
		var rsa unix.RawSockaddrAny
		sl := uint32(unsafe.Sizeof(rsa))
		r, _, e := unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(ln.fd), uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&sl)), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
		if e != 0 {
			<-fe.sem
			switch e {
			case unix.EAGAIN:
				return
			case unix.EINTR, unix.ECONNABORTED:
				continue
			}
			// EMFILE and friends: try again at the next tick, do not spin.
			l.g.p.log.Warn("accepting", "frontend", fe.name, "err", e)
			l.pause(i)
			return
		}
		l.take(fe, int(r), rawAddrPort(&rsa))
		return
	}
}

func rawAddrPort(rsa *unix.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		a := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), ntohs(a.Port))
	case unix.AF_INET6:
		a := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), ntohs(a.Port))
	}
	return netip.AddrPort{}
}

func ntohs(p uint16) uint16 { return p>>8 | p<<8 }

func (l *evLoop) alloc() *evConn {
	var c *evConn
	if n := len(l.free); n > 0 {
		c = l.conns[l.free[n-1]]
		l.free = l.free[:n-1]
	} else {
		c = &evConn{l: l, slot: int32(len(l.conns))}
		l.conns = append(l.conns, c)
	}
	gen := (c.gen + 1) & (1<<28 - 1)
	*c = evConn{l: l, slot: c.slot, gen: gen, fd: [2]int{-1, -1}}
	return c
}

func (c *evConn) register(side, kind int) error {
	ev := unix.EpollEvent{Events: evStream, Fd: c.slot, Pad: int32(uint32(kind) | c.gen<<3)}
	return unix.EpollCtl(c.l.epfd, unix.EPOLL_CTL_ADD, c.fd[side], &ev)
}

// open starts a connection that take counted: registered, connecting.
func (l *evLoop) open(fe *frontend, fd int, peer netip.AddrPort) {
	c := l.alloc()
	c.fe, c.peer, c.start, c.last = fe, peer, time.Now(), l.clock()
	c.fd[0] = fd
	if err := c.register(0, kindClient); err != nil {
		c.endAt(fmt.Sprintf("registering client socket: %v", err), slog.LevelWarn)
		return
	}
	c.first = fe.backend.start(peer.Addr())
	c.dial()
}

func (l *evLoop) clock() int64 { return nanotime() }

// dial starts a non-blocking connect to the next server of the ring that
// is up; failures move on to the next, as the goroutine path's connect.
func (c *evConn) dial() {
	b := c.fe.backend
	p := c.l.g.p
	n := len(b.servers)
	for c.tried < n {
		s := b.servers[(c.first+c.tried)%n]
		c.tried++
		if s.down.Load() {
			continue
		}
		if c.l.stuck { // until the loop has moved off this thread
			c.errs = append(c.errs, fmt.Errorf("server %q: %w", s.name, errThreadStuck))
			break
		}
		ns := s.ns
		if ns == "*" {
			ns = c.fe.ns
		}
		s.active.Add(1)
		fd, err := p.ns.connectIn(ns, s.addr.addr, b.source)
		if err == nil {
			c.srv, c.fd[1], c.connecting = s, fd, true
			c.deadline = c.l.clock() + int64(p.set.connectTimeout)
			if err = c.register(1, kindServer); err == nil {
				return
			}
			err = fmt.Errorf("registering server socket: %w", err)
			closeFd(fd)
			c.fd[1], c.srv, c.connecting = -1, nil, false
		}
		s.active.Add(-1)
		s.stats.connectErrors.Add(1)
		c.errs = append(c.errs, fmt.Errorf("server %q: %w", s.name, err))
		if errors.Is(err, errThreadStuck) {
			c.l.stuck = true
			break
		}
	}
	if len(c.errs) == 0 {
		c.endAt(errNoServer.Error(), slog.LevelWarn)
		return
	}
	c.endAt(fmt.Errorf("%w: %w", errNoServer, errors.Join(c.errs...)).Error(), slog.LevelWarn)
}

// connectFailed gives up on the server being connected and tries the next.
func (c *evConn) connectFailed(err error) {
	s := c.srv
	closeFd(c.fd[1])
	c.fd[1], c.srv, c.connecting = -1, nil, false
	s.active.Add(-1)
	s.stats.connectErrors.Add(1)
	c.errs = append(c.errs, fmt.Errorf("server %q: dial tcp %s: %w", s.name, s.addr.addr, err))
	c.dial()
}

func (c *evConn) event(server bool, ev uint32) {
	side := 0
	if server {
		side = 1
	}
	if server && c.connecting {
		if ev&(unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			e, err := unix.GetsockoptInt(c.fd[1], unix.SOL_SOCKET, unix.SO_ERROR)
			if err == nil && e != 0 {
				err = unix.Errno(e)
			}
			if err == nil {
				err = unix.ECONNREFUSED
			}
			c.connectFailed(fmt.Errorf("connect: %w", err))
			return
		}
		if ev&unix.EPOLLOUT == 0 {
			return
		}
		c.connecting = false
		c.errs = nil
		c.connect = time.Since(c.start)
		c.last = c.l.clock()
		c.srv.stats.total.Add(1)
	}
	if ev&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		c.rd[side] = true
	}
	if ev&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		c.hup[side] = true
		c.fin[side] = ev&(unix.EPOLLHUP|unix.EPOLLERR) == 0
	}
	if ev&(unix.EPOLLOUT|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		c.wr[side] = true
	}
	if !c.connecting {
		c.pump()
	}
}

// pump moves what both directions can move without waiting.
func (c *evConn) pump() {
	for d := range 2 {
		if c.fd[0] < 0 {
			return
		}
		c.pumpDir(d)
	}
}

// spliceDir is one direction's splice loop: from src into a pipe taken from
// the pool, from the pipe into dst. A full dst keeps the pipe and stops
// reading src (back-pressure) until dst is writable again; after a batch
// of rounds the connection goes to the back of the loop's queue.
func (c *evConn) spliceDir(d int) {
	h := &c.dir[d]
	src, dst := d, 1-d
	for round := 0; ; round++ {
		if round == 64 {
			c.requeue()
			return
		}
		if h.p != nil && h.p.data > 0 {
			if !c.wr[dst] {
				return
			}
			n, err := splice(h.p.r, c.fd[dst], h.p.data)
			switch {
			case err == unix.EINTR: //nolint:errorlint // a raw errno
			case err == unix.EAGAIN: //nolint:errorlint // a raw errno
				c.wr[dst] = false
				return
			case err != nil:
				c.passReset(src, err)
				c.end(fmt.Sprintf("%s: writing: %v", dirNames[d], err))
				return
			default:
				h.p.data -= n
				h.n += int64(n)
				c.last = c.l.clock()
			}
			continue
		}
		if !c.rd[src] {
			return
		}
		if h.p == nil {
			p, err := pipes.get()
			if err != nil {
				c.end(fmt.Sprintf("%s: reading: getting a splice pipe: %v", dirNames[d], err))
				return
			}
			h.p = p
		}
		n, err := splice(c.fd[src], h.p.w, h.p.size)
		switch {
		case err == unix.EINTR: //nolint:errorlint // a raw errno
			continue
		case err == unix.EAGAIN: //nolint:errorlint // a raw errno
			c.rd[src] = false
			pipes.put(h.p)
			h.p = nil
			return
		case err != nil:
			c.passReset(dst, err)
			c.end(fmt.Sprintf("%s: reading: %v", dirNames[d], err))
			return
		case n == 0:
			pipes.put(h.p)
			h.p = nil
			c.eof(d)
			return
		default:
			h.p.data = n
		}
	}
}

// passReset: see the goroutine path's passReset.
func (c *evConn) passReset(side int, err error) {
	if errors.Is(err, unix.ECONNRESET) || errors.Is(err, unix.EPIPE) {
		_ = unix.SetsockoptLinger(c.fd[side], unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1})
	}
}

func (c *evConn) checkTimeout(now int64) {
	set := &c.l.g.p.set
	if c.connecting {
		if now >= c.deadline {
			c.connectFailed(errors.New("i/o timeout"))
		}
		return
	}
	quiet := time.Duration(now - c.last)
	switch {
	case !c.dir[0].done && quiet >= set.clientTimeout:
		c.end("client timeout")
	case !c.dir[1].done && quiet >= set.serverTimeout:
		c.end("server timeout")
	}
}

func (c *evConn) end(term string) { c.endAt(term, slog.LevelInfo) }

// endAt closes both sockets, logs the one line and gives back the slot.
func (c *evConn) endAt(term string, level slog.Level) {
	l := c.l
	p := l.g.p
	for d := range c.dir {
		c.dir[d].pend = nil
		if c.dir[d].p != nil {
			pipes.put(c.dir[d].p) // closed if it still holds data
			c.dir[d].p = nil
		}
	}
	closeFd(c.fd[1])
	closeFd(c.fd[0])
	c.fd = [2]int{-1, -1}
	if c.srv != nil {
		c.srv.active.Add(-1)
	}
	s := session{start: c.start, fe: c.fe, peer: c.peer, src: c.peer, ns: c.fe.ns, srv: c.srv, connect: c.connect}
	s.relay.c2s.n, s.relay.s2c.n = c.dir[0].n, c.dir[1].n
	s.count()
	c.fe.stats.current.Add(-1)
	l.logConn(&s, term, level)
	c.srv, c.errs = nil, nil
	<-c.fe.sem
	l.free = append(l.free, c.slot)
	l.in.live.Add(-1)
	l.g.active.Add(-1)
	p.conns.Done()
	if l.npaused > 0 && !l.dropped {
		l.resumeListeners()
	}
}

// closeFd closes without the runtime's system call bookkeeping: closing a
// non-blocking socket does not sleep (SO_LINGER is 0 or unset).
func closeFd(fd int) {
	if fd >= 0 {
		_, _, _ = unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
	}
}
