package provision

import (
	"fmt"
	"net/netip"
	"strings"
)

// checkEgress: reply routing through a router on the inbound network, the
// host's NAT of a veth outbound, the leak guard's interfaces, and
// published ports.
func (s *Spec) checkEgress(p *problems) {
	uses := s.addrUses(nil)
	for _, ifc := range s.Ifaces() {
		r := s.role(ifc)
		s.checkNextHops(p, ifc, uses, roleInbound, "only [inbound] routes replies through a router of its own",
			nextHop{"reply_via", ifc.ReplyVia, true}, nextHop{"reply_via6", ifc.ReplyVia6, false})
		if ifc.Masquerade == "" {
			continue
		}
		key := r + ".masquerade"
		switch {
		case r != roleOutbound:
			p.add(key, ifc.Masquerade, "only [outbound] is NATed by the host")
		case ifc.Kind != KindVeth:
			p.add(key, ifc.Masquerade, "only a veth outbound is routed through the host (kind = %q)", ifc.Kind)
		case ifNameProblem(ifc.Masquerade) != "":
			p.add(key, ifc.Masquerade, "%s", ifNameProblem(ifc.Masquerade))
		case ifc.Masquerade == ifc.Peer:
			p.add(key, ifc.Masquerade, "is the outbound veth's own host side")
		case len(masqueradeSubnets(ifc)) == 0:
			p.add(key, ifc.Masquerade, "the outbound has no IPv4 address to NAT (IPv6 is not NATed)")
		}
	}
	s.checkGuard(p, uses)
	s.checkPublish(p, uses)
}

func (s *Spec) checkGuard(p *problems, uses []addrUse) {
	e := s.Egress
	if e.Only != nil && len(e.Only) == 0 {
		p.addKey("egress.only", "an empty list would let nothing out but lo: list the interfaces, or drop the key")
	}
	for i, n := range e.Only {
		if n == "lo" {
			continue
		}
		if !s.hasIface(n) {
			p.add(fmt.Sprintf("egress.only[%d]", i), n, "not an interface of this spec (%s)", strings.Join(s.ifaceNames(), ", "))
		}
	}
	if e.IPv6 != nil && !*e.IPv6 {
		for _, u := range uses {
			if u.inside && u.p.Addr().Is6() {
				p.add("egress.ipv6", false, "%s is an IPv6 address", u.key)
			}
		}
		for _, ifc := range s.Ifaces() {
			for k, v := range map[string]string{"gateway6": ifc.Gateway6, "reply_via6": ifc.ReplyVia6} {
				if v != "" {
					p.add("egress.ipv6", false, "%s.%s is set", s.role(ifc), k)
				}
			}
		}
	}
}

func (s *Spec) hasIface(name string) bool {
	for _, ifc := range s.Ifaces() {
		if ifc.Name == name {
			return true
		}
	}
	return false
}

func (s *Spec) ifaceNames() []string {
	var out []string
	for _, ifc := range s.Ifaces() {
		out = append(out, ifc.Name)
	}
	return append(out, "lo")
}

// checkPublish: IPv4 only (IPv6 would need the host's global forwarding),
// the target an address of this namespace, no two on one host port.
func (s *Spec) checkPublish(p *problems, uses []addrUse) {
	seen := map[string]int{}
	for i, pub := range s.Publish {
		key := fmt.Sprintf("publish[%d]", i)
		if pub.Proto != "tcp" && pub.Proto != "udp" {
			p.add(key+".proto", pub.Proto, "want tcp or udp")
		}
		host, why := parseAddrPort(pub.Host)
		if why == "" && !host.Addr().Is4() {
			why = "want an IPv4 address and port (0.0.0.0:PORT = any local address)"
		}
		if why != "" {
			p.add(key+".host", pub.Host, "%s", why)
		}
		to, twhy := parseAddrPort(pub.To)
		if twhy == "" && !to.Addr().Is4() {
			twhy = "want an IPv4 address of this namespace and a port"
		}
		if twhy == "" && !ownAddr(uses, to.Addr()) {
			twhy = "not an address of this namespace's interfaces"
		}
		if twhy != "" {
			p.add(key+".to", pub.To, "%s", twhy)
		}
		if why != "" {
			continue
		}
		for _, k := range []string{pub.Proto + " " + host.String(), pub.Proto + " any:" + fmt.Sprint(host.Port())} {
			if j, ok := seen[k]; ok {
				p.add(key+".host", pub.Host, "publish[%d] takes %s %s already", j, pub.Proto, s.Publish[j].Host)
				break
			}
		}
		seen[pub.Proto+" "+host.String()] = i
		if host.Addr().IsUnspecified() {
			seen[pub.Proto+" any:"+fmt.Sprint(host.Port())] = i
		}
	}
}

func ownAddr(uses []addrUse, ip netip.Addr) bool {
	for _, u := range uses {
		if u.inside && u.p.Addr() == ip {
			return true
		}
	}
	return false
}

// parseAddrPort reads ADDR:PORT with a port of 1-65535.
func parseAddrPort(s string) (netip.AddrPort, string) {
	if why := literalProblem(s); why != "" {
		return netip.AddrPort{}, why
	}
	ap, err := netip.ParseAddrPort(s)
	switch {
	case err != nil:
		return ap, "want ADDRESS:PORT (IPv6 as [ADDRESS]:PORT)"
	case ap.Addr().Zone() != "":
		return ap, "no zone"
	case ap.Port() == 0:
		return ap, "want a port of 1-65535"
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), ""
}

// masqueradeSubnets are the IPv4 subnets of the outbound's addresses.
func masqueradeSubnets(ifc *Iface) []string {
	var out []string
	for _, a := range ifc.Addresses {
		if p, err := netip.ParsePrefix(a); err == nil && p.Addr().Is4() {
			out = append(out, p.Masked().String())
		}
	}
	return out
}
