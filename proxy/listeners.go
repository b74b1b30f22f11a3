package proxy

import (
	"fmt"
	"net"
	"os"
	"strings"
)

// listenSpec is one socket a config listens on. Its key (namespace,
// address, options) is what a reload matches: a listener whose key is in
// both the old and the new config is handed over, never closed.
type listenSpec struct {
	key, ns, addr string
	transparent   bool
	owner         string // for errors: `frontend "in"` or "metrics"
}

func listenKey(kind, ns, addr string, transparent bool) string {
	k := kind + "|" + ns + "|" + addr
	if transparent {
		k += "|transparent"
	}
	return k
}

// listenSpecs lists the sockets of a valid config, frontends first.
func (c *Config) listenSpecs() []listenSpec {
	var out []listenSpec
	for _, f := range c.Frontends {
		for _, a := range f.Bind {
			out = append(out, listenSpec{key: listenKey("tcp", f.Namespace, a, f.Transparent),
				ns: f.Namespace, addr: a, transparent: f.Transparent, owner: fmt.Sprintf("frontend %q", f.Name)})
		}
	}
	if m := c.Metrics; m.Listen != "" {
		out = append(out, listenSpec{key: listenKey("metrics", m.Namespace, m.Listen, false),
			ns: m.Namespace, addr: m.Listen, owner: "metrics"})
	}
	return out
}

func (sp listenSpec) listen(ns *nsTable) (*net.TCPListener, error) {
	ln, err := ns.listenIn(sp.ns, sp.addr, sp.transparent)
	if err != nil {
		return nil, fmt.Errorf("%s: binding %s in namespace %q: %w", sp.owner, sp.addr, sp.ns, err)
	}
	return ln, nil
}

// bindFiles binds every socket of cfg whose key is not in have, and
// returns them as files to pass to a worker. On error it closes what it
// bound.
func bindFiles(cfg *Config, have map[string]*os.File) (map[string]*os.File, error) {
	ns, err := openNamespaces(cfg.AllowedNamespaces())
	if err != nil {
		return nil, err
	}
	defer ns.close()
	out := map[string]*os.File{}
	for _, sp := range cfg.listenSpecs() {
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
			return nil, err
		}
		out[sp.key] = f
	}
	return out, nil
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
