package provision

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// NetnsDir is where named namespaces live, as ip-netns(8) keeps them.
var NetnsDir = "/run/netns"

// NetnsPath is the bind-mounted namespace file of name.
func NetnsPath(name string) string { return filepath.Join(NetnsDir, name) }

// ensureNetnsDir makes NetnsDir a shared mount, as `ip netns add` does, so
// namespace mounts made later propagate to mount namespaces made earlier.
func ensureNetnsDir() error {
	if err := os.MkdirAll(NetnsDir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", NetnsDir, err)
	}
	err := unix.Mount("", NetnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if errors.Is(err, unix.EINVAL) { // not a mount point yet
		if err = unix.Mount(NetnsDir, NetnsDir, "none", unix.MS_BIND|unix.MS_REC, ""); err == nil {
			err = unix.Mount("", NetnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
		}
	}
	if err != nil {
		return fmt.Errorf("making %s a shared mount: %w", NetnsDir, err)
	}
	return nil
}

// createNamed makes a new network namespace and bind-mounts it at
// NetnsPath(name). On error nothing is left behind.
func createNamed(name string) error {
	if err := ensureNetnsDir(); err != nil {
		return err
	}
	path := NetnsPath(name)
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0)
	if err != nil {
		return fmt.Errorf("creating namespace file %s: %w", path, err)
	}
	f.Close()
	// unshare moves this thread into a new namespace, which the bind
	// mount then names.
	err = onThread(func() error { return unix.Unshare(unix.CLONE_NEWNET) }, func() error {
		self := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		if err := unix.Mount(self, path, "none", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind-mounting %s: %w", path, err)
		}
		return nil
	})
	if err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// deleteNamed unmounts and removes a named namespace; gone is fine. The
// kernel reaps the namespace, and the veths and macvlans in it, once the
// last process and file holding it are gone.
func deleteNamed(name string) error {
	path := NetnsPath(name)
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmounting %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("removing %s: %w", path, err)
	}
	return nil
}

// openNamed opens a named namespace, or the caller's own for "".
func openNamed(name string) (netns.NsHandle, error) {
	if name == "" {
		h, err := netns.Get()
		if err != nil {
			return netns.None(), fmt.Errorf("opening current namespace: %w", err)
		}
		return h, nil
	}
	h, err := netns.GetFromPath(NetnsPath(name))
	if err != nil {
		return netns.None(), fmt.Errorf("opening namespace %q: %w", name, err)
	}
	return h, nil
}

// inNamespace runs fn on a thread switched into ns.
func inNamespace(ns netns.NsHandle, fn func() error) error {
	return onThread(func() error { return netns.Set(ns) }, fn)
}

// onThread runs fn on a locked thread after enter has switched its network
// namespace, then switches back. If switching back fails the thread stays
// locked, so the runtime ends it with the goroutine.
func onThread(enter, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		origin, err := netns.Get()
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
		if err := netns.Set(origin); err != nil {
			errc <- fmt.Errorf("returning to original namespace: %w", err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// newHandle opens a rtnetlink socket inside ns; only the socket's creation
// switches namespaces.
func newHandle(ns netns.NsHandle) (*netlink.Handle, error) {
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("opening netlink socket: %w", err)
	}
	return h, nil
}

// sameNamespace compares namespaces by device and inode.
func sameNamespace(a, b netns.NsHandle) bool { return a.Equal(b) }
