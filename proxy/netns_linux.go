package proxy

import (
	"fmt"

	xnetns "github.com/netns-daemon/netns-daemon/internal/netns"
)

// NetnsDir is where named namespaces live, as ip-netns(8) makes them.
const NetnsDir = "/run/netns"

// errThreadStuck means a thread could not return to the proxy's namespace:
// it stays locked to its goroutine, which must end so the runtime discards
// the thread. Callers stop retrying on it.
var errThreadStuck = xnetns.ErrThreadStuck

// nsTable holds one handle per namespace, opened once at start, so a name
// from the wire is only ever a map key, never a path. It is read-only
// after openNamespaces and safe for concurrent use.
type nsTable struct {
	self xnetns.Handle // the proxy's own namespace, to come back to
	hs   map[string]xnetns.Handle
}

// openNamespaces opens /run/netns/NAME for every name (never through a
// symlink), and the namespace of the calling thread as the way back.
func openNamespaces(names []string) (*nsTable, error) {
	t := &nsTable{hs: make(map[string]xnetns.Handle, len(names))}
	self, err := xnetns.Current()
	if err != nil {
		return nil, fmt.Errorf("opening own namespace: %w", err)
	}
	t.self = self
	for _, n := range names {
		if !ValidNamespaceName(n) {
			t.close()
			return nil, fmt.Errorf("opening namespace %q: invalid name", n)
		}
		h, err := xnetns.Open(NetnsDir + "/" + n)
		if err != nil {
			t.close()
			return nil, fmt.Errorf("opening namespace %q: %w", n, err)
		}
		t.hs[n] = h
	}
	return t, nil
}

func (t *nsTable) close() {
	for _, h := range t.hs {
		h.Close()
	}
	t.self.Close()
}

// socketIn calls open, which must create one socket through a Dialer or
// ListenConfig whose Control is the hook it is given: the socket is born
// in namespace ns and the thread goes back in that hook (internal/netns
// SocketIn). If going back fails the error wraps errThreadStuck: the
// caller's goroutine must end. ns "" does no switching.
func (t *nsTable) socketIn(ns string, open func(controlFunc) error) error {
	if ns == "" {
		return open(nil)
	}
	h, ok := t.hs[ns]
	if !ok {
		return fmt.Errorf("entering namespace %q: not opened at start", ns)
	}
	return xnetns.SocketIn(h, t.self, open)
}

// id is the identity of namespace ns ("" = the proxy's own) as opened:
// the device and inode of its nsfs file, which a namespace made again
// under the same name does not share.
func (t *nsTable) id(ns string) (string, error) {
	h, ok := t.hs[ns]
	if ns == "" {
		h, ok = t.self, true
	}
	if !ok {
		return "", fmt.Errorf("identifying namespace %q: not opened at start", ns)
	}
	return h.ID().String(), nil
}
