package proxy

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Connections are spread over the loops by how many each holds, not by
// which loop the kernel woke: a loop that accepts while it holds four more
// than another hands the socket over. Left to the kernel, one loop took 44
// of 50 keep-alive connections and the other core idled. The slack is
// what a hand-over costs (an eventfd write and a wake-up): with two, 28%
// of short connections were handed over and close-mode req/s fell 5%
// against eight (12%); four hands over 19%, within noise of eight.

// evInbox is a loop's queue of sockets other loops accepted for it.
type evInbox struct {
	live    atomic.Int32 // connections this loop holds or is being handed
	pending atomic.Bool
	mu      sync.Mutex
	q       []evHanded
	spare   []evHanded
}

const handSlack = 4

type evHanded struct {
	fe   *frontend
	fd   int
	peer netip.AddrPort
}

// pick is the loop a new connection goes to: this one unless another holds
// at least four fewer.
func (g *evGroup) pick(self *evLoop) *evLoop {
	best, bn := self, self.in.live.Load()
	for _, l := range g.loops {
		if n := l.in.live.Load(); n+handSlack <= bn {
			best, bn = l, n
		}
	}
	return best
}

// take places a socket just accepted: counted at once (stop and drain see
// it wherever it is), then opened here or handed to the loop picked.
func (l *evLoop) take(fe *frontend, fd int, peer netip.AddrPort) {
	p := l.g.p
	p.conns.Add(1)
	l.g.active.Add(1)
	fe.stats.current.Add(1)
	fe.stats.total.Add(1)
	t := l.g.pick(l)
	t.in.live.Add(1)
	if t == l {
		l.open(fe, fd, peer)
		return
	}
	t.in.mu.Lock()
	first := len(t.in.q) == 0
	t.in.q = append(t.in.q, evHanded{fe: fe, fd: fd, peer: peer})
	t.in.pending.Store(true)
	t.in.mu.Unlock()
	if first {
		one := [8]byte{1}
		_, _ = unix.Write(t.wakefd, one[:]) // a full counter is awake anyway
	}
}

// adoptHanded opens the sockets other loops handed to this one.
func (l *evLoop) adoptHanded() {
	if !l.in.pending.Load() {
		return
	}
	l.in.mu.Lock()
	q := l.in.q
	l.in.q = l.in.spare[:0]
	l.in.pending.Store(false)
	l.in.mu.Unlock()
	for i, h := range q {
		l.open(h.fe, h.fd, h.peer)
		q[i] = evHanded{}
	}
	l.in.spare = q
}
