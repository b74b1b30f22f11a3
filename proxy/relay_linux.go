package proxy

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// mover moves bytes with splice(2) through a pooled pipe taken only while
// data is in flight. A direction waits for data in Go's poller for up to
// parkAfter; after that it parks: the socket goes into the parker's epoll
// set and the goroutine ends, so a long-idle connection holds no
// goroutine, stack or pipe. The parker starts a new goroutine when data,
// EOF or an error arrives; a timer enforces the idle timeout meanwhile.
type mover struct {
	p       *pipe
	in      int
	inErr   error
	outErr  error
	fillFn  func(fd uintptr) bool // bound once, so moves do not allocate
	drainFn func(fd uintptr) bool
	armFn   func(fd uintptr)

	park parkState
}

// parkAfter is how long a direction waits for data on its own goroutine
// before parking: short connections never pay for parking.
const parkAfter = time.Second

func (m *mover) init(h *half) {
	m.fillFn = m.fill
	m.drainFn = m.drain
	m.armFn = h.arm
}

// copyHalf is the copy loop (named, to show in stack dumps). It returns the
// termination reason ("" after passing EOF on as a half-close), or parked
// = true when the direction waits in the parker and this goroutine must
// simply end. Idle time is judged by TCP_INFO, which sees both directions.
func copyHalf(h *half) (reason string, parked bool) {
	for {
		if h.takeTimeout() {
			return h.timeout, false
		}
		_ = h.src.SetReadDeadline(time.Now().Add(min(parkAfter, h.idle)))
		n, err := h.move()
		h.n += n
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			quiet := quietFor(h.raw)
			if quiet >= h.idle {
				return h.timeout, false
			}
			ok, perr := h.park(h.idle - quiet)
			if ok {
				return "", true
			}
			if perr != nil {
				return fmt.Sprintf("%s: parking: %v", h.name, perr), false
			}
			// The socket is closing: the next move says so.
		case err != nil:
			return fmt.Sprintf("%s: %v", h.name, err), false
		case n == 0:
			if err := h.halfClose(); err != nil {
				return fmt.Sprintf("%s: half-closing: %v", h.name, err), false
			}
			return "", false
		}
	}
}

// move waits until src has data or EOF and moves what one pipe holds to
// dst. It returns 0, nil at EOF.
func (h *half) move() (int64, error) {
	m := &h.mover
	m.p, m.in, m.inErr = nil, 0, nil
	if err := h.raw.Read(m.fillFn); err != nil {
		return 0, err // deadline or closed: fill holds no pipe when waiting
	}
	p := m.p
	if m.in == 0 || m.inErr != nil {
		if p != nil {
			pipes.put(p)
		}
		if m.inErr != nil {
			passReset(h.dst, m.inErr)
			return 0, fmt.Errorf("reading: %w", m.inErr)
		}
		return 0, nil
	}
	m.outErr = nil
	err := h.dstRaw.Write(m.drainFn)
	moved := int64(m.in - p.data)
	pipes.put(p)
	if err == nil {
		err = m.outErr
	}
	if err != nil {
		passReset(h.src, err)
		return moved, fmt.Errorf("writing: %w", err)
	}
	return moved, nil
}

// fill is the RawConn.Read callback: one splice from the socket into an
// empty pipe, so EAGAIN can only mean the socket has nothing. Then it gives
// the pipe back and asks to wait (false): a waiting direction holds none.
// The splice must happen inside the callback: the poller only wakes for
// data that arrives after an EAGAIN it has seen.
func (m *mover) fill(fd uintptr) bool {
	p, err := pipes.get()
	if err != nil {
		m.inErr = fmt.Errorf("getting a splice pipe: %w", err)
		return true
	}
	for {
		n, err := splice(int(fd), p.w, p.size)
		switch {
		case err == unix.EINTR: //nolint:errorlint // a raw errno from the syscall
			continue
		case err == unix.EAGAIN: //nolint:errorlint // a raw errno from the syscall
			pipes.put(p)
			return false
		case err != nil:
			m.inErr = err
		default:
			m.in, p.data = int(n), int(n)
		}
		m.p = p
		return true
	}
}

// drain is the RawConn.Write callback: empty the pipe into the socket,
// waiting (false) only on EAGAIN, as edge-triggered polling requires. A
// slow receiver keeps this goroutine and the pipe: that is back-pressure.
func (m *mover) drain(fd uintptr) bool {
	for m.p.data > 0 {
		n, err := splice(m.p.r, int(fd), m.p.data)
		switch {
		case err == unix.EINTR: //nolint:errorlint // a raw errno from the syscall
		case err == unix.EAGAIN: //nolint:errorlint // a raw errno from the syscall
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

// splice is a non-blocking splice(2) as a raw system call: it never
// sleeps, so it needs no entersyscall/exitsyscall. A Go system call that
// runs past a sysmon tick (20µs, which a loopback splice can take on a
// busy machine) while both Ps are busy makes sysmon hand the P to another
// thread and keeps sysmon polling every 20µs: under many short
// connections that churn cost more CPU than the copying.
func splice(in, out, n int) (int, error) {
	r, _, e := unix.RawSyscall6(unix.SYS_SPLICE, uintptr(in), 0, uintptr(out), 0, uintptr(n), unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
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

const pipeSize = 1 << 20

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
	// A large pipe moves a bulk transfer in fewer, larger splices
	// (bench/perf/stream.sh, 3 rounds: 4 streams 0.96x HAProxy's Gbit/s
	// with 64 KiB, 1.06x with 1 MiB; CPU per GB 0.42 -> 0.34 s). Pages are
	// taken only as data arrives, and the data is what socket buffers
	// (up to 6 MiB each) would hold anyway. Refused (fs.pipe-max-size, a
	// user's pipe pages): the default stays.
	_, _ = unix.FcntlInt(uintptr(fds[0]), unix.F_SETPIPE_SZ, pipeSize)
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
