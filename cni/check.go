package cni

import (
	"fmt"
	"maps"
	"slices"

	"github.com/netns-daemon/netns-daemon/provision"
)

// differs lists the keys of the config that ADD provisioned otherwise
// (the config was changed since): CHECK reports them.
func (c *NetConf) differs(s *provision.Spec) []string {
	ifc := s.Outbound
	if c.Role == RoleInbound {
		ifc = s.Inbound
	}
	if ifc == nil {
		return []string{fmt.Sprintf("role = %q", c.Role)}
	}
	var out []string
	add := func(key string, v any) { out = append(out, fmt.Sprintf("%s = %v", key, v)) }
	adopted := ifc.Kind == provision.KindExisting
	if kind := c.Kind; !adopted && kind != "" && kind != ifc.Kind {
		add("kind", kind)
	}
	for _, a := range c.Addresses {
		if !slices.Contains(ifc.Addresses, a) {
			add("addresses", a)
		}
	}
	for _, a := range c.PeerAddresses {
		if !slices.Contains(ifc.PeerAddresses, a) {
			add("peer_addresses", a)
		}
	}
	for _, r := range c.Routes {
		if !slices.Contains(ifc.Routes, provision.Route{To: r.To, Via: r.Via}) {
			add("routes", r)
		}
	}
	// chained, an outbound keeps the earlier plugin's default route
	if c.Gateway != "" && c.Gateway != ifc.Gateway && !(adopted && ifc.Gateway == "") {
		add("gateway", c.Gateway)
	}
	if c.Gateway6 != "" && c.Gateway6 != ifc.Gateway6 && !(adopted && ifc.Gateway6 == "") {
		add("gateway6", c.Gateway6)
	}
	if c.RPFilter != "" && c.RPFilter != ifc.RPFilter {
		add("rp_filter", c.RPFilter)
	}
	if c.MTU != 0 && c.MTU != ifc.MTU {
		add("mtu", c.MTU)
	}
	if c.MAC != "" && c.MAC != ifc.MAC {
		add("mac", c.MAC)
	}
	if len(c.Sysctl)+len(s.Sysctl) > 0 && !maps.Equal(c.Sysctl, s.Sysctl) {
		add("sysctl", c.Sysctl)
	}
	return out
}
