package proxy

import (
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// parkState is a direction's parking, guarded by mu. Lock order: a
// half's mu before the parker's.
type parkState struct {
	mu         sync.Mutex
	parked     bool
	registered bool // fd is in the parker's epoll set
	timedOut   bool
	fd         int32
	timer      *time.Timer
	armErr     error
}

// parker is one epoll set and one goroutine waiting on it for every parked
// direction of the process.
type parker struct {
	epfd   int
	mu     sync.Mutex
	halves map[int32]*half
}

var theParker *parker

// initRelay starts the parker; New calls it so a failure stops start-up.
func initRelay() error {
	parkerOnce.Do(func() {
		fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			parkerErr = fmt.Errorf("creating epoll set for idle connections: %w", err)
			return
		}
		theParker = &parker{epfd: fd, halves: map[int32]*half{}}
		go theParker.loop()
	})
	return parkerErr
}

var (
	parkerOnce sync.Once
	parkerErr  error
)

func (pk *parker) loop() {
	events := make([]unix.EpollEvent, 256)
	for {
		n, err := unix.EpollWait(pk.epfd, events, -1)
		if err != nil {
			if err != unix.EINTR {
				time.Sleep(10 * time.Millisecond) // cannot happen; do not spin
			}
			continue
		}
		for _, ev := range events[:n] {
			pk.mu.Lock()
			h := pk.halves[ev.Fd]
			delete(pk.halves, ev.Fd)
			pk.mu.Unlock()
			if h != nil {
				h.resume(false)
			}
		}
	}
}

func (pk *parker) forget(fd int32, h *half) {
	pk.mu.Lock()
	if pk.halves[fd] == h {
		delete(pk.halves, fd)
	}
	pk.mu.Unlock()
}

// park puts the direction in the parker and arms its idle timer to fire
// after idle. false with a nil error means the socket is closing.
func (h *half) park(idle time.Duration) (bool, error) {
	ps := &h.mover.park
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.parked, ps.armErr = true, nil
	if ps.timer == nil {
		ps.timer = time.AfterFunc(idle, h.onIdle)
	} else {
		ps.timer.Reset(idle)
	}
	if err := h.raw.Control(h.armFn); err != nil || ps.armErr != nil {
		ps.parked = false
		ps.timer.Stop()
		return false, ps.armErr
	}
	return true, nil
}

// arm is the Control callback of park: register (or re-arm, one shot) the
// socket. The map entry goes first: the event may fire at once.
func (h *half) arm(fd uintptr) {
	ps := &h.mover.park
	ps.fd = int32(fd)
	theParker.mu.Lock()
	theParker.halves[ps.fd] = h
	theParker.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT, Fd: ps.fd}
	op := unix.EPOLL_CTL_MOD
	if !ps.registered {
		op = unix.EPOLL_CTL_ADD
	}
	err := unix.EpollCtl(theParker.epfd, op, int(fd), &ev)
	if err == unix.EEXIST || err == unix.ENOENT {
		op = unix.EPOLL_CTL_ADD + unix.EPOLL_CTL_MOD - op
		err = unix.EpollCtl(theParker.epfd, op, int(fd), &ev)
	}
	if err != nil {
		theParker.forget(ps.fd, h)
		ps.armErr = err
		return
	}
	ps.registered = true
}

// resume starts a parked direction again on a new goroutine; it does
// nothing if the direction is not parked (someone else resumed it).
func (h *half) resume(timedOut bool) {
	ps := &h.mover.park
	ps.mu.Lock()
	if !ps.parked {
		ps.mu.Unlock()
		return
	}
	ps.parked = false
	ps.timedOut = timedOut
	ps.timer.Stop()
	fd := ps.fd
	ps.mu.Unlock()
	theParker.forget(fd, h)
	go h.r.runHalf(h)
}

// wakeClosed resumes a parked direction whose sockets were just closed.
func (h *half) wakeClosed() { h.resume(false) }

// onIdle runs when a parked direction's timer fires: the connection ends
// only if TCP_INFO says the socket has been quiet both ways for the whole
// timeout; otherwise the timer is set for the rest.
func (h *half) onIdle() {
	ps := &h.mover.park
	ps.mu.Lock()
	parked := ps.parked
	ps.mu.Unlock()
	if !parked {
		return
	}
	if quiet := quietFor(h.raw); quiet < h.idle {
		ps.mu.Lock()
		if ps.parked {
			ps.timer.Reset(h.idle - quiet)
		}
		ps.mu.Unlock()
		return
	}
	h.resume(true)
}

// takeTimeout reports (once) that onIdle ended this direction.
func (h *half) takeTimeout() bool {
	ps := &h.mover.park
	ps.mu.Lock()
	defer ps.mu.Unlock()
	t := ps.timedOut
	ps.timedOut = false
	return t
}
