package proxy

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The event-loop data path (issue 15): one goroutine per CPU, each with
// its own epoll set, does accept, non-blocking connect and the relay of
// every connection of the frontends it serves; a connection is a small
// struct in a loop's table, not two goroutines. The loops share the
// listening sockets (EPOLLEXCLUSIVE: one sleeping loop woken per new
// connection) and even out what they hold (evhand_linux.go).
// Frontends with a feature the loop does not implement (PROXY headers in
// or out, transparent source, servers whose address comes from the
// header) stay on the goroutine path; NETNS_PROXY_DATAPATH=goroutines puts
// every frontend there (for A/B runs).

// evOK says whether the event loop can serve frontend fe.
func evOK(fe *frontend) bool {
	if os.Getenv("NETNS_PROXY_DATAPATH") == "goroutines" {
		return false
	}
	b := fe.backend
	if fe.acceptProxy || b.sendProxy != 0 || b.fromCli {
		return false
	}
	for _, s := range b.servers {
		if s.addr.fromHeader {
			return false
		}
	}
	return true
}

// epoll data: Fd is the slot (or listener index), Pad the kind and, for a
// connection, its generation, so an event queued for a slot's previous
// connection is told apart.
const (
	kindListener = 1
	kindClient   = 2
	kindServer   = 3
	kindWake     = 4
)

type evListener struct {
	fd int
	fe *frontend
}

// evGroup is the set of loops of one Proxy.
type evGroup struct {
	p       *Proxy
	lns     []*evListener
	loops   []*evLoop
	running sync.WaitGroup
	stopAcc atomic.Bool   // stop accepting, drop listeners
	closeGn atomic.Uint32 // bumped by closeAll
	exit    atomic.Bool
	acked   sync.WaitGroup // loops that have dropped their listeners
	active  atomic.Int64
	tick    time.Duration
}

type evLoop struct {
	g       *evGroup
	epfd    int
	park    *os.File        // an epoll set in Go's poller, holding epfd while the loop parks
	parkRaw syscall.RawConn // park's
	parkAt  time.Time       // park's read deadline
	quiet   bool            // the last wait timed out: park in the next one
	wakefd  int
	conns   []*evConn // by slot
	free    []int32
	paused  []bool // by listener index: out of this loop's set (max_connections)
	npaused int
	again   []*evConn // connections that stopped early and must be pumped again
	closeGn uint32
	dropped bool
	lastTk  int64
	stuck   bool // this goroutine's thread is stuck in another namespace
	in      evInbox
	cbuf    []byte       // copyDir's, for every connection of the loop
	clog    *lineHandler // nil: connection lines go through slog
	logBuf  []byte       // connection lines of this turn
}

// newEvGroup takes over the listeners of the frontends the loops serve:
// each listening socket is duplicated into a plain fd and the Go listener
// closed, so Go's poller is not woken for every connection too.
func (p *Proxy) newEvGroup(fes []*frontend) (*evGroup, error) {
	g := &evGroup{p: p, tick: evTick(p.set)}
	for _, fe := range fes {
		for _, ln := range fe.listeners {
			raw, err := ln.SyscallConn()
			if err != nil {
				return nil, fmt.Errorf("frontend %q: taking over listener %s: %w", fe.name, ln.Addr(), err)
			}
			fd := -1
			var derr error
			if err := raw.Control(func(f uintptr) { fd, derr = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0) }); err != nil || derr != nil {
				return nil, fmt.Errorf("frontend %q: duplicating listener %s: %w", fe.name, ln.Addr(), firstErr(err, derr))
			}
			// Accepted sockets inherit TCP_NODELAY: one setsockopt here
			// instead of one per connection.
			_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
			ln.Close() // Addr() stays valid
			g.lns = append(g.lns, &evListener{fd: fd, fe: fe})
		}
	}
	n := procs0()
	if v, err := strconv.Atoi(os.Getenv("NETNS_PROXY_LOOPS")); err == nil && v > 0 {
		n = min(v, n) // development knob for A/B runs
	}
	loopProcs(n)
	for range n {
		l, err := g.newLoop()
		if err != nil {
			g.closeAll()
			return nil, err
		}
		g.loops = append(g.loops, l)
	}
	return g, nil
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// evTick is how often a loop looks for timeouts: a tenth of the shortest
// timeout, within 5ms..250ms.
func evTick(s settings) time.Duration {
	t := min(s.clientTimeout, s.serverTimeout, s.connectTimeout) / 10
	return min(max(t, 5*time.Millisecond), 250*time.Millisecond)
}

func (g *evGroup) newLoop() (*evLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("creating the event loop's epoll set: %w", err)
	}
	wfd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("creating the event loop's eventfd: %w", err)
	}
	l := &evLoop{g: g, epfd: epfd, wakefd: wfd, paused: make([]bool, len(g.lns)), clog: connLogOf(g.p.log)}
	if err := l.openPark(); err != nil {
		unix.Close(epfd)
		unix.Close(wfd)
		return nil, err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Pad: kindWake}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wfd, &ev); err != nil {
		l.close()
		return nil, fmt.Errorf("adding the eventfd to the event loop: %w", err)
	}
	for i := range g.lns {
		if err := l.addListener(i); err != nil {
			l.close()
			return nil, err
		}
	}
	return l, nil
}

