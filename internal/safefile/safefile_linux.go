package safefile

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// noOpenat2 is set by tests to exercise the O_NOFOLLOW walk, and by
// OpenDir itself when the kernel (or a seccomp filter) lacks openat2.
var noOpenat2 atomic.Bool

const dirFlags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC

// OpenDir opens the directory at path, refusing a symlink in any component
// (ErrSymlink). A relative path is relative to the working directory; ".."
// components are refused.
func OpenDir(path string) (*Dir, error) {
	if path == "" || strings.Contains("/"+path+"/", "/../") {
		return nil, &os.PathError{Op: "opening directory", Path: path, Err: ErrBadName}
	}
	fd, err := openDir(path)
	if err != nil {
		return nil, &os.PathError{Op: "opening directory", Path: path, Err: err}
	}
	return &Dir{fd: fd, path: path}, nil
}

func openDir(path string) (int, error) {
	if !noOpenat2.Load() {
		how := unix.OpenHow{Flags: dirFlags, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
		fd, err := unix.Openat2(unix.AT_FDCWD, path, &how)
		switch {
		case err == nil:
			return fd, nil
		case err == unix.ELOOP:
			return -1, ErrSymlink
		case err != unix.ENOSYS && err != unix.EPERM:
			return -1, err
		}
		noOpenat2.Store(true) // no openat2 here: walk instead
	}
	return walk(path)
}

// walk opens path one component at a time with O_NOFOLLOW.
func walk(path string) (int, error) {
	start := "."
	if strings.HasPrefix(path, "/") {
		start = "/"
	}
	fd, err := unix.Open(start, dirFlags, 0)
	if err != nil {
		return -1, err
	}
	for _, c := range strings.Split(path, "/") {
		if c == "" || c == "." {
			continue
		}
		next, err := openSub(fd, c, dirFlags)
		unix.Close(fd)
		if err != nil {
			return -1, err
		}
		fd = next
	}
	return fd, nil
}

// openSub opens name in dirfd as a directory, telling a symlink apart.
func openSub(dirfd int, name string, flags int) (int, error) {
	fd, err := unix.Openat(dirfd, name, flags|unix.O_NOFOLLOW, 0)
	if err == unix.ELOOP || err == unix.ENOTDIR {
		if isSymlink(dirfd, name) {
			return -1, ErrSymlink
		}
	}
	return fd, err
}

func isSymlink(dirfd int, name string) bool {
	var st unix.Stat_t
	return unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK
}

// Close releases the directory.
func (d *Dir) Close() error { return unix.Close(d.fd) }

func (d *Dir) fail(op, name string, err error) error {
	if errors.Is(err, unix.ELOOP) {
		err = ErrSymlink
	}
	return &os.PathError{Op: op, Path: join(d.path, name), Err: err}
}

// OpenDir opens the subdirectory name, refusing a symlink.
func (d *Dir) OpenDir(name string) (*Dir, error) {
	if err := checkName(name); err != nil {
		return nil, d.fail("opening directory", name, err)
	}
	fd, err := openSub(d.fd, name, dirFlags)
	if err != nil {
		return nil, d.fail("opening directory", name, err)
	}
	return &Dir{fd: fd, path: join(d.path, name)}, nil
}

// Mkdir creates the directory name (umask applies); an existing one is an
// error that matches fs.ErrExist.
func (d *Dir) Mkdir(name string, perm os.FileMode) error {
	if err := checkName(name); err != nil {
		return d.fail("creating directory", name, err)
	}
	if err := unix.Mkdirat(d.fd, name, uint32(perm.Perm())); err != nil {
		return d.fail("creating directory", name, err)
	}
	return nil
}

// RemoveDir removes the directory name if it is empty (the kernel refuses
// otherwise); a symlink there is not removed.
func (d *Dir) RemoveDir(name string) error {
	if err := checkName(name); err != nil {
		return d.fail("removing directory", name, err)
	}
	if err := unix.Unlinkat(d.fd, name, unix.AT_REMOVEDIR); err != nil {
		if err == unix.ENOTDIR && isSymlink(d.fd, name) {
			err = ErrSymlink
		}
		return d.fail("removing directory", name, err)
	}
	return nil
}

// ReadFile reads the regular file name, at most max bytes (a longer file is
// an error). A FIFO or device there is refused without blocking.
func (d *Dir) ReadFile(name string, max int64) ([]byte, error) {
	f, err := d.openRegular("reading", name, unix.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, d.fail("reading", name, err)
	}
	if int64(len(b)) > max {
		return nil, d.fail("reading", name, fmt.Errorf("larger than %d bytes", max))
	}
	return b, nil
}

var errNotRegular = errors.New("not a regular file")

// openRegular opens name without following it and checks that it is a
// regular file. O_NONBLOCK: a FIFO planted there must not hang the open.
func (d *Dir) openRegular(op, name string, flags int, perm os.FileMode) (*os.File, error) {
	if err := checkName(name); err != nil {
		return nil, d.fail(op, name, err)
	}
	fd, err := unix.Openat(d.fd, name, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, uint32(perm.Perm()))
	if err != nil {
		return nil, d.fail(op, name, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		if err == nil {
			err = errNotRegular
		}
		return nil, d.fail(op, name, err)
	}
	return os.NewFile(uintptr(fd), join(d.path, name)), nil
}

// WriteFile replaces name atomically with data and mode perm: readers see
// the old file or the new one. Whatever is at name (a symlink included) is
// replaced, never written through. The data is on disk when it returns.
func (d *Dir) WriteFile(name string, data []byte, perm os.FileMode) error {
	return d.writeFile(name, data, perm, true)
}

// Replace is WriteFile without the fsync: as atomic for readers and
// against a writer that is killed, not durable across a power loss. For
// files that describe kernel state, which a power loss ends too (the
// state files in /run); the fsync costs ~1 ms, tens under I/O load.
func (d *Dir) Replace(name string, data []byte, perm os.FileMode) error {
	return d.writeFile(name, data, perm, false)
}

func (d *Dir) writeFile(name string, data []byte, perm os.FileMode, sync bool) error {
	if err := checkName(name); err != nil {
		return d.fail("writing", name, err)
	}
	tmp, f, err := d.createTemp(name, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(d.fd, tmp, d.fd, name)
	}
	if err != nil {
		_ = unix.Unlinkat(d.fd, tmp, 0)
		return d.fail("writing", name, err)
	}
	return nil
}

// tempPrefix is how temporary files of name begin; RemoveTemps finds them.
func tempPrefix(name string) string { return "." + name + ".tmp-" }

func (d *Dir) createTemp(name string, perm os.FileMode) (string, *os.File, error) {
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := tempPrefix(name) + hex.EncodeToString(rnd[:])
	f, err := d.Create(tmp, perm)
	if err != nil {
		return "", nil, err
	}
	// The mode asked for, whatever the umask.
	if err := f.Chmod(perm.Perm()); err != nil {
		f.Close()
		_ = unix.Unlinkat(d.fd, tmp, 0)
		return "", nil, d.fail("writing", tmp, err)
	}
	return tmp, f, nil
}

// Create makes the file name, which must not exist (O_EXCL: not even as a
// dangling symlink), and opens it for writing; umask applies.
func (d *Dir) Create(name string, perm os.FileMode) (*os.File, error) {
	return d.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
}

// OpenFile opens name with flag (os.O_*), never following a symlink, and
// refuses anything but a regular file. For lock files: O_RDWR|O_CREATE.
func (d *Dir) OpenFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	return d.openRegular("opening", name, flag, perm)
}

// Remove removes the file name; a symlink there is removed itself, never
// its target. An absent file is an error that matches fs.ErrNotExist.
func (d *Dir) Remove(name string) error {
	if err := checkName(name); err != nil {
		return d.fail("removing", name, err)
	}
	if err := unix.Unlinkat(d.fd, name, 0); err != nil {
		return d.fail("removing", name, err)
	}
	return nil
}

// RemoveIfContent removes name only if it is a regular file whose content
// is want; otherwise it leaves it and returns ErrChanged (or an error that
// matches fs.ErrNotExist when there is nothing). The check and the unlink
// are two steps: this guards against what was there before, not against
// someone who can write in the directory at the same moment.
func (d *Dir) RemoveIfContent(name string, want []byte) error {
	f, err := d.openRegular("removing", name, unix.O_RDONLY, 0)
	if errors.Is(err, ErrSymlink) || errors.Is(err, errNotRegular) {
		return d.fail("removing", name, fmt.Errorf("%w: %w", ErrChanged, errors.Unwrap(err)))
	}
	if err != nil {
		return err
	}
	defer f.Close()
	got, err := io.ReadAll(io.LimitReader(f, int64(len(want))+1))
	if err != nil {
		return d.fail("removing", name, err)
	}
	var held, now unix.Stat_t
	if !bytes.Equal(got, want) || unix.Fstat(int(f.Fd()), &held) != nil ||
		unix.Fstatat(d.fd, name, &now, unix.AT_SYMLINK_NOFOLLOW) != nil ||
		held.Dev != now.Dev || held.Ino != now.Ino {
		return d.fail("removing", name, ErrChanged)
	}
	return d.Remove(name)
}

// RemoveTemps removes temporary files that an interrupted WriteFile of name
// left behind. Nothing else is touched.
func (d *Dir) RemoveTemps(name string) error {
	if err := checkName(name); err != nil {
		return d.fail("removing temporary files of", name, err)
	}
	fd, err := unix.Openat(d.fd, ".", dirFlags, 0)
	if err != nil {
		return d.fail("listing", ".", err)
	}
	f := os.NewFile(uintptr(fd), d.path)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return d.fail("listing", ".", err)
	}
	var errs []error
	for _, n := range names {
		if strings.HasPrefix(n, tempPrefix(name)) {
			if err := unix.Unlinkat(d.fd, n, 0); err != nil && err != unix.ENOENT {
				errs = append(errs, d.fail("removing", n, err))
			}
		}
	}
	return errors.Join(errs...)
}
