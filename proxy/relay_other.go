//go:build !linux

package proxy

import (
	"syscall"
	"time"
)

// mover without splice: one ReadFrom until EOF, then report EOF.
type mover struct{ done bool }

func (m *mover) init() {}

func (h *half) move() (int64, error) {
	if h.done {
		return 0, nil
	}
	h.done = true
	return h.dst.ReadFrom(h.src)
}

func quietFor(raw syscall.RawConn) time.Duration { return 1<<63 - 1 }
