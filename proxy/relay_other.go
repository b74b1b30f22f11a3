//go:build !linux

package proxy

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// mover without splice or parking: a goroutine per direction blocks in
// ReadFrom until EOF. Idle timeouts need Linux (TCP_INFO); here a
// direction silent for its whole timeout ends.
type mover struct{}

func (m *mover) init(*half) {}

func (h *half) wakeClosed() {}

func initRelay() error { return nil }

func copyHalf(h *half) (string, bool) {
	for {
		h.src.SetReadDeadline(time.Now().Add(h.idle))
		n, err := h.dst.ReadFrom(h.src)
		h.n += n
		switch {
		case err == nil:
			if err := h.halfClose(); err != nil {
				return fmt.Sprintf("%s: half-closing: %v", h.name, err), false
			}
			return "", false
		case n > 0 && isTimeout(err):
			continue
		case isTimeout(err):
			return h.timeout, false
		default:
			return fmt.Sprintf("%s: %v", h.name, err), false
		}
	}
}

func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }
