package proxy

import (
	"fmt"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// mover moves bytes with splice(2) through a pipe taken from a pool only
// while data is in flight, so an idle connection holds no pipe: the wait
// for data happens before a pipe is needed. Each wake costs one splice in,
// one out, and one more in that finds the socket empty.
type mover struct {
	p        *pipe
	in       int
	inErr    error
	outErr   error
	spliceIn func(fd uintptr) bool // bound once, so moves do not allocate
	pumpOut  func(fd uintptr) bool
}

func (m *mover) init() {
	m.spliceIn = m.fill
	m.pumpOut = m.drain
}

// move waits until src has data or EOF and moves what the pipe holds to
// dst. It returns 0, nil at EOF.
func (h *half) move() (int64, error) {
	m := &h.mover
	m.p, m.in, m.inErr = nil, 0, nil
	if err := h.raw.Read(m.spliceIn); err != nil {
		return 0, err // deadline or closed: fill holds no pipe when waiting
	}
	p := m.p
	if m.in == 0 || m.inErr != nil {
		if p != nil {
			pipes.put(p)
		}
		if m.inErr != nil {
			return 0, fmt.Errorf("reading: %w", m.inErr)
		}
		return 0, nil
	}
	m.outErr = nil
	err := h.dstRaw.Write(m.pumpOut)
	moved := int64(m.in - p.data)
	pipes.put(p)
	if err == nil {
		err = m.outErr
	}
	if err != nil {
		return moved, fmt.Errorf("writing: %w", err)
	}
	return moved, nil
}

// fill is the RawConn.Read callback: splice from the socket into an empty
// pipe, so EAGAIN can only mean the socket has nothing. Before waiting it
// gives the pipe back: a waiting connection holds none.
func (m *mover) fill(fd uintptr) bool {
	if m.p == nil {
		p, err := pipes.get()
		if err != nil {
			m.inErr = fmt.Errorf("getting a splice pipe: %w", err)
			return true
		}
		m.p = p
	}
	for {
		n, err := unix.Splice(int(fd), nil, m.p.w, nil, m.p.size, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			pipes.put(m.p)
			m.p = nil
			return false
		case err != nil:
			m.inErr = err
		default:
			m.in = int(n)
			m.p.data = int(n)
		}
		return true
	}
}

// drain is the RawConn.Write callback: empty the pipe into the socket,
// waiting (false) only on EAGAIN, as edge-triggered polling requires.
func (m *mover) drain(fd uintptr) bool {
	for m.p.data > 0 {
		n, err := unix.Splice(m.p.r, nil, int(fd), nil, m.p.data, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
		switch {
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			return false
		case err != nil:
			m.outErr = err
			return true
		default:
			m.p.data -= int(n)
		}
	}
	return true
}

type pipe struct {
	r, w int
	size int // capacity: how much one splice in may take
	data int // bytes in the pipe
}

// pipePool keeps empty pipes for reuse; a pipe left holding data is closed.
type pipePool struct {
	mu   sync.Mutex
	free []*pipe
}

// Few: each pooled pipe is two fds, and fds are what 10k connections need.
const maxFreePipes = 64

var pipes pipePool

func (pp *pipePool) get() (*pipe, error) {
	pp.mu.Lock()
	if n := len(pp.free); n > 0 {
		p := pp.free[n-1]
		pp.free = pp.free[:n-1]
		pp.mu.Unlock()
		return p, nil
	}
	pp.mu.Unlock()
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, err
	}
	size, err := unix.FcntlInt(uintptr(fds[0]), unix.F_GETPIPE_SZ, 0)
	if err != nil || size <= 0 {
		size = 64 << 10
	}
	return &pipe{r: fds[0], w: fds[1], size: size}, nil
}

func (pp *pipePool) put(p *pipe) {
	if p.data == 0 {
		pp.mu.Lock()
		if len(pp.free) < maxFreePipes {
			pp.free = append(pp.free, p)
			pp.mu.Unlock()
			return
		}
		pp.mu.Unlock()
	}
	unix.Close(p.r)
	unix.Close(p.w)
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