func (l *evLoop) addListener(i int) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLEXCLUSIVE, Fd: int32(i), Pad: kindListener}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, l.g.lns[i].fd, &ev); err != nil {
		return fmt.Errorf("frontend %q: adding listener to the event loop: %w", l.g.lns[i].fe.name, err)
	}
	return nil
}

func (l *evLoop) close() {
	unix.Close(l.wakefd)
	unix.Close(l.epfd)
	l.park.Close()
}

// closeAll closes what newEvGroup made, for a group that never ran.
func (g *evGroup) closeAll() {
	for _, l := range g.loops {
		l.close()
	}
	for _, ln := range g.lns {
		unix.Close(ln.fd)
	}
}

func (g *evGroup) start() {
	g.acked.Add(len(g.loops))
	for _, l := range g.loops {
		g.running.Go(l.run)
	}
}

func (g *evGroup) wake() {
	one := [8]byte{1}
	for _, l := range g.loops {
		_, _ = unix.Write(l.wakefd, one[:]) // a full counter is awake anyway
	}
}

// stopAccepting makes every loop drop the listeners, then closes them.
func (g *evGroup) stopAccepting() {
	g.stopAcc.Store(true)
	g.wake()
	g.acked.Wait()
	for _, ln := range g.lns {
		unix.Close(ln.fd)
	}
}

// closeConns ends every connection ("shutdown"); it returns how many.
func (g *evGroup) closeConns() int {
	n := int(g.active.Load())
	g.closeGn.Add(1)
	g.wake()
	return n
}

// stop ends the loops; every connection must be gone.
func (g *evGroup) stop() {
	g.exit.Store(true)
	g.wake()
	g.running.Wait()
}

// run is the loop. If a socketIn left the thread in another namespace,
// the loop goes on on a new goroutine and this one ends locked, so the
// runtime discards the thread.
func (l *evLoop) run() {
	events := make([]unix.EpollEvent, 128)
	for {
		if l.stuck {
			l.stuck = false
			l.g.p.log.Error("event loop thread stuck in another namespace; moving to a new thread")
			l.g.running.Go(l.run)
			return
		}
		n := l.wait(events)
		for i := range max(n, 0) {
			ev := &events[i]
			switch ev.Pad & 7 {
			case kindListener:
				l.accept(int(ev.Fd))
			case kindClient, kindServer:
				if c := l.conns[ev.Fd]; c != nil && c.gen == uint32(ev.Pad)>>3 {
					c.event(ev.Pad&7 == kindServer, ev.Events)
				}
			case kindWake:
				var b [8]byte
				_, _ = unix.Read(l.wakefd, b[:])
				l.adoptHanded()
			}
		}
		for len(l.again) > 0 {
			again := l.again
			l.again = nil
			for _, c := range again {
				c.queued = false
				if c.fd[0] >= 0 && !c.connecting { // ended, or the slot's next connection
					c.pump()
				}
			}
		}
		l.flushLog()
		if l.commands() {
			l.flushLog()
			l.close()
			return
		}
		l.timers()
	}
}

// commands applies what other goroutines asked for; true: exit.
func (l *evLoop) commands() bool {
	g := l.g
	l.adoptHanded() // before closeConns ends what this loop holds
	if g.stopAcc.Load() && !l.dropped {
		for i, ln := range g.lns {
			if !l.paused[i] {
				_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, ln.fd, nil)
			}
			l.paused[i] = true
		}
		l.npaused = 0
		l.dropped = true
		g.acked.Done()
	}
	if gn := g.closeGn.Load(); gn != l.closeGn {
		l.closeGn = gn
		for _, c := range l.conns {
			if c != nil && c.fd[0] >= 0 {
				c.end("shutdown")
			}
		}
	}
	return g.exit.Load()
}

// timers ends connections past a timeout and retries paused listeners,
// once per tick.
func (l *evLoop) timers() {
	now := nanotime()
	if now-l.lastTk < int64(l.g.tick) {
		return
	}
	l.lastTk = now
	if l.npaused > 0 && !l.dropped {
		l.resumeListeners()
	}
	for _, c := range l.conns {
		if c != nil && c.fd[0] >= 0 {
			c.checkTimeout(now)
		}
	}
}

func (l *evLoop) resumeListeners() {
	for i := range l.g.lns {
		if l.paused[i] && l.addListener(i) == nil {
			l.paused[i] = false
			l.npaused--
		}
	}
}

// pause takes listener i out of this loop's set until a slot frees.
func (l *evLoop) pause(i int) {
	if l.paused[i] {
		return
	}
	_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, l.g.lns[i].fd, nil)
	l.paused[i] = true
	l.npaused++
}

// buf is the loop's copy buffer: data stays in it only within one copyDir.
func (l *evLoop) buf() []byte {
	if l.cbuf == nil {
		l.cbuf = make([]byte, copyBuf)
	}
	return l.cbuf
}

var start0 = time.Now()

// nanotime is a monotonic clock for timeouts.
func nanotime() int64 { return int64(time.Since(start0)) }
