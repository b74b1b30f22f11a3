//go:build !linux

package proxy

import (
	"errors"
	"sync/atomic"
)

// The event loop needs epoll and splice: elsewhere every frontend takes
// the goroutine path.
type evGroup struct{ active atomic.Int64 }

func evOK(*frontend) bool { return false }

func (p *Proxy) newEvGroup([]*frontend) (*evGroup, error) {
	return nil, errors.New("event loop: not supported on this system")
}

func (g *evGroup) start()          {}
func (g *evGroup) stop()           {}
func (g *evGroup) stopAccepting()  {}
func (g *evGroup) closeConns() int { return 0 }
