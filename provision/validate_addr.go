package provision

import (
	"fmt"
	"net/netip"
	"strings"
)

// parseIP takes a literal IP address only: no IPv6 zone (netip accepts any
// text after '%', newlines included, which would then be written into
// resolv.conf) and no IPv4-mapped IPv6 address (the kernel takes it for
// neither family). It returns why not, or "".
func parseIP(s string) (netip.Addr, string) {
	if why := literalProblem(s); why != "" {
		return netip.Addr{}, why
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return ip, "want a literal IP address"
	}
	if ip.Is4In6() {
		return ip, fmt.Sprintf("an IPv4-mapped IPv6 address; write %s", ip.Unmap())
	}
	return ip, ""
}

func literalProblem(s string) string {
	switch {
	case hasControl(s):
		return "has a control character"
	case strings.Contains(s, "%"):
		return "want a literal address, without a zone"
	}
	return ""
}

// parseCIDR takes ADDRESS/BITS with a literal address (see parseIP).
func parseCIDR(s string) (netip.Prefix, string) {
	if why := literalProblem(s); why != "" {
		return netip.Prefix{}, why
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, "want an address/prefix (like 10.1.0.5/24)"
	}
	if p.Addr().Is4In6() {
		return p, "an IPv4-mapped IPv6 prefix; write it as IPv4"
	}
	return p, ""
}

// hostAddrProblem says why p cannot be an interface's address: it must be
// a host address usable on a link, with a prefix that is not /0.
func hostAddrProblem(p netip.Prefix) string {
	ip := p.Addr()
	switch {
	case ip.IsUnspecified():
		return "the unspecified address is not a host address"
	case ip.IsLoopback():
		return "a loopback address belongs on lo"
	case ip.IsMulticast():
		return "a multicast address is not a host address"
	case ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "the broadcast address is not a host address"
	case p.Bits() == 0:
		return "a /0 prefix would claim every address as on-link"
	case isNetworkOrBroadcast(p, ip):
		return fmt.Sprintf("the network or broadcast address of %s is not a host address", p.Masked())
	}
	return ""
}

// isNetworkOrBroadcast reports whether ip is the first or last address of
// the IPv4 prefix p, where p is shorter than /31 (RFC 3021: /31 and /32
// have no such addresses).
func isNetworkOrBroadcast(p netip.Prefix, ip netip.Addr) bool {
	if !ip.Is4() || p.Bits() >= 31 || !p.Masked().Contains(ip) {
		return false
	}
	return ip == p.Masked().Addr() || ip == lastAddr(p)
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// addrUse is one configured address and its key, for messages.
type addrUse struct {
	key    string
	p      netip.Prefix
	inside bool // in the namespace, not on a veth's host side
	role   string
}

// addrUses parses every interface address of the spec, reporting the
// unusable ones, and returns the usable ones.
func (s *Spec) addrUses(p *problems) []addrUse {
	var out []addrUse
	for _, ifc := range s.Ifaces() {
		r := s.role(ifc)
		for _, list := range []struct {
			key    string
			addrs  []string
			inside bool
		}{{r + ".addresses", ifc.Addresses, true}, {r + ".peer_addresses", ifc.PeerAddresses, false}} {
			for i, a := range list.addrs {
				key := fmt.Sprintf("%s[%d]", list.key, i)
				pfx, why := parseCIDR(a)
				if why == "" {
					why = hostAddrProblem(pfx)
				}
				if why != "" {
					if p != nil {
						p.add(key, a, "%s", why)
					}
					continue
				}
				out = append(out, addrUse{key, pfx, list.inside, r})
			}
		}
	}
	return out
}

// checkAddresses checks each address, that no address is used twice (the
// host side included) and that inbound and outbound are on subnets that do
// not overlap, or the kernel could not tell which way a packet goes.
func (s *Spec) checkAddresses(p *problems) {
	uses := s.addrUses(p)
	seen := map[netip.Addr]string{}
	for _, u := range uses {
		if prev, ok := seen[u.p.Addr()]; ok {
			p.add(u.key, u.p.String(), "address %s already used by %s", u.p.Addr(), prev)
			continue
		}
		seen[u.p.Addr()] = u.key
	}
	for i, a := range uses {
		for _, b := range uses[i+1:] {
			if a.inside && b.inside && a.role != b.role && a.p.Overlaps(b.p) &&
				(!a.p.Addr().IsLinkLocalUnicast() || !b.p.Addr().IsLinkLocalUnicast()) {
				p.add(b.key, b.p.String(), "subnet overlaps %s (%s): inbound and outbound must be on different subnets", a.key, a.p)
			}
		}
	}
}
