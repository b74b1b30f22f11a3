package proxy

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// workerAttr: a worker gets SIGTERM (and drains) if the master dies.
func workerAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}

func monotonicUsec() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano() / 1000
}
