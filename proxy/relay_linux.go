package proxy

import (
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// availPoller waits until a socket has bytes queued or is at EOF. Its
// callback is bound once, so each wait allocates nothing.
type availPoller struct {
	n    int
	err  error
	poll func(fd uintptr) bool
}

func (a *availPoller) init() { a.poll = a.check }

// wait returns the bytes queued on the socket, or 0 at EOF.
func (a *availPoller) wait(raw syscall.RawConn) (int, error) {
	a.n, a.err = 0, nil
	if err := raw.Read(a.poll); err != nil {
		return 0, err
	}
	return a.n, a.err
}

// check is the RawConn.Read callback: true when done, false to wait for
// readability. SIOCINQ says how much is queued; when nothing is, a
// one-byte MSG_PEEK tells EOF (0) from "would block".
func (a *availPoller) check(fd uintptr) bool {
	n, err := unix.IoctlGetInt(int(fd), unix.SIOCINQ)
	if err != nil {
		a.err = err
		return true
	}
	if n > 0 {
		a.n = n
		return true
	}
	var b byte
	for {
		r, _, errno := unix.Syscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b)), 1,
			unix.MSG_PEEK|unix.MSG_DONTWAIT, 0, 0)
		switch errno {
		case 0:
			a.n = int(r) // 0 is EOF; 1 means data raced in
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		a.err = errno
		return true
	}
}

// quietFor is how long the socket has moved no data either way; if the
// kernel cannot say, the socket counts as idle.
func quietFor(raw syscall.RawConn) time.Duration {
	q := time.Duration(1<<63 - 1)
	_ = raw.Control(func(fd uintptr) {
		ti, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		if err == nil {
			q = time.Duration(min(ti.Last_data_recv, ti.Last_data_sent)) * time.Millisecond
		}
	})
	return q
}
