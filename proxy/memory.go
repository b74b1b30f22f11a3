package proxy

import (
	"context"
	"runtime"
	"runtime/debug"
	"time"
)

// giveBackMemory returns memory to the kernel after a wave of connections
// went idle (their directions park) or closed. The exited goroutines'
// stacks stay cached on the runtime's free list until a GC, and a proxy
// holding idle connections allocates too little to ever start one: without
// this, thousands of idle connections keep the RSS of the busy second
// before (measured: 9.3 -> 5.3 KiB per idle connection).
func giveBackMemory(ctx context.Context) {
	const wave = 512 // goroutines gone since the last look
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	last := runtime.NumGoroutine()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n := runtime.NumGoroutine()
		if last-n >= wave {
			debug.FreeOSMemory()
		}
		last = n
	}
}
