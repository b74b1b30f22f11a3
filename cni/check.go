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
	if len(c.Sysctl)+len(s.Sysctl) > 0 && !maps.Equal(c.Sysctl, s.Sysctl) {
		add("sysctl", c.Sysctl)
	}
	return append(out, c.scalarsDiffer(ifc)...)
}

// scalarsDiffer compares the single-valued keys; unset ones match.
func (c *NetConf) scalarsDiffer(ifc *provision.Iface) []string {
	adopted := ifc.Kind == provision.KindExisting
	// chained, an outbound keeps the earlier plugin's default route
	kept := func(have string) bool { return adopted && have == "" }
	var out []string
	for _, k := range []struct {
		key, want, have string
		skip            bool
	}{
		{"kind", c.Kind, ifc.Kind, adopted},
		{"gateway", c.Gateway, ifc.Gateway, kept(ifc.Gateway)},
		{"gateway6", c.Gateway6, ifc.Gateway6, kept(ifc.Gateway6)},
		{"rp_filter", c.RPFilter, ifc.RPFilter, false},
		{"mac", c.MAC, ifc.MAC, false},
		{"mtu", mtuString(c.MTU), mtuString(ifc.MTU), false},
	} {
		if k.want != "" && k.want != k.have && !k.skip {
			out = append(out, fmt.Sprintf("%s = %v", k.key, k.want))
		}
	}
	return out
}

func mtuString(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}
