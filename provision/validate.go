package provision

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"strings"
)

// Hand-written character checks instead of regexps: compiling those at
// init cost more than the rest of a start.

func allOf(s string, ok func(rune) bool) bool {
	for _, c := range s {
		if !ok(c) {
			return false
		}
	}
	return true
}

func alnum(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func validHostname(s string) bool {
	return len(s) > 0 && len(s) <= 253 && alnum(rune(s[0])) &&
		allOf(s, func(c rune) bool { return alnum(c) || c == '.' || c == '-' })
}

// validSysctlKey accepts net.* keys whose parts are plain names, so a key
// cannot climb out of /proc/sys/net.
func validSysctlKey(k string) bool {
	parts := strings.Split(k, ".")
	if len(parts) < 2 || parts[0] != "net" {
		return false
	}
	for _, p := range parts[1:] {
		if p == "" || !allOf(p, func(c rune) bool { return alnum(c) || strings.ContainsRune("_:@-", c) }) {
			return false
		}
	}
	return true
}

// ValidName reports whether name can be a namespace name: it becomes a
// path under /run/netns and /etc/netns, so no separators and no dots alone.
func ValidName(name string) error {
	if len(name) < 1 || len(name) > 64 || name == "." || name == ".." ||
		!allOf(name, func(c rune) bool { return alnum(c) || c == '.' || c == '_' || c == '-' }) {
		return fmt.Errorf("%w: namespace name %q: want 1-64 characters of [A-Za-z0-9._-], not . or ..", ErrInvalidSpec, name)
	}
	return nil
}

// validIfName mirrors the kernel's dev_valid_name.
func validIfName(key, name string) error {
	if name == "" || len(name) > 15 || name == "." || name == ".." ||
		strings.ContainsAny(name, "/: \t\n\r\v\f") {
		return fmt.Errorf("%s = %q: interface names are 1-15 characters without '/', ':' or whitespace", key, name)
	}
	return nil
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

// gatewayOnPeer returns the gateway with the prefix length of the address
// that contains it, or "".
func gatewayOnPeer(ifc *Iface, gw string) string {
	ip, err := netip.ParseAddr(gw)
	if err != nil {
		return ""
	}
	for _, a := range ifc.Addresses {
		if p, err := netip.ParsePrefix(a); err == nil && p.Masked().Contains(ip) && p.Addr() != ip {
			return netip.PrefixFrom(ip, p.Bits()).String()
		}
	}
	return ""
}

// Validate checks everything that can be checked before touching the
// system. It normalizes s first. All problems are reported at once.
func (s *Spec) Validate() error {
	if err := ValidName(s.Name); err != nil {
		return err
	}
	s.Normalize()
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if s.HostNetns != "" {
		if err := ValidName(s.HostNetns); err != nil {
			add("host_netns: %v", errors.Unwrap(err))
		}
		if s.HostNetns == s.Name {
			add("host_netns = %q: the namespace cannot be its own host", s.HostNetns)
		}
	}
	inside := map[string]string{}
	host := map[string]string{}
	claim := func(m map[string]string, key, name string) {
		if prev, ok := m[name]; ok {
			add("%s = %q: already used by %s", key, name, prev)
		}
		m[name] = key
	}
	for _, ifc := range s.Ifaces() {
		r := ifc.role
		if err := validIfName(r+".name", ifc.Name); err != nil {
			errs = append(errs, err)
		}
		if ifc.Name == "lo" {
			add("%s.name = \"lo\": reserved for loopback", r)
		}
		claim(inside, r+".name", ifc.Name)
		switch ifc.Kind {
		case KindVeth:
			if err := validIfName(r+".peer", ifc.Peer); err != nil {
				errs = append(errs, err)
			}
			claim(host, r+".peer", ifc.Peer)
			if ifc.Parent != "" {
				add("%s.parent: only for kind macvlan or device", r)
			}
		case KindMacvlan, KindDevice:
			if ifc.Parent == "" {
				add("%s.parent: required for kind %s", r, ifc.Kind)
			} else if err := validIfName(r+".parent", ifc.Parent); err != nil {
				errs = append(errs, err)
			}
			if ifc.Peer != "" || len(ifc.PeerAddresses) > 0 || ifc.Bridge != "" {
				add("%s: peer, peer_addresses and bridge are only for kind veth", r)
			}
			if ifc.Kind == KindDevice {
				claim(host, r+".parent", ifc.Parent)
			}
		default:
			add("%s.kind = %q: want veth, macvlan or device", r, ifc.Kind)
		}
		if ifc.Kind == KindMacvlan {
			if _, ok := macvlanModes[ifc.Mode]; !ok {
				add("%s.mode = %q: want bridge, private, vepa or passthru", r, ifc.Mode)
			}
			if ifc.Hairpin {
				claim(host, r+".hairpin", hairpinName(s.Name, ifc))
				if len(ifc.Addresses) == 0 {
					add("%s.hairpin: needs addresses to route to", r)
				}
			}
		} else {
			if ifc.Mode != "" {
				add("%s.mode: only for kind macvlan", r)
			}
			if ifc.Hairpin {
				add("%s.hairpin: only for kind macvlan", r)
			}
		}
		if ifc.Bridge != "" {
			if err := validIfName(r+".bridge", ifc.Bridge); err != nil {
				errs = append(errs, err)
			}
		}
		for _, a := range ifc.Addresses {
			if _, err := parseAddr(a); err != nil {
				add("%s.addresses: %v", r, err)
			}
		}
		for _, a := range ifc.PeerAddresses {
			if _, err := parseAddr(a); err != nil {
				add("%s.peer_addresses: %v", r, err)
			}
		}
		if ifc.MTU != 0 && (ifc.MTU < 68 || ifc.MTU > 65535) {
			add("%s.mtu = %d: want 0 (unchanged) or 68-65535", r, ifc.MTU)
		}
		if ifc.MAC != "" {
			if hw, err := net.ParseMAC(ifc.MAC); err != nil || len(hw) != 6 {
				add("%s.mac = %q: want a 6-byte MAC address", r, ifc.MAC)
			}
		}
		for i, rt := range ifc.Routes {
			if _, err := netip.ParsePrefix(rt.To); err != nil {
				add("%s.routes[%d].to = %q: want a CIDR", r, i, rt.To)
			}
			if rt.Via != "" {
				if _, err := netip.ParseAddr(rt.Via); err != nil {
					add("%s.routes[%d].via = %q: want an IP address", r, i, rt.Via)
				}
			}
		}
		if _, ok := rpFilterValues[ifc.RPFilter]; !ok {
			add("%s.rp_filter = %q: want loose, off or strict", r, ifc.RPFilter)
		}
		s.validateGateways(ifc, add)
	}
	for _, k := range sortedKeys(s.Sysctl) {
		if !validSysctlKey(k) {
			add("sysctl %q: only net.* keys apply inside a namespace", k)
		}
		if strings.ContainsAny(s.Sysctl[k], "\n") {
			add("sysctl %q: value has a newline", k)
		}
	}
	for _, ns := range s.DNS.Nameservers {
		if _, err := netip.ParseAddr(ns); err != nil {
			add("dns.nameservers: %q is not an IP address", ns)
		}
	}
	for _, d := range s.DNS.Search {
		if !validHostname(d) {
			add("dns.search: %q is not a domain name", d)
		}
	}
	for _, h := range sortedKeys(s.DNS.Hosts) {
		if !validHostname(h) {
			add("dns.hosts: %q is not a host name", h)
		}
		if _, err := netip.ParseAddr(s.DNS.Hosts[h]); err != nil {
			add("dns.hosts.%q = %q: not an IP address", h, s.DNS.Hosts[h])
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidSpec, errors.Join(errs...))
	}
	return nil
}

func (s *Spec) validateGateways(ifc *Iface, add func(string, ...any)) {
	for _, g := range []struct {
		key, val string
		v4       bool
	}{{"gateway", ifc.Gateway, true}, {"gateway6", ifc.Gateway6, false}} {
		if g.val == "" {
			continue
		}
		if ifc.role != "outbound" {
			add("%s.%s: only [outbound] may carry a default route", ifc.role, g.key)
			continue
		}
		ip, err := netip.ParseAddr(g.val)
		if err != nil || ip.Is4() != g.v4 {
			add("outbound.%s = %q: want an IPv%s address", g.key, g.val, map[bool]string{true: "4", false: "6"}[g.v4])
			continue
		}
		if ip.Is6() && ip.IsLinkLocalUnicast() {
			continue
		}
		inside := false
		for _, a := range ifc.Addresses {
			if p, err := netip.ParsePrefix(a); err == nil && p.Masked().Contains(ip) {
				inside = true
			}
		}
		if !inside {
			add("outbound.%s = %q: not inside any outbound address's subnet", g.key, g.val)
		}
	}
}

// parseAddr parses an interface address: a host address with its prefix.
func parseAddr(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, fmt.Errorf("%q is not an address/prefix (like 10.1.0.5/24)", s)
	}
	return p, nil
}

var macvlanModes = map[string]int{"bridge": 0, "private": 0, "vepa": 0, "passthru": 0}

// rpFilterValues are the kernel's values; the effective one is the max of
// conf.all and conf.IFACE.
var rpFilterValues = map[string]int{"off": 0, "strict": 1, "loose": 2}

func hairpinName(ns string, ifc *Iface) string {
	return derivedName(ns, map[string]string{"inbound": "-hpi", "outbound": "-hpo"}[ifc.role])
}
