package provision

import (
	"fmt"
	"strings"
)

// maxNameservers is glibc's MAXNS: resolv.conf lines past it are ignored.
const maxNameservers = 3

// validHostname accepts an RFC 1123 host name: dot-separated labels of
// 1-63 letters, digits and inner hyphens, 253 characters at most.
func validHostname(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' ||
			!allOf(l, func(c rune) bool { return alnum(c) || c == '-' }) {
			return false
		}
	}
	return true
}

// check: every value becomes a line of resolv.conf or hosts, so each is a
// literal address or a host name, never free text.
func (d *DNS) check(p *problems) {
	for i, ns := range d.Nameservers {
		key := fmt.Sprintf("dns.nameservers[%d]", i)
		ip, why := parseIP(ns)
		if why == "" && (ip.IsUnspecified() || ip.IsMulticast()) {
			why = "want a unicast address"
		}
		if why == "" && ip.Is6() && ip.IsLinkLocalUnicast() {
			why = "an IPv6 link-local nameserver needs a zone, and zones are not taken; use a global or ULA address"
		}
		if why == "" && i >= maxNameservers {
			why = fmt.Sprintf("resolv.conf takes at most %d nameservers (the C library ignores the rest)", maxNameservers)
		}
		if why != "" {
			p.add(key, ns, "%s", why)
		}
	}
	for i, dom := range d.Search {
		if !validHostname(dom) {
			p.add(fmt.Sprintf("dns.search[%d]", i), dom, "not a domain name (RFC 1123)")
		}
	}
	for _, h := range sortedKeys(d.Hosts) {
		key := "dns.hosts." + quoteKey(h)
		if !validHostname(h) {
			p.add(key, d.Hosts[h], "%q is not a host name (RFC 1123)", h)
		}
		if _, why := parseIP(d.Hosts[h]); why != "" {
			p.add(key, d.Hosts[h], "%s", why)
		}
	}
}
