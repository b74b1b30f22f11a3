package proxy

import (
	"errors"
	"fmt"
	"net/netip"
)

// errLoop: the destination a PROXY header or a transparent listener gave
// is one of the proxy's own listening sockets. Connecting would accept
// the connection again, with the same destination, until every
// max_connections slot is taken.
var errLoop = errors.New("destination is one of our own listeners")

// ownListener is one listening socket of this proxy, where it is.
type ownListener struct {
	id   string         // namespace identity (nsTable.id)
	addr netip.AddrPort // normalised; [::] for a wildcard
}

// refuseLoop returns errLoop if dst, dialled in namespace ns, is one of our
// listening sockets: one in the same namespace with the same port and
// address, or a wildcard one there when dst is a local address of that
// namespace. Connecting to an unspecified address reaches the host itself,
// so it counts as local.
func (p *Proxy) refuseLoop(ns string, dst netip.AddrPort) error {
	id, ok := p.ids[ns]
	if !ok {
		return fmt.Errorf("checking %s for a loop: namespace %q not opened", dst, ns)
	}
	a := dst.Addr().Unmap()
	for _, l := range p.own {
		if l.id != id || l.addr.Port() != dst.Port() {
			continue
		}
		switch {
		case l.addr.Addr() == a, a.IsUnspecified():
			return fmt.Errorf("%s in namespace %q: %w", dst, ns, errLoop)
		case l.addr.Addr().IsUnspecified():
			local, err := p.ns.isLocal(ns, a)
			if err != nil {
				return fmt.Errorf("checking %s for a loop: %w", dst, err)
			}
			if local {
				return fmt.Errorf("%s in namespace %q (a local address, and we listen on [::]:%d there): %w", dst, ns, dst.Port(), errLoop)
			}
		}
	}
	return nil
}
