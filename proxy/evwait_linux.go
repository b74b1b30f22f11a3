package proxy

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// How a loop sleeps. While busy it blocks in epoll_wait itself, as a raw
// system call: the kernel wakes the loop's thread directly, EPOLLEXCLUSIVE
// works (the loop is a real waiter), and the runtime sees no system call,
// so sysmon does not hand the P around. Measured against sleeping in Go's
// poller (bench/perf/ab.sh, veth, 3 rounds): 1.02× against 0.92× HAProxy's
// short connections/s, 1.05× against 0.96× its keep-alive req/s. After
// rawQuiet with nothing to do it parks in Go's poller instead, so an idle
// proxy holds no thread awake and sysmon can sleep. A busy loop never
// goes through the scheduler by itself: sysmon preempts it every 10ms
// (a signal; cheaper than yielding each millisecond, which woke an idle
// thread each time: 85% of the futex calls).
const rawQuiet = 5 * time.Millisecond

var procs0 = sync.OnceValue(func() int { return runtime.GOMAXPROCS(0) })

// loopProcs gives n loops, which keep their Ps while they sleep in
// epoll_wait, one P more for everything else (master link, metrics,
// signals, the goroutine path).
func loopProcs(n int) {
	if runtime.GOMAXPROCS(0) < n+1 {
		runtime.GOMAXPROCS(n + 1)
	}
}

// openPark makes the loop's parking set: an epoll set registered in Go's
// poller that holds the loop's own set only while the loop parks, so a busy
// loop's events never wake the runtime's poller as well.
func (l *evLoop) openPark() error {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return fmt.Errorf("creating the event loop's parking set: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return fmt.Errorf("event loop's parking set: %w", err)
	}
	l.park = os.NewFile(uintptr(fd), "event loop")
	if l.parkRaw, err = l.park.SyscallConn(); err != nil {
		l.park.Close()
		return fmt.Errorf("event loop's parking set: %w", err)
	}
	return nil
}

// wait returns the ready events; 0 means a timer tick may be due.
func (l *evLoop) wait(evs []unix.EpollEvent) int {
	if l.quiet {
		l.quiet = false
		return l.parkWait(evs)
	}
	timeout := rawQuiet
	if l.busy() {
		timeout = min(timeout, time.Duration(l.lastTk+int64(l.g.tick)-nanotime()))
	}
	ms := max(int((timeout+time.Millisecond-1)/time.Millisecond), 0)
	r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(l.epfd), uintptr(unsafe.Pointer(&evs[0])), uintptr(len(evs)), uintptr(ms), 0, 0)
	switch {
	case e != 0:
		return 0 // EINTR: a signal, or the GC stopping this goroutine
	case r == 0 && ms == int(rawQuiet/time.Millisecond):
		l.quiet = true
	}
	return int(r)
}

// busy: something can time out or waits for a slot.
func (l *evLoop) busy() bool { return len(l.conns)-len(l.free) > 0 || l.npaused > 0 }

// parkWait sleeps in Go's poller until the loop's set is readable, or the
// next timer tick while the loop is busy.
func (l *evLoop) parkWait(evs []unix.EpollEvent) int {
	pfd := int(l.park.Fd())
	ev := unix.EpollEvent{Events: unix.EPOLLIN}
	if err := unix.EpollCtl(pfd, unix.EPOLL_CTL_ADD, l.epfd, &ev); err != nil {
		return epollNow(l.epfd, evs) // cannot happen; the raw wait goes on
	}
	var at time.Time
	if l.busy() {
		at = start0.Add(time.Duration(l.lastTk) + l.g.tick)
	}
	if !at.Equal(l.parkAt) {
		l.parkAt = at
		_ = l.park.SetReadDeadline(at)
	}
	n := 0
	_ = l.parkRaw.Read(func(uintptr) bool { // a deadline ends it with n = 0
		n = epollNow(l.epfd, evs)
		return n > 0
	})
	_ = unix.EpollCtl(pfd, unix.EPOLL_CTL_DEL, l.epfd, nil)
	return n
}

// epollNow is epoll_pwait without sleeping.
func epollNow(epfd int, evs []unix.EpollEvent) int {
	r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&evs[0])), uintptr(len(evs)), 0, 0, 0)
	if e != 0 {
		return 0 // EINTR
	}
	return int(r)
}
