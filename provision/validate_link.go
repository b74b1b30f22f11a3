package provision

import (
	"net"
	"net/netip"
)

// MTU limits: IPv4's minimum, an Ethernet-type link's maximum (veth and
// macvlan), and IPv6's minimum, below which the kernel turns IPv6 off on
// the link and drops its addresses.
const (
	minMTU     = 68
	maxMTU     = 65535
	minMTUIPv6 = 1280
)

var macvlanModes = map[string]int{"bridge": 0, "private": 0, "vepa": 0, "passthru": 0}

// rpFilterValues are the kernel's values; the effective one is the max of
// conf.all and conf.IFACE.
var rpFilterValues = map[string]int{"off": 0, "strict": 1, "loose": 2}

// checkLink checks kind, the kind's own keys, MTU, MAC and rp_filter.
func (s *Spec) checkLink(p *problems, ifc *Iface) {
	r := s.role(ifc)
	switch ifc.Kind {
	case KindVeth:
		if ifc.Parent != "" {
			p.addKey(r+".parent", "only for kind macvlan or device")
		}
	case KindMacvlan, KindDevice:
		if ifc.Parent == "" {
			p.addKey(r+".parent", "required for kind %s", ifc.Kind)
		}
		if ifc.Peer != "" || len(ifc.PeerAddresses) > 0 || ifc.Bridge != "" {
			p.addKey(r, "peer, peer_addresses and bridge are only for kind veth")
		}
	case KindExisting: // the CNI plugin's chained mode
		if s.NetnsFile == "" {
			p.add(r+".kind", ifc.Kind, "only for a namespace that exists (the CNI plugin's chained mode)")
		}
	default:
		p.add(r+".kind", ifc.Kind, "want veth, macvlan or device")
	}
	s.checkMacvlan(p, ifc)
	if _, ok := rpFilterValues[ifc.RPFilter]; !ok {
		p.add(r+".rp_filter", ifc.RPFilter, "want loose, off or strict")
	}
	checkMTU(p, r, ifc)
	if ifc.MAC != "" {
		if why := macProblem(ifc.MAC); why != "" {
			p.add(r+".mac", ifc.MAC, "%s", why)
		}
	}
}

func (s *Spec) checkMacvlan(p *problems, ifc *Iface) {
	r := s.role(ifc)
	if ifc.Kind != KindMacvlan {
		if ifc.Mode != "" {
			p.addKey(r+".mode", "only for kind macvlan")
		}
		if ifc.Hairpin {
			p.addKey(r+".hairpin", "only for kind macvlan")
		}
		return
	}
	if _, ok := macvlanModes[ifc.Mode]; !ok {
		p.add(r+".mode", ifc.Mode, "want bridge, private, vepa or passthru")
	}
	if ifc.Hairpin && len(ifc.Addresses) == 0 {
		p.addKey(r+".hairpin", "needs addresses to route to")
	}
}

func checkMTU(p *problems, r string, ifc *Iface) {
	switch {
	case ifc.MTU == 0:
	case ifc.MTU < minMTU || ifc.MTU > maxMTU:
		p.add(r+".mtu", ifc.MTU, "want 0 (unchanged) or %d-%d", minMTU, maxMTU)
	case ifc.MTU < minMTUIPv6 && usesIPv6(ifc):
		p.add(r+".mtu", ifc.MTU, "IPv6 needs at least %d (the kernel turns IPv6 off below it)", minMTUIPv6)
	}
}

// usesIPv6 reports IPv6 on the link or, for a veth, on its peer (which
// gets the same MTU).
func usesIPv6(ifc *Iface) bool {
	addrs := ifc.Addresses
	if ifc.Kind == KindVeth {
		addrs = append(addrs[:len(addrs):len(addrs)], ifc.PeerAddresses...)
	}
	for _, a := range addrs {
		if pfx, err := netip.ParsePrefix(a); err == nil && pfx.Addr().Is6() {
			return true
		}
	}
	for _, rt := range ifc.Routes {
		if pfx, err := netip.ParsePrefix(rt.To); err == nil && pfx.Addr().Is6() {
			return true
		}
	}
	return ifc.Gateway6 != ""
}

// macProblem wants a 6-byte unicast address that is not all zeros: the
// kernel refuses the others for an Ethernet-type link.
func macProblem(s string) string {
	hw, err := net.ParseMAC(s)
	switch {
	case err != nil || len(hw) != 6:
		return "want a 6-byte MAC address like 02:00:00:00:00:01"
	case hw[0]&1 != 0:
		return "a multicast (or broadcast) MAC address; want a unicast one"
	case string(hw) == "\x00\x00\x00\x00\x00\x00":
		return "the all-zero MAC address; want a unicast one"
	}
	return ""
}
