package provision

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ruleObj is a policy routing rule inside the namespace: from Src, or
// fwmark Mark, lookup Table.
type ruleObj struct {
	Family int    `json:"family"` // 4 or 6
	Src    string `json:"src,omitempty"`
	Mark   uint32 `json:"mark,omitempty"`
	Table  int    `json:"table"`
	Pref   int    `json:"pref"`
}

func (r ruleObj) kind() string  { return "rule" }
func (r ruleObj) owner() string { return keyNetns }
func (r ruleObj) key() string {
	return fmt.Sprintf("rule/%d/%d/%s/%#x/%d", r.Family, r.Pref, r.Src, r.Mark, r.Table)
}

func (r ruleObj) selector() string {
	if r.Src != "" {
		return "from " + r.Src
	}
	return fmt.Sprintf("fwmark %#x", r.Mark)
}

func (r ruleObj) render(n names) string {
	return ipn(n.ns, "-%d rule add %s lookup %d pref %d", r.Family, r.selector(), r.Table, r.Pref)
}

// hostSysctlObj is one /proc/sys/net value in the host namespace (IPv4
// forwarding of one interface), with Dev the interface it is about.
type hostSysctlObj struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	Dev   string `json:"dev"`
	Of    string `json:"of"` // a veth's link key, or "" for a host interface
}

func (s hostSysctlObj) kind() string  { return "hostsysctl" }
func (s hostSysctlObj) key() string   { return "hostsysctl/" + s.Key }
func (s hostSysctlObj) owner() string { return s.Of }
func (s hostSysctlObj) render(n names) string {
	return hostExec(n) + "sysctl -qw " + s.Key + "=" + s.Value
}

func hostExec(n names) string {
	if n.host == "" {
		return ""
	}
	return "ip netns exec " + n.host + " "
}

// nftObj is one nftables table with its chains and rules, made and deleted
// as a whole (one netlink batch), in the namespace or in the host.
type nftObj struct {
	Side   string     `json:"side"`
	Family string     `json:"family"` // inet or ip
	Name   string     `json:"name"`
	Chains []nftChain `json:"chains"`
	// Closed, on the host's NAT table, is the masquerade interface: if
	// the host did not forward from it before, chain guard_forward also
	// drops every new connection that comes in there (but published
	// ports), so turning its forwarding on opens nothing else.
	Closed string `json:"closed,omitempty"`
}

// closedRule is what Closed adds.
func (t nftObj) closedRule() nftRule {
	return nftRule{IIF: t.Closed, CtState: "new", CtNotDNAT: true, Verdict: "drop"}
}

// resolved is t as made, given the interface's forwarding before.
func (t nftObj) resolved(before *string) nftObj {
	if t.Closed == "" || before == nil || *before != "0" {
		return t
	}
	chains := append([]nftChain(nil), t.Chains...)
	for i, c := range chains {
		if c.Name == "guard_forward" {
			chains[i].Rules = append(append([]nftRule(nil), c.Rules...), t.closedRule())
		}
	}
	t.Chains = chains
	return t
}

// closedSuffix renders Closed's condition.
func (t nftObj) closedSuffix(n names) string {
	if t.Closed == "" {
		return ""
	}
	return fmt.Sprintf(` && { [ "$(%scat /proc/sys/net/ipv4/conf/%s/forwarding)" = 1 ] || %s'add rule %s %s guard_forward %s'; }`,
		hostExec(n), sysctlIfName(t.Closed), t.nftIn(n), t.Family, t.Name, t.closedRule().render(t.Family))
}

// nftChain is a base chain (Type and Hook set) or a regular one.
type nftChain struct {
	Name   string    `json:"name"`
	Type   string    `json:"type,omitempty"` // filter, nat, route
	Hook   string    `json:"hook,omitempty"` // prerouting, output, forward, postrouting
	Prio   int       `json:"prio,omitempty"`
	Policy string    `json:"policy,omitempty"` // "drop"; "" accepts
	Rules  []nftRule `json:"rules,omitempty"`
}

