package provision

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"unsafe"

	xnetns "github.com/netns-daemon/netns-daemon/internal/netns"
	"golang.org/x/sys/unix"
)

// Run replaces the process with the command, inside its namespace; it
// returns only on failure, and the caller's threads are then unchanged.
//
// How, given Go's threads: setns(CLONE_NEWNET) and unshare(CLONE_NEWNS|
// CLONE_FS) both act on the calling thread only (unshare copies the thread's
// fs_struct, so it works in a multi-threaded process; setns into a mount
// namespace would not). One locked thread enters the network namespace,
// makes its own mount namespace (slave, so nothing leaks to the host),
// binds /etc/netns/NAME/* over /etc, remounts /sys, drops its credentials
// with raw per-thread syscalls and calls execve. execve ends the other
// threads and hands the thread group's PID to the caller thread, with that
// thread's namespaces and credentials: the daemon is this process, with
// this PID. On a failure the goroutine returns still locked, so the runtime
// discards the altered thread and the caller (root, in the host's
// namespaces) can roll back.
func (c *Command) Run(warn func(string)) error {
	ns, err := xnetns.Open(NetnsPath(c.Netns))
	if err != nil {
		return fmt.Errorf("%w: opening namespace %q: %w", ErrInvalidSpec, c.Netns, err)
	}
	defer ns.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		errc <- c.enterAndExec(ns, warn)
	}()
	return <-errc
}

func (c *Command) enterAndExec(ns xnetns.Handle, warn func(string)) error {
	if err := xnetns.EnterForExec(ns); err != nil {
		return fmt.Errorf("entering namespace %q: %w", c.Netns, err)
	}
	if err := unix.Mount("", "/", "none", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("making / a slave mount: %w", err)
	}
	if err := remountSys(c.Netns); err != nil {
		return err
	}
	bindEtc(filepath.Join(EtcNetnsDir, c.Netns), "/etc", warn)
	if c.Exec.Chdir != "" {
		if err := unix.Chdir(c.Exec.Chdir); err != nil {
			return fmt.Errorf("changing directory to %s: %w", c.Exec.Chdir, err)
		}
	}
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	if err := c.writePidfile(pid); err != nil {
		return err
	}
	err := c.dropCreds()
	if err == nil {
		err = unix.Exec(c.Path, c.Args, c.Env)
		err = fmt.Errorf("executing %s: %w", c.Path, err)
	}
	c.removePidfile(pid)
	return err
}

// remountSys gives the thread's mount namespace a /sys that shows the
// network namespace's devices, as `ip netns exec` does: a read-only /sys
// that cannot be unmounted is shadowed read-only.
func remountSys(name string) error {
	var flags uintptr
	if err := unix.Unmount("/sys", unix.MNT_DETACH); err != nil {
		var st unix.Statfs_t
		if unix.Statfs("/sys", &st) == nil && st.Flags&unix.ST_RDONLY != 0 {
			flags = unix.MS_RDONLY
		}
	}
	if err := unix.Mount(name, "/sys", "sysfs", flags, ""); err != nil {
		return fmt.Errorf("mounting /sys for namespace %q: %w", name, err)
	}
	return nil
}

// bindEtc binds each file of src over the same name in etc, as
// `ip netns exec` does. A symlink in etc (a resolv.conf managed by
// resolvconf or systemd-resolved) is followed, so the bind covers the file
// every reader ends up at; a name with nothing to cover is skipped with a
// warning, as ip does.
func bindEtc(src, etc string, warn func(string)) {
	entries, err := os.ReadDir(src)
	if err != nil {
		return // no /etc/netns/NAME: nothing to bind
	}
	for _, e := range entries {
		from := filepath.Join(src, e.Name())
		to, err := filepath.EvalSymlinks(filepath.Join(etc, e.Name()))
		if err == nil {
			err = unix.Mount(from, to, "none", unix.MS_BIND, "")
		}
		if err != nil && warn != nil {
			warn(fmt.Sprintf("binding %s over %s: %v", from, filepath.Join(etc, e.Name()), err))
		}
	}
}

// dropCreds sets groups, gid and uid of this thread only: after execve it
// is the only thread, and the others stay root for a rollback.
func (c *Command) dropCreds() error {
	if c.uid < 0 && c.gid < 0 {
		return nil
	}
	gids := make([]uint32, len(c.groups))
	for i, g := range c.groups {
		gids[i] = uint32(g)
	}
	var p uintptr
	if len(gids) > 0 {
		p = uintptr(unsafe.Pointer(&gids[0]))
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(gids)), p, 0); e != 0 {
		return fmt.Errorf("setting supplementary groups %v: %w", c.groups, e)
	}
	runtime.KeepAlive(gids)
	if c.gid >= 0 {
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(c.gid), uintptr(c.gid), uintptr(c.gid)); e != 0 {
			return fmt.Errorf("setting group %d: %w", c.gid, e)
		}
	}
	if c.uid >= 0 {
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(c.uid), uintptr(c.uid), uintptr(c.uid)); e != 0 {
			return fmt.Errorf("setting user %d: %w", c.uid, e)
		}
	}
	return nil
}
