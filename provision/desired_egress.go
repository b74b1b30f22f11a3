package provision

import "net/netip"

// Reply routing: the table replies from inbound addresses (and of
// connections that came in on the inbound interface) are routed by, the
// preferences of its rules, and the conntrack mark of those connections.
// The namespace is a new one, so the table is free there; for a namespace
// that exists already (Spec.NetnsFile) preflight checks that it is.
const (
	replyTable = 1000
	replyPref  = 1000
	replyMark  = 0x6e64
)

// Table names: fixed inside the namespace (it is ours), per namespace in
// the host.
const (
	nftGuard = "netns_daemon_guard"
	nftReply = "netns_daemon_reply"
)

func hostTable(s *Spec, what string) string { return "netns_daemon_" + s.Name + "_" + what }

// egressEarly lists what goes in right after the namespace, before any
// interface comes up: no router advertisements and no autoconfiguration
// on new interfaces (they take conf.default), IPv6 off if asked, the leak
// guard, reply marking and its policy rules.
func egressEarly(s *Spec) []object {
	var out []object
	sys := func(k, v string) {
		if _, mine := s.Sysctl[k]; !mine {
			out = append(out, sysctlObj{Key: k, Value: v, Of: keyNetns, IPv6: true})
		}
	}
	sys("net.ipv6.conf.default.accept_ra", "0")
	sys("net.ipv6.conf.default.autoconf", "0")
	if ipv6Off(s) {
		sys("net.ipv6.conf.default.disable_ipv6", "1")
		sys("net.ipv6.conf.all.disable_ipv6", "1")
	}
	if s.Egress.Only != nil {
		out = append(out, guardTable(s))
	}
	in := s.Inbound
	if in == nil || in.ReplyVia == "" && in.ReplyVia6 == "" {
		return out
	}
	fams := replyFamilies(in)
	out = append(out, nftObj{Side: sideNS, Family: "inet", Name: nftReply, Chains: []nftChain{
		{Name: "tag_in", Type: "filter", Hook: "prerouting", Prio: -150, Rules: []nftRule{{IIF: in.Name, CtState: "new", SetCtMark: replyMark}}},
		{Name: "route_out", Type: "route", Hook: "output", Prio: -150, Rules: []nftRule{{CtMark: replyMark, MarkFromCt: true}}},
	}})
	for _, fam := range fams {
		for _, a := range in.Addresses {
			p, _ := netip.ParsePrefix(a)
			if family(p.Addr()) == fam {
				out = append(out, ruleObj{Family: fam, Src: netip.PrefixFrom(p.Addr(), p.Addr().BitLen()).String(), Table: replyTable, Pref: replyPref})
			}
		}
		out = append(out, ruleObj{Family: fam, Mark: replyMark, Table: replyTable, Pref: replyPref + 1})
	}
	return out
}

func family(a netip.Addr) int {
	if a.Is4() {
		return 4
	}
	return 6
}

func nfproto(fam int) string {
	if fam == 4 {
		return "ipv4"
	}
	return "ipv6"
}

func replyFamilies(in *Iface) []int {
	var out []int
	if in.ReplyVia != "" {
		out = append(out, 4)
	}
	if in.ReplyVia6 != "" {
		out = append(out, 6)
	}
	return out
}

func ipv6Off(s *Spec) bool { return s.Egress.IPv6 != nil && !*s.Egress.IPv6 }

// guardTable drops new traffic out of any interface not listed (lo always
// passes); replies pass, and so do neighbour discovery and multicast
// listener reports (RFC 4890: without them no IPv6 reply finds its next
// hop, and a snooping bridge may stop delivering to the namespace). With nameservers set, port 53 reaches
// only them.
func guardTable(s *Spec) nftObj {
	rules := []nftRule{
		{CtState: "established,related", Verdict: "accept"},
		{OIF: "lo", Verdict: "accept"},
	}
	for _, typ := range []uint8{135, 136, 143} {
		rules = append(rules, nftRule{NFProto: "ipv6", Proto: "icmpv6", ICMPType: typ, Verdict: "accept"})
	}
	if len(s.DNS.Nameservers) > 0 {
		for _, ns := range s.DNS.Nameservers {
			ip, _ := netip.ParseAddr(ns)
			for _, proto := range []string{"udp", "tcp"} {
				rules = append(rules, nftRule{NFProto: nfproto(family(ip)), DAddr: ip.String(), Proto: proto, DPort: 53, Verdict: "jump allowed"})
			}
		}
		rules = append(rules, nftRule{Proto: "udp", DPort: 53, Verdict: "drop"}, nftRule{Proto: "tcp", DPort: 53, Verdict: "drop"})
	}
	rules = append(rules, nftRule{Verdict: "jump allowed"})
	var allowed []nftRule
	for _, n := range s.Egress.Only {
		if n != "lo" {
			allowed = append(allowed, nftRule{OIF: n, Verdict: "accept"})
		}
	}
	return nftObj{Side: sideNS, Family: "inet", Name: nftGuard, Chains: []nftChain{
		{Name: "allowed", Rules: allowed},
		{Name: "out", Type: "filter", Hook: "output", Prio: 0, Policy: "drop", Rules: rules},
	}}
}

