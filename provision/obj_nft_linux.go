package provision

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"

	xnetns "github.com/netns-daemon/netns-daemon/internal/netns"
)

// The table's identity is a random token in the comment of its first
// rule: a table of the same name made by anyone else (or made again) does
// not carry it, and is never deleted.
const nftCommentPrefix = "netns-daemon "

func (t nftObj) conn(k *kernel) (*nftables.Conn, error) {
	h, err := k.netns()
	if t.Side == sideHost {
		h, err = k.hostns()
	}
	if err != nil {
		return nil, err
	}
	c, err := nftables.New(nftables.WithNetNSFd(h.Fd()))
	if err != nil {
		return nil, fmt.Errorf("opening nftables in %s: %w", k.label(t.Side), err)
	}
	return c, nil
}

func (t nftObj) family() nftables.TableFamily {
	if t.Family == "ip" {
		return nftables.TableFamilyIPv4
	}
	return nftables.TableFamilyINet
}

// create makes the table, its chains and rules in one batch: all or none.
func (t nftObj) create(k *kernel, r *record) error {
	c, err := t.conn(k)
	if err != nil {
		return err
	}
	if t.Closed != "" {
		before, err := forwardingBefore(k, t.Closed)
		if err != nil {
			return fmt.Errorf("adding nftables table %s %s in %s: %w", t.Family, t.Name, k.label(t.Side), err)
		}
		t = t.resolved(&before)
		r.Prior = &before
	}
	token, err := t.queue(c)
	if err == nil {
		err = c.Flush()
	}
	if err != nil {
		return fmt.Errorf("adding nftables table %s %s in %s: %w", t.Family, t.Name, k.label(t.Side), err)
	}
	r.Token, r.Done = token, true
	return nil
}

// replace swaps the table start made for t in one batch, so that a guard
// being changed never has a gap.
func (t nftObj) replace(k *kernel, r *record) error {
	c, err := t.conn(k)
	if err != nil {
		return err
	}
	tab, _, mine, err := t.find(c, r.Token)
	if err == nil && tab != nil && !mine {
		err = fmt.Errorf("it is not the one start made")
	}
	if err != nil {
		return fmt.Errorf("replacing nftables table %s %s in %s: %w", t.Family, t.Name, k.label(t.Side), err)
	}
	if tab != nil {
		c.DelTable(tab)
	}
	token, err := t.resolved(r.Prior).queue(c)
	if err == nil {
		err = c.Flush()
	}
	if err != nil {
		return fmt.Errorf("replacing nftables table %s %s in %s: %w", t.Family, t.Name, k.label(t.Side), err)
	}
	r.Token = token
	return nil
}

// queue adds the table, its chains and rules to c's batch, the first rule
// carrying a new token.
func (t nftObj) queue(c *nftables.Conn) (string, error) {
	var tok [8]byte
	rand.Read(tok[:])
	token := hex.EncodeToString(tok[:])
	tab := c.CreateTable(&nftables.Table{Name: t.Name, Family: t.family()})
	marked := false
	for _, ch := range t.Chains {
		nc := &nftables.Chain{Name: ch.Name, Table: tab}
		if ch.Type != "" {
			nc.Type = nftables.ChainType(ch.Type)
			nc.Hooknum = nftHooks[ch.Hook]
			nc.Priority = nftables.ChainPriorityRef(nftables.ChainPriority(ch.Prio))
			pol := nftables.ChainPolicyAccept
			if ch.Policy == "drop" {
				pol = nftables.ChainPolicyDrop
			}
			nc.Policy = &pol
		}
		c.AddChain(nc)
		for _, rule := range ch.Rules {
			exprs, err := rule.build()
			if err != nil {
				return "", err
			}
			nr := &nftables.Rule{Table: tab, Chain: nc, Exprs: exprs}
			if !marked {
				nr.UserData = userdata.AppendString(nil, userdata.TypeComment, nftCommentPrefix+token)
				marked = true
			}
			c.AddRule(nr)
		}
	}
	return token, nil
}

var nftHooks = map[string]*nftables.ChainHook{
	"prerouting":  nftables.ChainHookPrerouting,
	"input":       nftables.ChainHookInput,
	"forward":     nftables.ChainHookForward,
	"output":      nftables.ChainHookOutput,
	"postrouting": nftables.ChainHookPostrouting,
}

