package bintest

import "golang.org/x/sys/unix"

// Subreaper makes this process the reaper of the daemons its tests start
// (start-stop-daemon --background orphans them), so that Reap can collect
// them instead of leaving zombies to a PID 1 that may not reap.
func Subreaper() { _ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }

// Reap collects exited orphans. Call it when no exec.Cmd of the test is
// waiting, or it may take that command's status.
func Reap() {
	for range 1000 {
		pid, err := unix.Wait4(-1, nil, unix.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
