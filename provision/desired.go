package provision

import (
	"net/netip"
	"strconv"
	"strings"
)

// desired lists the objects a valid, normalized spec asks for, in the
// order they are made: the namespace, each interface with its addresses
// and routes, the hairpin shims, sysctls, then files. Stop and rollback go
// in reverse.
func desired(s *Spec) []object {
	objs := []object{nsObj{Path: s.NetnsFile}}
	objs = append(objs, egressEarly(s)...)
	for _, ifc := range s.Ifaces() {
		objs = append(objs, ifaceObjects(s, ifc)...)
	}
	objs = append(objs, sysctlObjects(s)...)
	objs = append(objs, egressObjects(s)...)
	if files := dnsFiles(s); len(files) > 0 {
		objs = append(objs, dirObj{})
		for _, n := range []string{"resolv.conf", "hosts"} {
			if body, ok := files[n]; ok {
				objs = append(objs, fileObj{Name: n, Body: body})
			}
		}
	}
	return objs
}

func ifaceObjects(s *Spec, ifc *Iface) []object {
	l := linkObj{Kind: ifc.Kind, Name: ifc.Name, MTU: ifc.MTU, MAC: strings.ToLower(ifc.MAC)}
	switch ifc.Kind {
	case KindVeth:
		l.Peer, l.Bridge = ifc.Peer, ifc.Bridge
	case KindMacvlan:
		l.Parent, l.Mode = ifc.Parent, ifc.Mode
	case KindDevice:
		l.Parent = ifc.Parent
	}
	objs := []object{l}
	of := l.key()
	for _, a := range ifc.PeerAddresses {
		objs = append(objs, addrObj{Side: sideHost, Dev: ifc.Peer, CIDR: a, Of: of})
	}
	for _, a := range ifc.Addresses {
		objs = append(objs, addrObj{Side: sideNS, Dev: ifc.Name, CIDR: a, Of: of})
	}
	for _, rt := range ifc.Routes {
		p, _ := netip.ParsePrefix(rt.To)
		objs = append(objs, routeObj{Side: sideNS, Dev: ifc.Name, To: p.Masked().String(), Via: rt.Via, Of: of})
	}
	if ifc.Gateway != "" {
		objs = append(objs, routeObj{Side: sideNS, Dev: ifc.Name, To: "0.0.0.0/0", Via: ifc.Gateway, Of: of})
	}
	if ifc.Gateway6 != "" {
		objs = append(objs, routeObj{Side: sideNS, Dev: ifc.Name, To: "::/0", Via: ifc.Gateway6, Of: of})
	}
	if ifc.Hairpin {
		shim := shimObj{Name: hairpinName(s, ifc), Parent: ifc.Parent}
		objs = append(objs, shim)
		for _, a := range ifc.Addresses {
			p, _ := netip.ParsePrefix(a)
			host := netip.PrefixFrom(p.Addr(), p.Addr().BitLen())
			objs = append(objs, routeObj{Side: sideHost, Dev: shim.Name, To: host.String(), Of: shim.key()})
		}
	}
	return append(objs, adoptedObjects(s, ifc)...)
}

// sysctlObjects lists what to write inside the namespace: rp_filter first,
// then the spec's own (which may override it).
//
// The kernel's effective rp_filter on an interface is max(conf.all,
// conf.IFACE), and a new namespace may inherit conf.all from the host. So
// conf.all is set to the lowest value any interface asks for, and each
// interface to its own: every effective value is then what was asked.
func sysctlObjects(s *Spec) []object {
	var out []object
	ifaces := s.Ifaces()
	links := map[string]string{} // sysctl name part -> owning link key
	if len(ifaces) > 0 {
		low := 2
		for _, ifc := range ifaces {
			low = min(low, rpFilterValues[ifc.RPFilter])
			links[sysctlIfName(ifc.Name)] = linkObj{Name: ifc.Name}.key()
		}
		if s.NetnsFile != "" {
			// a container's namespace: other attachments (each a spec of
			// its own) share conf.all, so it must not raise theirs
			low = 0
		}
		out = append(out, sysctlObj{Key: "net.ipv4.conf.all.rp_filter", Value: strconv.Itoa(low), Of: keyNetns})
		for _, ifc := range ifaces {
			out = append(out, sysctlObj{Key: "net.ipv4.conf." + sysctlIfName(ifc.Name) + ".rp_filter",
				Value: strconv.Itoa(rpFilterValues[ifc.RPFilter]), Of: links[sysctlIfName(ifc.Name)]})
		}
	}
	for _, k := range sortedKeys(s.Sysctl) {
		of := keyNetns
		// net.ipv4.conf.IFACE.x and the like go with their interface.
		if parts := strings.Split(k, "."); len(parts) >= 4 {
			if l, ok := links[parts[3]]; ok {
				of = l
			}
		}
		out = append(out, sysctlObj{Key: k, Value: s.Sysctl[k], Of: of})
	}
	return out
}

// sysctlIfName writes an interface name as a sysctl key component: dots
// become slashes, as sysctl(8) spells them.
func sysctlIfName(name string) string { return strings.ReplaceAll(name, ".", "/") }

// sysctlPath maps a key in sysctl(8) notation to its /proc/sys file.
func sysctlPath(key string) string { return "/proc/sys/" + strings.Join(sysctlComponents(key), "/") }
