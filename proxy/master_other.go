//go:build !linux

package proxy

import (
	"syscall"
	"time"
)

var started = time.Now()

func workerAttr() *syscall.SysProcAttr { return nil }

func monotonicUsec() int64 { return time.Since(started).Microseconds() }
