package netns

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Open opens path as a network namespace without following a symlink at
// its last component, and checks that it is one.
func Open(path string) (Handle, error) { return open(path, unix.O_NOFOLLOW) }

// OpenFile opens a namespace file a runtime names: /proc/PID/ns/net (a
// magic link the kernel resolves) or a bind mount like /run/netns/NAME,
// never followed if it is a symlink.
func OpenFile(path string) (Handle, error) {
	if strings.HasPrefix(path, "/proc/") && strings.HasSuffix(path, "/ns/net") {
		return openProc(path)
	}
	return Open(path)
}

// Current opens the namespace of the calling thread.
func Current() (Handle, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return openProc("/proc/thread-self/ns/net")
}

// OfPID opens the namespace of process pid's main thread.
func OfPID(pid int) (Handle, error) { return openProc(fmt.Sprintf("/proc/%d/ns/net", pid)) }

// openProc opens a /proc ns link: those are magic links the kernel
// resolves itself, so they must be followed.
func openProc(path string) (Handle, error) { return open(path, 0) }

func open(path string, flags int) (Handle, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|flags, 0)
	if errors.Is(err, unix.ELOOP) {
		return Handle{}, fmt.Errorf("opening %s: is a symlink: %w", path, ErrNotNamespace)
	}
	if err != nil {
		return Handle{}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	h, err := fromFd(fd)
	if err != nil {
		unix.Close(fd)
		return Handle{}, fmt.Errorf("opening %s: %w", path, err)
	}
	return h, nil
}

func fromFd(fd int) (Handle, error) {
	typ, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE)
	if err != nil || typ != unix.CLONE_NEWNET {
		return Handle{}, ErrNotNamespace
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return Handle{}, err
	}
	return Handle{fd: fd + 1, id: ID{Dev: st.Dev, Ino: st.Ino}}, nil
}

// Close releases h; closing a closed Handle does nothing.
func (h *Handle) Close() error {
	if !h.IsOpen() {
		return nil
	}
	err := unix.Close(h.Fd())
	*h = Handle{}
	return err
}

// Dup returns a second Handle on the same namespace, closed separately.
func (h Handle) Dup() (Handle, error) {
	fd, err := unix.FcntlInt(uintptr(h.Fd()), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return Handle{}, err
	}
	return Handle{fd: fd + 1, id: h.id}, nil
}

// StatPath reports the identity of the namespace file at path without
// opening it for use and without following a symlink: what stop compares
// with what start recorded before acting.
func StatPath(path string) (ID, error) {
	h, err := Open(path)
	if err != nil {
		return ID{}, err
	}
	defer h.Close()
	return h.id, nil
}

// Cookie is h's namespace cookie: a number the kernel gives no other
// namespace while the system runs. The nsfs inode is not that: a namespace
// made after another was freed may get its inode number again.
func (h Handle) Cookie() (uint64, error) {
	var c uint64
	err := Do(h, func() error {
		var err error
		c, err = ThreadCookie()
		return err
	})
	return c, err
}

// ThreadCookie is the cookie of the calling thread's namespace (inside Do
// or New).
func ThreadCookie() (uint64, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return 0, fmt.Errorf("reading the namespace cookie: %w", err)
	}
	defer unix.Close(fd)
	c, err := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_NETNS_COOKIE)
	if err != nil {
		return 0, fmt.Errorf("reading the namespace cookie: %w", err)
	}
	return c, nil
}

// Do runs fn on a locked OS thread inside h's namespace and brings the
// thread back. Goroutines that fn starts do not inherit the namespace;
// sockets fn makes keep it.
func Do(h Handle, fn func() error) error {
	return onThread(func() error { return setns(h) }, fn)
}

// New makes a new network namespace and runs fn on a thread inside it
// (to bind-mount /proc/thread-self/ns/net, say), then brings the thread
// back. The namespace lives as long as something holds it.
func New(fn func() error) error {
	return onThread(func() error { return unix.Unshare(unix.CLONE_NEWNET) }, fn)
}

func setns(h Handle) error {
	if !h.IsOpen() {
		return errors.New("namespace handle is closed")
	}
	return unix.Setns(h.Fd(), unix.CLONE_NEWNET)
}

func onThread(enter, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		origin, err := openProc("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("opening current namespace: %w", err)
			return
		}
		defer origin.Close()
		if err := enter(); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("entering namespace: %w", err)
			return
		}
		ferr := fn()
		if err := setns(origin); err != nil {
			errc <- fmt.Errorf("returning to original namespace: %w: %w", ErrThreadStuck, err)
			return // still locked: the runtime ends this thread
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// Control is the hook a net.Dialer or net.ListenConfig calls between
// socket(2) and bind/connect.
type Control = func(network, address string, c syscall.RawConn) error

// SocketIn calls open, which must create one socket through a Dialer or
// ListenConfig whose Control is the hook it is given: the socket is born
// in target, and the thread goes back to home (the caller's namespace) in
// that hook, before bind or connect, so the rest runs on an ordinary
// goroutine. If going back fails, the thread stays locked and the error
// wraps ErrThreadStuck: the caller's goroutine must end.
func SocketIn(target, home Handle, open func(Control) error) error {
	runtime.LockOSThread()
	if err := setns(target); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("entering namespace: %w", err)
	}
	inside, stuck := true, false
	back := func(string, string, syscall.RawConn) error {
		if !inside {
			return nil
		}
		inside = false
		if err := setns(home); err != nil {
			stuck = true
			return fmt.Errorf("leaving namespace: %w: %w", ErrThreadStuck, err)
		}
		runtime.UnlockOSThread()
		return nil
	}
	err := open(back)
	if berr := back("", "", nil); berr != nil {
		return errors.Join(err, berr)
	}
	if stuck && !errors.Is(err, ErrThreadStuck) {
		return fmt.Errorf("leaving namespace: %w", ErrThreadStuck)
	}
	return err
}

// EnterForExec switches the calling thread, which the caller has locked and
// will never unlock, into h and gives it its own mount namespace and fs
// attributes: the entry for a process about to execve inside.
func EnterForExec(h Handle) error {
	if err := setns(h); err != nil {
		return fmt.Errorf("entering namespace: %w", err)
	}
	if err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_FS); err != nil {
		return fmt.Errorf("making a mount namespace: %w", err)
	}
	return nil
}
