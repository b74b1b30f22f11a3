package cni

import (
	"net"
	"net/netip"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netns-daemon/netns-daemon/provision"
)

// chainedIface returns the index in prev of the sandbox interface named
// ifname that an earlier plugin in the list made, or -1.
func chainedIface(prev *current.Result, ifname string) int {
	if prev == nil {
		return -1
	}
	for i, ifc := range prev.Interfaces {
		if ifc.Name == ifname && ifc.Sandbox != "" {
			return i
		}
	}
	return -1
}

// prevResult is the earlier plugins' result as types/100, or nil.
func (c *NetConf) prevResult() (*current.Result, error) {
	if c.PrevResult == nil {
		return nil, nil
	}
	return current.NewResultFromResult(c.PrevResult)
}

// buildSpec turns the config, the IPAM result (or nil) and the chain into
// the engine's spec: one interface, in the container's namespace, with the
// plugin's own namespace as the host.
func (c *NetConf) buildSpec(a attachment, netnsFile string, ipam, prev *current.Result, chained bool) (*provision.Spec, error) {
	ifc := &provision.Iface{
		Kind: c.Kind, Name: a.IfName, Peer: c.Peer, PeerAddresses: c.PeerAddresses,
		Parent: c.Parent, Mode: c.Mode, MTU: c.MTU, MAC: c.MAC, RPFilter: c.RPFilter,
		Gateway: c.Gateway, Gateway6: c.Gateway6, ReplyVia: c.ReplyVia, ReplyVia6: c.ReplyVia6,
		Addresses: append([]string(nil), c.Addresses...),
	}
	for _, r := range c.Routes {
		ifc.Routes = append(ifc.Routes, provision.Route{To: r.To, Via: r.Via})
	}
	if chained {
		for _, k := range []struct {
			key string
			set bool
		}{{"kind", c.Kind != ""}, {"parent", c.Parent != ""}, {"mode", c.Mode != ""}, {"peer", c.Peer != ""},
			{"peer_addresses", len(c.PeerAddresses) > 0}, {"mtu", c.MTU != 0}, {"mac", c.MAC != ""}} {
			if k.set {
				return nil, errConfig("%s: only when this plugin makes the interface; %q was made by an earlier plugin in the list (chained mode)", k.key, a.IfName)
			}
		}
		ifc.Kind = provision.KindExisting
	}
	if ipam != nil {
		c.applyIPAM(ifc, ipam)
	}
	if chained && c.Role == RoleOutbound {
		// keep the earlier plugin's default route: adding another
		// would clash with it
		for _, r := range prev.Routes {
			if ones, _ := r.Dst.Mask.Size(); ones == 0 && r.Dst.IP.To4() != nil {
				ifc.Gateway = ""
			} else if ones == 0 {
				ifc.Gateway6 = ""
			}
		}
	}
	s := &provision.Spec{Name: a.name(), NetnsFile: netnsFile, Sysctl: c.Sysctl}
	if c.Role == RoleInbound {
		s.Inbound = ifc
	} else {
		s.Outbound = ifc
	}
	return s, nil
}

// applyIPAM uses the IPAM plugin's addresses like "addresses"; its
// gateways and default routes only for outbound (inbound never carries a
// default route), its other routes as "routes".
func (c *NetConf) applyIPAM(ifc *provision.Iface, res *current.Result) {
	gw := map[bool]string{} // by is-IPv4
	for _, ip := range res.IPs {
		p, ok := prefixOf(ip.Address)
		if !ok {
			continue
		}
		ifc.Addresses = append(ifc.Addresses, p.String())
		if ip.Gateway != nil && gw[p.Addr().Is4()] == "" {
			gw[p.Addr().Is4()] = ip.Gateway.String()
		}
	}
	for _, r := range res.Routes {
		p, ok := prefixOf(r.Dst)
		if !ok {
			continue
		}
		via := gw[p.Addr().Is4()]
		if r.GW != nil {
			via = r.GW.String()
		}
		if p.Bits() > 0 {
			ifc.Routes = append(ifc.Routes, provision.Route{To: p.Masked().String(), Via: via})
			continue
		}
		switch {
		case c.Role != RoleOutbound || via == "":
		case p.Addr().Is4() && ifc.Gateway == "":
			ifc.Gateway = via
		case p.Addr().Is6() && ifc.Gateway6 == "":
			ifc.Gateway6 = via
		}
	}
}

func prefixOf(n net.IPNet) (netip.Prefix, bool) {
	ip, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(ip.Unmap(), ones), true
}

func ipNet(p netip.Prefix) net.IPNet {
	return net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// routesOf is what the interface routes, as the result lists them.
func routesOf(ifc *provision.Iface) []*types.Route {
	var out []*types.Route
	add := func(to, via string) {
		p, err := netip.ParsePrefix(to)
		if err != nil {
			return
		}
		r := &types.Route{Dst: ipNet(p.Masked())}
		if via != "" {
			r.GW = net.ParseIP(via)
		}
		out = append(out, r)
	}
	for _, r := range ifc.Routes {
		add(r.To, r.Via)
	}
	if ifc.Gateway != "" {
		add("0.0.0.0/0", ifc.Gateway)
	}
	if ifc.Gateway6 != "" {
		add("::/0", ifc.Gateway6)
	}
	return out
}

// dnsOf is the config's dns, or else the IPAM plugin's.
func (c *NetConf) dnsOf(ipam *current.Result) types.DNS {
	if len(c.DNS.Nameservers) > 0 || len(c.DNS.Search) > 0 {
		return types.DNS{Nameservers: c.DNS.Nameservers, Search: c.DNS.Search}
	}
	if ipam != nil {
		return ipam.DNS
	}
	return types.DNS{}
}
