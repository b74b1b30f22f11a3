package provision

import (
	"fmt"
	"hash/fnv"
	"strings"
)

// ValidName reports whether name can be a namespace name: it becomes a
// path under /run/netns and /etc/netns, so no separators and no dots
// alone, and an argument of scripts, so no leading '-'.
func ValidName(name string) error {
	if len(name) < 1 || len(name) > 64 || name == "." || name == ".." || name[0] == '-' ||
		!allOf(name, func(c rune) bool { return alnum(c) || c == '.' || c == '_' || c == '-' }) {
		return fmt.Errorf("%w: namespace name %q: want 1-64 characters of [A-Za-z0-9._-], not . or .. and not starting with '-'", ErrInvalidSpec, name)
	}
	return nil
}

func (s *Spec) checkHostNetns(p *problems) {
	if s.HostNetns == "" {
		return
	}
	if ValidName(s.HostNetns) != nil {
		p.add("host_netns", s.HostNetns, "want 1-64 characters of [A-Za-z0-9._-], not starting with '-', not . or ..")
	}
	if s.HostNetns == s.Name {
		p.add("host_netns", s.HostNetns, "the namespace cannot be its own host")
	}
}

// ifNameProblem mirrors the kernel's dev_valid_name, for the names of
// devices that exist already (parents, bridges). It is stricter in one
// way: printable ASCII only, so a name shows as typed.
func ifNameProblem(name string) string {
	if name == "" || len(name) > 15 || name == "." || name == ".." ||
		!allOf(name, func(c rune) bool { return c > ' ' && c < 0x7f && c != '/' && c != ':' }) {
		return "interface names are 1-15 printable characters without '/', ':' or whitespace, not . or .."
	}
	return ""
}

// newIfNameProblem says why a link we create may not get name: also not a
// name the kernel keeps for itself (the conf/all and conf/default sysctl
// directories, loopback) and no '%', which the kernel would expand as a
// template (x%d becomes x0) so that the link could not be found again.
func newIfNameProblem(name string) string {
	if why := ifNameProblem(name); why != "" {
		return why
	}
	switch {
	case name == "all" || name == "default":
		return "reserved by the kernel (net.*.conf." + name + ")"
	case name == "lo":
		return "reserved for loopback"
	case strings.Contains(name, "%"):
		return "'%' is a kernel name template"
	}
	return ""
}

// checkIfaceNames checks every interface name and that no two links share
// one: inside the namespace, and on the host side (where a link we create
// must not have the name of a device the spec uses).
func (s *Spec) checkIfaceNames(p *problems) {
	inside := map[string]string{}
	created := map[string]string{}  // host side, made by us
	existing := map[string]string{} // host side, there already
	claim := func(m map[string]string, key, name string) {
		if prev, ok := m[name]; ok {
			p.add(key, name, "already used by %s", prev)
			return
		}
		m[name] = key
	}
	for _, ifc := range s.Ifaces() {
		r := s.role(ifc)
		s.checkName(p, r+".name", ifc.Name, newIfNameProblem)
		claim(inside, r+".name", ifc.Name)
		switch ifc.Kind {
		case KindVeth:
			s.checkName(p, r+".peer", ifc.Peer, newIfNameProblem)
			claim(created, r+".peer", ifc.Peer)
		case KindDevice:
			claim(existing, r+".parent", ifc.Parent) // moved away: one user only
		}
		if ifc.Kind == KindMacvlan && ifc.Hairpin {
			claim(created, r+".hairpin", hairpinName(s, ifc))
		}
	}
	for _, ifc := range s.Ifaces() {
		r := s.role(ifc)
		for _, e := range []struct{ key, name string }{{r + ".parent", ifc.Parent}, {r + ".bridge", ifc.Bridge}} {
			if e.name == "" {
				continue
			}
			s.checkName(p, e.key, e.name, ifNameProblem)
			if prev, ok := created[e.name]; ok {
				p.add(e.key, e.name, "is the name of a link this spec creates (%s)", prev)
			}
			if prev, ok := existing[e.name]; ok && prev != e.key {
				p.add(e.key, e.name, "is moved into the namespace by %s", prev)
			}
		}
	}
}

func (s *Spec) checkName(p *problems, key, name string, why func(string) string) {
	if w := why(name); w != "" {
		p.add(key, name, "%s", w)
	}
}

// derivedName makes a host-side name from the namespace name that fits in
// 15 characters; long names fall back to a stable hash.
func derivedName(ns, suffix string) string {
	if n := ns + suffix; len(n) <= 15 {
		return n
	}
	h := fnv.New32a()
	h.Write([]byte(ns))
	return fmt.Sprintf("nd%08x%s", h.Sum32(), suffix)
}

func hairpinName(s *Spec, ifc *Iface) string {
	return derivedName(s.Name, map[string]string{roleInbound: "-hpi", roleOutbound: "-hpo"}[s.role(ifc)])
}
