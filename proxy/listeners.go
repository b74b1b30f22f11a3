package proxy

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
)

// listenSpec is one socket a config listens on. Its key (namespace
// identity, address, options) is what a reload matches: a listener whose
// key is in both the old and the new config is handed over, never closed.
// The namespace is named by its identity, not only its name, so a
// namespace deleted and made again under the same name gets a new socket.
type listenSpec struct {
	key, ns     string
	addr        netip.AddrPort // normalised (normalBind)
	transparent bool
	owner       string // for errors: `frontend "in"` or "metrics"
	loose       string // the key without the identity: the same bind in any namespace of that name
}

func listenKey(kind, ns, id string, addr netip.AddrPort, transparent bool) (key, loose string) {
	opts := ""
	if transparent {
		opts = "|transparent"
	}
	return kind + "|" + ns + "@" + id + "|" + addr.String() + opts, kind + "|" + ns + "|" + addr.String() + opts
}

// listenSpecs lists the sockets of a valid config, frontends first, keyed
// by the identities of the namespaces in t.
func (c *Config) listenSpecs(t *nsTable) ([]listenSpec, error) {
	var out []listenSpec
	add := func(kind, ns, addr string, transparent bool, owner string) error {
		ap, _ := parseHostPort(addr) // validated
		ap = normalBind(ap)
		id, err := t.id(ns)
		if err != nil {
			return fmt.Errorf("%s: %w", owner, err)
		}
		sp := listenSpec{ns: ns, addr: ap, transparent: transparent, owner: owner}
		sp.key, sp.loose = listenKey(kind, ns, id, ap, transparent)
		out = append(out, sp)
		return nil
	}
	for _, f := range c.Frontends {
		for _, a := range f.Bind {
			if err := add("tcp", f.Namespace, a, f.Transparent, fmt.Sprintf("frontend %q", f.Name)); err != nil {
				return nil, err
			}
		}
	}
	if m := c.Metrics; m.Listen != "" {
		if err := add("metrics", m.Namespace, m.Listen, false, "metrics"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (sp listenSpec) listen(ns *nsTable) (*net.TCPListener, error) {
	addr := sp.addr.String()
	if sp.addr.Addr().IsUnspecified() {
		// Go listens on 0.0.0.0 with a dual-stack socket, and with an IPv4
		// one where the kernel has no IPv6 (where [::] would fail).
		addr = fmt.Sprintf("0.0.0.0:%d", sp.addr.Port())
	}
	ln, err := ns.listenIn(sp.ns, addr, sp.transparent)
	if err != nil {
		return nil, fmt.Errorf("%s: binding %s in namespace %q: %w", sp.owner, sp.addr, sp.ns, err)
	}
	return ln, nil
}

// bindFiles opens cfg's namespaces, binds every socket of cfg whose key is
// not in have, and returns them as files to pass to a worker, with every
// spec of cfg. On error it closes what it bound.
func bindFiles(cfg *Config, have map[string]*os.File) (map[string]*os.File, []listenSpec, error) {
	ns, err := openNamespaces(cfg.AllowedNamespaces())
	if err != nil {
		return nil, nil, err
	}
	defer ns.close()
	specs, err := cfg.listenSpecs(ns)
	if err != nil {
		return nil, nil, err
	}
	out := map[string]*os.File{}
	for _, sp := range specs {
		if have[sp.key] != nil || out[sp.key] != nil {
			continue
		}
		ln, err := sp.listen(ns)
		var f *os.File
		if err == nil {
			f, err = ln.File() // a dup: the socket lives on in f
			ln.Close()
		}
		if err != nil {
			closeFiles(out)
			return nil, nil, err
		}
		out[sp.key] = f
	}
	return out, specs, nil
}

func closeFiles(m map[string]*os.File) {
	for k, f := range m {
		f.Close()
		delete(m, k)
	}
}

// keysOf is the NETNS_PROXY_FDNAMES value: keys never hold a comma (names
// and addresses cannot).
func keysOf(keys []string) string { return strings.Join(keys, ",") }
