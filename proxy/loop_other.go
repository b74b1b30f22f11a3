//go:build !linux

package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// isLocal reports whether a is an address of namespace ns, as bind(2)
// decides it: a probe socket bound to a, port 0, never used.
func (t *nsTable) isLocal(ns string, a netip.Addr) (bool, error) {
	var bindErr error
	err := t.socketIn(ns, func(back controlFunc) error {
		lc := net.ListenConfig{Control: back}
		c, err := lc.ListenPacket(context.Background(), "udp", netip.AddrPortFrom(a, 0).String())
		if err != nil {
			bindErr = err
			return nil
		}
		return c.Close()
	})
	if err != nil {
		return false, err
	}
	if errors.Is(bindErr, syscall.EADDRNOTAVAIL) {
		return false, nil
	}
	if bindErr != nil {
		return false, fmt.Errorf("probing whether %s is local in namespace %q: %w", a, ns, bindErr)
	}
	return true, nil
}