// find returns the table and its rule count per chain; nil if there is
// none of the name. mine is whether it carries token.
func (t nftObj) find(c *nftables.Conn, token string) (tab *nftables.Table, counts map[string]int, mine bool, err error) {
	tables, err := c.ListTablesOfFamily(t.family())
	if err != nil {
		return nil, nil, false, err
	}
	for _, x := range tables {
		if x.Name == t.Name {
			tab = x
		}
	}
	if tab == nil {
		return nil, nil, false, nil
	}
	chains, err := c.ListChainsOfTableFamily(t.family())
	if err != nil {
		return nil, nil, false, err
	}
	counts = map[string]int{}
	for _, ch := range chains {
		if ch.Table.Name != t.Name {
			continue
		}
		rules, err := c.GetRules(tab, ch)
		if err != nil {
			return nil, nil, false, err
		}
		counts[ch.Name] = len(rules)
		for _, r := range rules {
			if s, ok := userdata.GetString(r.UserData, userdata.TypeComment); ok && s == nftCommentPrefix+token {
				mine = true
			}
		}
	}
	return tab, counts, mine, nil
}

// remove deletes the table if it is still the one create made.
func (t nftObj) remove(k *kernel, r *record) error {
	c, err := t.conn(k)
	if gone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	tab, _, mine, err := t.find(c, r.Token)
	switch {
	case err != nil:
		return fmt.Errorf("listing nftables table %s %s in %s: %w", t.Family, t.Name, k.label(t.Side), err)
	case tab == nil:
		return nil
	case !mine:
		k.warn(fmt.Sprintf("nftables table %s %s in %s is not the one start made: left in place", t.Family, t.Name, k.label(t.Side)))
		return nil
	}
	c.DelTable(tab)
	if err := c.Flush(); err != nil && !isNotFound(err) {
		return fmt.Errorf("deleting nftables table %s %s in %s: %w", t.Family, t.Name, k.label(t.Side), err)
	}
	return nil
}

func (t nftObj) observe(k *kernel, r *record) string {
	c, err := t.conn(k)
	if err != nil {
		return err.Error()
	}
	tab, counts, mine, err := t.find(c, r.Token)
	switch {
	case err != nil:
		return err.Error()
	case tab == nil:
		return "missing"
	case !mine:
		return "another table of that name"
	}
	t = t.resolved(r.Prior)
	var diffs []string
	for _, ch := range t.Chains {
		if n, ok := counts[ch.Name]; !ok || n != len(ch.Rules) {
			diffs = append(diffs, fmt.Sprintf("chain %s has %d rules; want %d", ch.Name, n, len(ch.Rules)))
		}
	}
	if len(counts) != len(t.Chains) {
		diffs = append(diffs, fmt.Sprintf("%d chains; want %d", len(counts), len(t.Chains)))
	}
	return strings.Join(diffs, "; ")
}

