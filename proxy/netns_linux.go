package proxy

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// NetnsDir is where named namespaces live, as ip-netns(8) makes them.
const NetnsDir = "/run/netns"

// errThreadStuck means a thread could not return to the proxy's namespace:
// it stays locked to its goroutine, which must end so the runtime discards
// the thread. Callers stop retrying on it.
var errThreadStuck = errors.New("thread stuck in another namespace")

// nsTable holds one fd per namespace, opened once at start, so a name from
// the wire is only ever a map key, never a path. It is read-only after
// openNamespaces and safe for concurrent use.
type nsTable struct {
	self int // the proxy's own namespace, to come back to
	fds  map[string]int
}

// openNamespaces opens /run/netns/NAME for every name, and the namespace of
// the calling thread as the way back.
func openNamespaces(names []string) (*nsTable, error) {
	t := &nsTable{self: -1, fds: make(map[string]int, len(names))}
	runtime.LockOSThread()
	self, err := openNS("/proc/thread-self/ns/net")
	runtime.UnlockOSThread()
	if err != nil {
		return nil, fmt.Errorf("opening own namespace: %w", err)
	}
	t.self = self
	for _, n := range names {
		if !ValidNamespaceName(n) {
			t.close()
			return nil, fmt.Errorf("opening namespace %q: invalid name", n)
		}
		fd, err := openNS(NetnsDir + "/" + n)
		if err != nil {
			t.close()
			return nil, fmt.Errorf("opening namespace %q: %w", n, err)
		}
		t.fds[n] = fd
	}
	return t, nil
}

// openNS opens path and checks it really is a network namespace.
func openNS(path string) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: path, Err: err}
	}
	typ, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE)
	if err != nil || typ != unix.CLONE_NEWNET {
		unix.Close(fd)
		return -1, fmt.Errorf("%s is not a network namespace", path)
	}
	return fd, nil
}

func (t *nsTable) close() {
	for _, fd := range t.fds {
		unix.Close(fd)
	}
	if t.self >= 0 {
		unix.Close(t.self)
	}
}

// has reports whether ns was opened at start.
func (t *nsTable) has(ns string) bool {
	_, ok := t.fds[ns]
	return ns == "" || ok
}

// socketIn calls open, which must create one socket through a Dialer or
// ListenConfig whose Control is the hook it is given. The calling thread is
// in namespace ns from before socket(2) until that hook runs; the hook (or,
// if no socket was made, socketIn itself) switches back and unlocks. If
// switching back fails the thread stays locked and errThreadStuck is
// returned: the caller's goroutine must end. ns "" does no switching.
func (t *nsTable) socketIn(ns string, open func(controlFunc) error) error {
	if ns == "" {
		return open(nil)
	}
	fd, ok := t.fds[ns]
	if !ok {
		return fmt.Errorf("entering namespace %q: not opened at start", ns)
	}
	runtime.LockOSThread()
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("entering namespace %q: %w", ns, err)
	}
	inside, stuck := true, false
	back := func(string, string, syscall.RawConn) error {
		if !inside {
			return nil
		}
		inside = false
		if err := unix.Setns(t.self, unix.CLONE_NEWNET); err != nil {
			stuck = true
			return fmt.Errorf("leaving namespace %q: %w: %w", ns, errThreadStuck, err)
		}
		runtime.UnlockOSThread()
		return nil
	}
	err := open(back)
	if berr := back("", "", nil); berr != nil {
		return errors.Join(err, berr)
	}
	if stuck && !errors.Is(err, errThreadStuck) {
		return fmt.Errorf("leaving namespace %q: %w", ns, errThreadStuck)
	}
	return err
}

// id is the identity of namespace ns ("" = the proxy's own) as opened:
// the device and inode of its nsfs file, which a namespace made again
// under the same name does not share.
func (t *nsTable) id(ns string) (string, error) {
	fd, ok := t.fds[ns]
	if ns == "" {
		fd, ok = t.self, true
	}
	if !ok {
		return "", fmt.Errorf("identifying namespace %q: not opened at start", ns)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return "", fmt.Errorf("identifying namespace %q: %w", ns, err)
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino), nil
}