// egressObjects lists what needs the interfaces: their own no-RA
// sysctls, the reply table's routes, and the host's NAT, forwarding and
// published ports.
func egressObjects(s *Spec) []object {
	var out []object
	for _, ifc := range s.Ifaces() {
		of := linkObj{Name: ifc.Name}.key()
		vals := [][2]string{{"accept_ra", "0"}, {"autoconf", "0"}}
		if ipv6Off(s) {
			vals = append(vals, [2]string{"disable_ipv6", "1"})
		}
		for _, kv := range vals {
			k := "net.ipv6.conf." + sysctlIfName(ifc.Name) + "." + kv[0]
			if _, mine := s.Sysctl[k]; !mine {
				out = append(out, sysctlObj{Key: k, Value: kv[1], Of: of, IPv6: true})
			}
		}
	}
	if in := s.Inbound; in != nil && (in.ReplyVia != "" || in.ReplyVia6 != "") {
		of := linkObj{Name: in.Name}.key()
		for _, a := range in.Addresses {
			p, _ := netip.ParsePrefix(a)
			if via := map[int]string{4: in.ReplyVia, 6: in.ReplyVia6}[family(p.Addr())]; via != "" {
				out = append(out, routeObj{Side: sideNS, Dev: in.Name, To: p.Masked().String(), Of: of, Table: replyTable})
			}
		}
		if in.ReplyVia != "" {
			out = append(out, routeObj{Side: sideNS, Dev: in.Name, To: "0.0.0.0/0", Via: in.ReplyVia, Of: of, Table: replyTable})
		}
		if in.ReplyVia6 != "" {
			out = append(out, routeObj{Side: sideNS, Dev: in.Name, To: "::/0", Via: in.ReplyVia6, Of: of, Table: replyTable})
		}
	}
	out = append(out, hostObjects(s)...)
	// The host sides we make take no advertisements either: a daemon
	// inside must not hand the host a route through the namespace, nor a
	// LAN router one through a hairpin shim.
	for _, ifc := range s.Ifaces() {
		dev, of := ifc.Peer, linkObj{Name: ifc.Name}.key()
		switch {
		case ifc.Kind == KindVeth:
		case ifc.Hairpin:
			shim := shimObj{Name: hairpinName(s, ifc)}
			dev, of = shim.Name, shim.key()
		default:
			continue
		}
		for _, k := range []string{"accept_ra", "autoconf"} {
			out = append(out, hostSysctlObj{Key: "net.ipv6.conf." + sysctlIfName(dev) + "." + k, Value: "0", Dev: dev, Of: of})
		}
	}
	return out
}

// hostObjects: with masquerade, the outbound subnets NATed out of the
// host interface and forwarding on it and on the namespace's veth peers;
// a forward filter keeps new connections from the uplink (other than
// published ports) out of the namespace's subnets. Published ports are
// DNAT at prerouting (other hosts) and output (the host itself).
func hostObjects(s *Spec) []object {
	var out []object
	masq := ""
	if s.Outbound != nil {
		masq = s.Outbound.Masquerade
	}
	if masq == "" && len(s.Publish) == 0 {
		return nil
	}
	var peers []*Iface
	for _, ifc := range s.Ifaces() {
		if ifc.Kind == KindVeth {
			peers = append(peers, ifc)
		}
	}
	if masq != "" {
		var post, fwd []nftRule
		for _, sub := range masqueradeSubnets(s.Outbound) {
			post = append(post, nftRule{SAddr: sub, OIF: masq, Masquerade: true})
		}
		for _, sub := range namespaceSubnets(s) {
			fwd = append(fwd, nftRule{IIF: masq, DAddr: sub, CtState: "new", CtNotDNAT: true, Verdict: "drop"})
		}
		out = append(out, nftObj{Side: sideHost, Family: "ip", Name: hostTable(s, "nat"), Closed: masq, Chains: []nftChain{
			{Name: "post", Type: "nat", Hook: "postrouting", Prio: 100, Rules: post},
			{Name: "guard_forward", Type: "filter", Hook: "forward", Prio: 0, Rules: fwd},
		}})
		out = append(out, hostSysctlObj{Key: "net.ipv4.conf." + sysctlIfName(masq) + ".forwarding", Value: "1", Dev: masq})
	}
	for _, ifc := range peers {
		if ifc.Bridge != "" {
			continue // a bridge port: the host's bridge routes, not the port
		}
		out = append(out, hostSysctlObj{Key: "net.ipv4.conf." + sysctlIfName(ifc.Peer) + ".forwarding", Value: "1",
			Dev: ifc.Peer, Of: linkObj{Name: ifc.Name}.key()})
	}
	if len(s.Publish) > 0 {
		var rules []nftRule
		for _, p := range s.Publish {
			h, _ := netip.ParseAddrPort(p.Host)
			r := nftRule{Proto: p.Proto, DPort: h.Port(), DNAT: p.To}
			if h.Addr().IsUnspecified() {
				r.FibLocal, r.DAddrNot = true, "127.0.0.0/8"
			} else {
				r.DAddr = h.Addr().String() + "/32"
			}
			rules = append(rules, r)
		}
		out = append(out, nftObj{Side: sideHost, Family: "ip", Name: hostTable(s, "publish"), Chains: []nftChain{
			{Name: "pre", Type: "nat", Hook: "prerouting", Prio: -100, Rules: rules},
			{Name: "out", Type: "nat", Hook: "output", Prio: -100, Rules: rules},
		}})
	}
	return out
}

// namespaceSubnets are the IPv4 subnets of the namespace's addresses.
func namespaceSubnets(s *Spec) []string {
	var out []string
	for _, ifc := range s.Ifaces() {
		out = append(out, masqueradeSubnets(ifc)...)
	}
	return out
}