// build turns the rule into nftables expressions, in the order nft itself
// would: matches, then statements, then the verdict.
func (r nftRule) build() ([]expr.Any, error) {
	var e []expr.Any
	cmp := func(op expr.CmpOp, data []byte) { e = append(e, &expr.Cmp{Op: op, Register: 1, Data: data}) }
	meta := func(key expr.MetaKey) { e = append(e, &expr.Meta{Key: key, Register: 1}) }
	if r.NFProto != "" {
		meta(expr.MetaKeyNFPROTO)
		cmp(expr.CmpOpEq, []byte{map[string]byte{"ipv4": unix.NFPROTO_IPV4, "ipv6": unix.NFPROTO_IPV6}[r.NFProto]})
	}
	if r.IIF != "" {
		meta(expr.MetaKeyIIFNAME)
		cmp(expr.CmpOpEq, ifname(r.IIF))
	}
	if r.OIF != "" {
		meta(expr.MetaKeyOIFNAME)
		cmp(expr.CmpOpEq, ifname(r.OIF))
	}
	for _, a := range []struct {
		s   string
		dst bool
		op  expr.CmpOp
	}{{r.SAddr, false, expr.CmpOpEq}, {r.DAddr, true, expr.CmpOpEq}, {r.DAddrNot, true, expr.CmpOpNeq}} {
		if a.s == "" {
			continue
		}
		p, err := netip.ParsePrefix(a.s)
		if err != nil {
			ip, aerr := netip.ParseAddr(a.s)
			if aerr != nil {
				return nil, aerr
			}
			p = netip.PrefixFrom(ip, ip.BitLen())
		}
		off, n := uint32(12), uint32(4)
		if p.Addr().Is6() {
			off, n = 8, 16
		}
		if a.dst {
			off += n
		}
		e = append(e, &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: n})
		if p.Bits() != p.Addr().BitLen() {
			mask := prefixNet(p).Mask
			e = append(e, &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: n, Mask: mask, Xor: make([]byte, n)})
		}
		cmp(a.op, p.Masked().Addr().AsSlice())
	}
	if r.FibLocal {
		e = append(e, &expr.Fib{Register: 1, FlagDADDR: true, ResultADDRTYPE: true})
		cmp(expr.CmpOpEq, binaryutil.NativeEndian.PutUint32(unix.RTN_LOCAL))
	}
	if r.Proto != "" {
		meta(expr.MetaKeyL4PROTO)
		cmp(expr.CmpOpEq, []byte{map[string]byte{"tcp": unix.IPPROTO_TCP, "udp": unix.IPPROTO_UDP, "icmpv6": unix.IPPROTO_ICMPV6}[r.Proto]})
	}
	if r.Proto == "icmpv6" {
		e = append(e, &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1})
		cmp(expr.CmpOpEq, []byte{r.ICMPType})
	} else if r.DPort != 0 {
		e = append(e, &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2})
		cmp(expr.CmpOpEq, binaryutil.BigEndian.PutUint16(r.DPort))
	}
	ctBits := func(key expr.CtKey, bits uint32, op expr.CmpOp) {
		e = append(e, &expr.Ct{Key: key, Register: 1},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: binaryutil.NativeEndian.PutUint32(bits), Xor: make([]byte, 4)})
		cmp(op, make([]byte, 4))
	}
	switch r.CtState {
	case "":
	case "new":
		ctBits(expr.CtKeySTATE, expr.CtStateBitNEW, expr.CmpOpNeq)
	case "established,related":
		ctBits(expr.CtKeySTATE, expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED, expr.CmpOpNeq)
	default:
		return nil, fmt.Errorf("ct state %q", r.CtState)
	}
	if r.CtNotDNAT {
		ctBits(expr.CtKeySTATUS, 1<<5, expr.CmpOpEq) // IPS_DST_NAT
	}
	if r.CtMark != 0 {
		e = append(e, &expr.Ct{Key: expr.CtKeyMARK, Register: 1})
		cmp(expr.CmpOpEq, binaryutil.NativeEndian.PutUint32(r.CtMark))
	}
	if r.SetCtMark != 0 {
		e = append(e, &expr.Immediate{Register: 1, Data: binaryutil.NativeEndian.PutUint32(r.SetCtMark)},
			&expr.Ct{Key: expr.CtKeyMARK, Register: 1, SourceRegister: true})
	}
	if r.MarkFromCt {
		e = append(e, &expr.Ct{Key: expr.CtKeyMARK, Register: 1}, &expr.Meta{Key: expr.MetaKeyMARK, Register: 1, SourceRegister: true})
	}
	if r.Masquerade {
		e = append(e, &expr.Masq{})
	}
	if r.DNAT != "" {
		ap, err := netip.ParseAddrPort(r.DNAT)
		if err != nil || !ap.Addr().Is4() {
			return nil, fmt.Errorf("dnat to %q: want an IPv4 address and port", r.DNAT)
		}
		e = append(e, &expr.Immediate{Register: 1, Data: ap.Addr().AsSlice()},
			&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(ap.Port())},
			&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true})
	}
	switch v := r.Verdict; {
	case v == "":
	case v == "accept":
		e = append(e, &expr.Verdict{Kind: expr.VerdictAccept})
	case v == "drop":
		e = append(e, &expr.Verdict{Kind: expr.VerdictDrop})
	case strings.HasPrefix(v, "jump "):
		e = append(e, &expr.Verdict{Kind: expr.VerdictJump, Chain: strings.TrimPrefix(v, "jump ")})
	default:
		return nil, fmt.Errorf("verdict %q", v)
	}
	return e, nil
}

// ifname is an interface name as nft compares it: NUL-padded to IFNAMSIZ.
func ifname(n string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, n)
	return b
}

// otherMasquerade names another namespace's NAT table in the host whose
// rules match out of dev, or "".
func otherMasquerade(k *kernel, dev string) (string, error) {
	own := nftObj{Side: sideHost, Family: "ip", Name: "netns_daemon_" + k.n.ns + "_nat"}
	c, err := own.conn(k)
	if err != nil {
		return "", err
	}
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return "", err
	}
	want := ifname(dev)
	for _, ch := range chains {
		n := ch.Table.Name
		if n == own.Name || ch.Name != "post" || !strings.HasPrefix(n, "netns_daemon_") || !strings.HasSuffix(n, "_nat") {
			continue
		}
		rules, err := c.GetRules(ch.Table, ch)
		if err != nil {
			return "", err
		}
		for _, r := range rules {
			for _, e := range r.Exprs {
				if cmp, ok := e.(*expr.Cmp); ok && string(cmp.Data) == string(want) {
					return n, nil
				}
			}
		}
	}
	return "", nil
}

// forwardingBefore is dev's IPv4 forwarding in the host before any
// namespace's NAT out of it turned it on.
func forwardingBefore(k *kernel, dev string) (string, error) {
	s := hostSysctlObj{Key: "net.ipv4.conf." + sysctlIfName(dev) + ".forwarding", Dev: dev}
	if p := s.sharedPrior(k); p != nil {
		return *p, nil
	}
	h, err := k.hostns()
	if err != nil {
		return "", err
	}
	var v string
	err = xnetns.Do(h, func() error {
		b, err := os.ReadFile(sysctlPath(s.Key))
		v = strings.TrimSpace(string(b))
		return err
	})
	return v, err
}
