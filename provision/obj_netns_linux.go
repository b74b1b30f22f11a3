package provision

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	xnetns "github.com/netns-daemon/netns-daemon/internal/netns"
	"github.com/netns-daemon/netns-daemon/internal/safefile"
)

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

// create makes a new namespace and bind-mounts it at NetnsPath, as `ip
// netns add` does. Its identity is recorded (written ahead) before the
// mount exists, so stop can always tell it from another made later under
// the same name.
func (o nsObj) create(k *kernel, r *record) error {
	if o.Path != "" {
		ns, err := k.netns()
		if err != nil {
			return err
		}
		id := ns.ID()
		r.NS, r.Existed = &id, true
		r.Cookie, err = ns.Cookie()
		return err
	}
	path := NetnsPath(k.n.ns)
	if err := ensureNetnsDir(); err != nil {
		return err
	}
	d, err := safefile.OpenDir(NetnsDir)
	if err != nil {
		return err
	}
	defer d.Close()
	f, err := d.Create(k.n.ns, 0o444)
	if err != nil {
		return fmt.Errorf("creating namespace file %s: %w", path, err)
	}
	r.File = fileIDOf(f)
	f.Close()
	err = xnetns.New(func() error {
		self, err := xnetns.Current()
		if err != nil {
			return err
		}
		id := self.ID()
		self.Close()
		if r.Cookie, err = xnetns.ThreadCookie(); err != nil {
			return err
		}
		r.NS = &id
		if err := k.ahead(); err != nil {
			return err
		}
		if err := unix.Mount("/proc/thread-self/ns/net", path, "none", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind-mounting %s: %w", path, err)
		}
		return nil
	})
	if err != nil {
		_ = d.Remove(k.n.ns)
		return err
	}
	ns, err := k.netns()
	if err == nil && ns.ID() != *r.NS {
		err = fmt.Errorf("%s is not the namespace just made", path)
	}
	if err == nil {
		err = setLoopbackUp(k)
	}
	return err
}

// setLoopbackUp sets lo of a namespace just made up: it is ifindex 1 in
// every network namespace, so that takes no lookup.
func setLoopbackUp(k *kernel) error {
	h, err := k.nl()
	if err != nil {
		return err
	}
	err = h.LinkSetUp(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: "lo", Index: 1}})
	if err != nil {
		return fmt.Errorf("setting loopback up in namespace %q: %w", k.n.ns, err)
	}
	return nil
}

// errNotOurs means /run/netns/NAME is not the namespace start made: stop
// and start then touch nothing there.
var errNotOurs = errors.New("not the namespace netns-daemon-start made")

// check compares /run/netns/NAME with the recorded identity: nil if it is
// ours, errNamespaceGone if nothing is there, errNotOurs otherwise (a
// symlink, a plain file, another namespace).
func (nsObj) check(k *kernel, r *record) error {
	path := k.nsPath
	id, err := statNS(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errNamespaceGone
	case errors.Is(err, xnetns.ErrNotNamespace) && isPlaceholder(path, r):
		// start was killed before its mount, or mounted from a private
		// mount namespace (a sandboxed unit) where the host cannot see it
		return errPlaceholder
	case err != nil:
		return fmt.Errorf("%s: %w: %w", path, errNotOurs, err)
	case r.NS != nil && id != *r.NS:
		return fmt.Errorf("%s is namespace %v, start made %v: %w", path, id, *r.NS, errNotOurs)
	case r.Cookie != 0:
		// Same inode; the cookie tells a namespace made after ours was
		// freed (which can get the inode number again) from ours.
		if c, err := cookieAt(path); err != nil || c != r.Cookie {
			return fmt.Errorf("%s has namespace cookie %d, start made %d: %w", path, c, r.Cookie, errNotOurs)
		}
	}
	return nil
}

func cookieAt(path string) (uint64, error) {
	h, err := xnetns.OpenFile(path)
	if err != nil {
		return 0, err
	}
	defer h.Close()
	return h.Cookie()
}

var errPlaceholder = errors.New("placeholder of a namespace never mounted")

func statNS(path string) (xnetns.ID, error) {
	h, err := xnetns.OpenFile(path)
	if err != nil {
		return xnetns.ID{}, err
	}
	defer h.Close()
	return h.ID(), nil
}

// isPlaceholder reports whether path is the empty file start made as the
// mount point: the same inode, or (start killed before it recorded that)
// an empty file while the record was not done.
func isPlaceholder(path string, r *record) bool {
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != 0 {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if r.File != nil {
		return ok && *r.File == idOfStat(st)
	}
	return !r.Done
}

func idOfStat(st *syscall.Stat_t) fileID {
	return fileID{Dev: st.Dev, Ino: st.Ino, Ctime: st.Ctim.Nano()}
}

func fileIDOf(f *os.File) *fileID {
	var st syscall.Stat_t
	if syscall.Fstat(int(f.Fd()), &st) != nil {
		return nil
	}
	id := idOfStat(&st)
	return &id
}

// remove unmounts and removes the namespace if it is still ours. The
// kernel reaps it, and the veths and macvlans in it, once the last process
// and file holding it are gone.
func (o nsObj) remove(k *kernel, r *record) error {
	if r.Existed {
		return nil // not ours to delete
	}
	err := o.check(k, r)
	if errors.Is(err, errNamespaceGone) {
		return nil
	}
	path := NetnsPath(k.n.ns)
	if err != nil && !errors.Is(err, errPlaceholder) {
		return fmt.Errorf("deleting namespace %q: %w", k.n.ns, err)
	}
	k.forgetNamespace()
	if err == nil {
		if err := unix.Unmount(path, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("unmounting %s: %w", path, err)
		}
	}
	d, err := safefile.OpenDir(NetnsDir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Remove(k.n.ns); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", path, err)
	}
	return nil
}

func (o nsObj) observe(k *kernel, r *record) string {
	if err := o.check(k, r); err != nil {
		if errors.Is(err, errNamespaceGone) {
			return "missing"
		}
		return err.Error()
	}
	return ""
}
