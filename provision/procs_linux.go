package provision

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	xnetns "github.com/netns-daemon/netns-daemon/internal/netns"
)

// PIDsInside lists the processes in name's namespace (as /run/netns/NAME
// is now), compared by device and inode.
func PIDsInside(name string) ([]int, error) {
	id, err := xnetns.StatPath(NetnsPath(name))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading namespace %q: %w", name, err)
	}
	return pidsIn(id)
}

// pidsIn lists the processes whose network namespace is id. The link
// text ("net:[INODE]") is read first: readlink is about half the cost of a
// stat through the magic link, and only the few that match are stat'ed for
// device and inode.
func pidsIn(id xnetns.ID) ([]int, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("listing /proc: %w", err)
	}
	self := os.Getpid()
	want := "net:[" + strconv.FormatUint(id.Ino, 10) + "]"
	buf := make([]byte, 64)
	var pids []int
	var st syscall.Stat_t
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil || pid == self {
			continue
		}
		link := "/proc/" + n + "/ns/net"
		if k, err := syscall.Readlink(link, buf); err != nil || string(buf[:k]) != want {
			continue
		}
		if syscall.Stat(link, &st) == nil && st.Dev == id.Dev && st.Ino == id.Ino {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// killInside ends the processes in namespace id: SIGTERM, then SIGKILL for
// those still there after opt.Timeout.
func killInside(ctx context.Context, name string, id xnetns.ID, opt Options) error {
	if id.IsZero() {
		return nil
	}
	pids, err := pidsIn(id)
	if err != nil || len(pids) == 0 {
		return err
	}
	timeout := opt.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	opt.log("%s: sending SIGTERM to %d process(es) in the namespace: %v", name, len(pids), pids)
	signal(pids, syscall.SIGTERM)
	if waitGone(ctx, id, timeout) {
		return nil
	}
	pids, _ = pidsIn(id)
	opt.log("%s: sending SIGKILL to %v", name, pids)
	signal(pids, syscall.SIGKILL)
	if !waitGone(ctx, id, 5*time.Second) {
		pids, _ = pidsIn(id)
		return fmt.Errorf("stopping processes in namespace %q: still running after SIGKILL: %v", name, pids)
	}
	return nil
}

func signal(pids []int, sig syscall.Signal) {
	for _, p := range pids {
		_ = syscall.Kill(p, sig)
	}
}

// waitGone polls until no process is left in id, for at most d.
func waitGone(ctx context.Context, id xnetns.ID, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for wait := time.Millisecond; ; wait = min(wait*2, 100*time.Millisecond) {
		if pids, _ := pidsIn(id); len(pids) == 0 {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(wait)
	}
}