// nftRule is the few matches and statements the egress tables need; the
// same fields give the nft syntax (render) and the expressions (build).
type nftRule struct {
	NFProto   string `json:"nfproto,omitempty"` // ipv4, ipv6 (inet tables)
	IIF       string `json:"iif,omitempty"`
	OIF       string `json:"oif,omitempty"`
	SAddr     string `json:"saddr,omitempty"` // a prefix
	DAddr     string `json:"daddr,omitempty"`
	DAddrNot  string `json:"daddr_not,omitempty"`
	FibLocal  bool   `json:"fib_local,omitempty"` // fib daddr type local
	Proto     string `json:"proto,omitempty"`     // tcp, udp, icmpv6
	DPort     uint16 `json:"dport,omitempty"`
	ICMPType  uint8  `json:"icmp_type,omitempty"`
	CtState   string `json:"ct_state,omitempty"` // new | established,related
	CtNotDNAT bool   `json:"ct_not_dnat,omitempty"`
	CtMark    uint32 `json:"ct_mark,omitempty"`
	// statements
	SetCtMark  uint32 `json:"set_ct_mark,omitempty"`
	MarkFromCt bool   `json:"mark_from_ct,omitempty"`
	Masquerade bool   `json:"masquerade,omitempty"`
	DNAT       string `json:"dnat,omitempty"`    // IPv4 ADDR:PORT
	Verdict    string `json:"verdict,omitempty"` // accept, drop, jump CHAIN
}

func (t nftObj) kind() string { return "nft" }
func (t nftObj) key() string  { return "nft/" + t.Side + "/" + t.Family + "/" + t.Name }
func (t nftObj) owner() string {
	if t.Side == sideHost {
		return ""
	}
	return keyNetns
}

func (t nftObj) nftIn(n names) string {
	if t.Side == sideHost {
		return hostExec(n) + "nft "
	}
	return "ip netns exec " + n.ns + " nft "
}

func (t nftObj) render(n names) string {
	return t.nftIn(n) + "'" + t.ruleset() + "'" + t.closedSuffix(n)
}

// renderReplace is swapping the table in one transaction.
func (t nftObj) renderReplace(n names) string {
	return t.nftIn(n) + "'delete table " + t.Family + " " + t.Name + "; " + t.ruleset() + "'" + t.closedSuffix(n)
}

func (t nftObj) ruleset() string {
	var b strings.Builder
	fmt.Fprintf(&b, "table %s %s {", t.Family, t.Name)
	for _, c := range t.Chains {
		fmt.Fprintf(&b, " chain %s {", c.Name)
		if c.Type != "" {
			fmt.Fprintf(&b, " type %s hook %s priority %d;", c.Type, c.Hook, c.Prio)
			if c.Policy != "" {
				fmt.Fprintf(&b, " policy %s;", c.Policy)
			}
		}
		for _, r := range c.Rules {
			b.WriteString(" " + r.render(t.Family) + ";")
		}
		b.WriteString(" };")
	}
	b.WriteString(" }")
	return b.String()
}

var icmpv6Names = map[uint8]string{135: "nd-neighbor-solicit", 136: "nd-neighbor-advert", 143: "mld2-listener-report"}

func (r nftRule) render(family string) string {
	var w []string
	add := func(s ...string) { w = append(w, s...) }
	if r.NFProto != "" {
		add("meta nfproto " + r.NFProto)
	}
	if r.IIF != "" {
		add("iifname " + strconv.Quote(r.IIF))
	}
	if r.OIF != "" {
		add("oifname " + strconv.Quote(r.OIF))
	}
	ipk := func(a string) string {
		if p, err := netip.ParsePrefix(a); err == nil && p.Addr().Is6() {
			return "ip6"
		}
		return "ip"
	}
	if r.SAddr != "" {
		add(ipk(r.SAddr) + " saddr " + r.SAddr)
	}
	if r.DAddr != "" {
		add(ipk(r.DAddr) + " daddr " + r.DAddr)
	}
	if r.DAddrNot != "" {
		add(ipk(r.DAddrNot) + " daddr != " + r.DAddrNot)
	}
	if r.FibLocal {
		add("fib daddr type local")
	}
	switch {
	case r.Proto == "icmpv6":
		add("icmpv6 type " + icmpv6Names[r.ICMPType])
	case r.DPort != 0:
		add(fmt.Sprintf("%s dport %d", r.Proto, r.DPort))
	case r.Proto != "":
		add("meta l4proto " + r.Proto)
	}
	if r.CtState != "" {
		add("ct state " + r.CtState)
	}
	if r.CtNotDNAT {
		add("ct status != dnat")
	}
	if r.CtMark != 0 {
		add(fmt.Sprintf("ct mark %#x", r.CtMark))
	}
	if r.SetCtMark != 0 {
		add(fmt.Sprintf("ct mark set %#x", r.SetCtMark))
	}
	if r.MarkFromCt {
		add("meta mark set ct mark")
	}
	if r.Masquerade {
		add("masquerade")
	}
	if r.DNAT != "" {
		if family == "inet" {
			add("dnat ip to " + r.DNAT)
		} else {
			add("dnat to " + r.DNAT)
		}
	}
	if r.Verdict != "" {
		add(r.Verdict)
	}
	return strings.Join(w, " ")
}
