package provision

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// nextHopProblem says why ip cannot be a gateway or a route's via on ifc:
// it must be of the route's family, a unicast address that is not the
// namespace's own, and on-link: inside a subnet of ifc's addresses (not its
// network or broadcast address), or IPv6 link-local.
func (s *Spec) nextHopProblem(ifc *Iface, uses []addrUse, ip netip.Addr, v4 bool) string {
	switch {
	case ip.Is4() != v4:
		return fmt.Sprintf("want an IPv%s address, the route's family", map[bool]string{true: "4", false: "6"}[v4])
	case ip.IsUnspecified() || ip.IsMulticast() || ip.IsLoopback() || ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "want a unicast address of a neighbour"
	}
	for _, u := range uses {
		if u.inside && u.p.Addr() == ip {
			return fmt.Sprintf("is the namespace's own address (%s)", u.key)
		}
	}
	if ip.Is6() && ip.IsLinkLocalUnicast() || ifc.Kind == KindExisting {
		return "" // on-link on every link; or an adopted link's addresses are not all ours to know
	}
	r := s.role(ifc)
	for _, u := range uses {
		if !u.inside || u.role != r || !u.p.Contains(ip) {
			continue
		}
		if isNetworkOrBroadcast(u.p, ip) {
			return fmt.Sprintf("the network or broadcast address of %s (%s)", u.p.Masked(), u.key)
		}
		return ""
	}
	return fmt.Sprintf("not inside any %s address's subnet", r)
}

// checkGateways: only [outbound] carries a default route, its gateway on
// link and of the key's family.
func (s *Spec) checkGateways(p *problems) {
	uses := s.addrUses(nil)
	for _, ifc := range s.Ifaces() {
		s.checkNextHops(p, ifc, uses, roleOutbound, "only [outbound] may carry a default route",
			nextHop{"gateway", ifc.Gateway, true}, nextHop{"gateway6", ifc.Gateway6, false})
	}
}

// nextHop is a key of an interface that names a router on it.
type nextHop struct {
	key, val string
	v4       bool
}

// checkNextHops: each set key is allowed only on role (else wrongRole)
// and is a literal of its family on link of ifc.
func (s *Spec) checkNextHops(p *problems, ifc *Iface, uses []addrUse, role, wrongRole string, hops ...nextHop) {
	r := s.role(ifc)
	for _, g := range hops {
		if g.val == "" {
			continue
		}
		key := r + "." + g.key
		if r != role {
			p.add(key, g.val, "%s", wrongRole)
			continue
		}
		ip, why := parseIP(g.val)
		if why == "" {
			why = s.nextHopProblem(ifc, uses, ip, g.v4)
		}
		if why != "" {
			p.add(key, g.val, "%s", why)
		}
	}
}

// checkRoutes checks each route's destination and via, that no
// destination is routed twice (the kernel refuses the second), that no
// IPv4 route repeats a connected subnet, and that inbound has no default
// route in any form.
func (s *Spec) checkRoutes(p *problems) {
	uses := s.addrUses(nil)
	routed := map[netip.Prefix]string{}
	for _, u := range uses {
		if u.inside && u.p.Addr().Is4() && u.p.Bits() < 32 {
			routed[u.p.Masked()] = "the subnet of " + u.key
		}
	}
	if s.Outbound != nil && s.Outbound.Gateway != "" {
		routed[netip.MustParsePrefix("0.0.0.0/0")] = "outbound.gateway"
	}
	if s.Outbound != nil && s.Outbound.Gateway6 != "" {
		routed[netip.MustParsePrefix("::/0")] = "outbound.gateway6"
	}
	for _, ifc := range s.Ifaces() {
		var dsts []netip.Prefix
		for i, rt := range ifc.Routes {
			if dst, ok := s.checkRoute(p, ifc, i, rt, uses, routed); ok {
				dsts = append(dsts, dst)
			}
		}
		if s.role(ifc) == roleInbound {
			checkNoDefault(p, dsts)
		}
	}
}

func (s *Spec) checkRoute(p *problems, ifc *Iface, i int, rt Route, uses []addrUse, routed map[netip.Prefix]string) (netip.Prefix, bool) {
	key := fmt.Sprintf("%s.routes[%d]", s.role(ifc), i)
	dst, why := parseCIDR(rt.To)
	if why != "" {
		p.add(key+".to", rt.To, "%s", why)
		return dst, false
	}
	dst = dst.Masked()
	if prev, ok := routed[dst]; ok {
		p.add(key+".to", rt.To, "%s is already routed by %s", dst, prev)
	} else {
		routed[dst] = key
	}
	if rt.Via != "" {
		ip, why := parseIP(rt.Via)
		if why == "" {
			why = s.nextHopProblem(ifc, uses, ip, dst.Addr().Is4())
		}
		if why != "" {
			p.add(key+".via", rt.Via, "%s", why)
		}
	}
	return dst, true
}

// checkNoDefault refuses inbound routes that together cover a whole
// family: 0.0.0.0/0, ::/0, or halves such as 0.0.0.0/1 + 128.0.0.0/1 are
// all a default route, which belongs on outbound only.
func checkNoDefault(p *problems, dsts []netip.Prefix) {
	for _, v4 := range []bool{true, false} {
		var fam []netip.Prefix
		for _, d := range dsts {
			if d.Addr().Is4() == v4 {
				fam = append(fam, d)
			}
		}
		if !coversAll(fam) {
			continue
		}
		parts := make([]string, len(fam))
		for i, d := range fam {
			parts[i] = d.String()
		}
		p.add("inbound.routes", strings.Join(parts, ", "), "together a default route (they cover every IPv%s address); only [outbound] may carry one",
			map[bool]string{true: "4", false: "6"}[v4])
	}
}

// coversAll reports whether masked prefixes of one family cover all of it.
func coversAll(ps []netip.Prefix) bool {
	if len(ps) == 0 {
		return false
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Addr().Less(ps[j].Addr()) })
	next := netip.IPv4Unspecified()
	if ps[0].Addr().Is6() {
		next = netip.IPv6Unspecified()
	}
	for _, pfx := range ps {
		if next.Less(pfx.Addr()) {
			return false // a gap before pfx
		}
		last := lastAddr(pfx)
		if !last.Next().IsValid() {
			return true // reached the family's last address
		}
		if next.Less(last.Next()) {
			next = last.Next()
		}
	}
	return false
}
