package main

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/netns-daemon/netns-daemon/proxy"
)

// A worker is exec'd as /proc/self/exe, so the kernel names it "exe":
// systemd logged "Killing process 2125 (exe)" and pgrep missed it. Name it
// as the master is named (its argv[0], "netns-proxy: worker", shows the
// role). init runs on the main thread, whose name is the process's
// (/proc/PID/comm); threads started later inherit it.
func init() {
	if !proxy.IsWorker() {
		return
	}
	if name, err := unix.BytePtrFromString("netns-proxy"); err == nil {
		_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(name)), 0, 0, 0)
	}
}
