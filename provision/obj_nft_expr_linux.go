package provision

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// build turns the rule into nftables expressions, in the order nft itself
// would: matches, then statements, then the verdict.
func (r nftRule) build() ([]expr.Any, error) {
	e, err := r.matches()
	if err != nil {
		return nil, err
	}
	if e, err = r.ctMatches(e); err != nil {
		return nil, err
	}
	return r.statements(e)
}

// matches are the packet's: family, interfaces, addresses, ports.
func (r nftRule) matches() ([]expr.Any, error) {
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
	return e, nil
}

// ctMatches are the connection's: state, NAT status, mark.
func (r nftRule) ctMatches(e []expr.Any) ([]expr.Any, error) {
	cmp := func(op expr.CmpOp, data []byte) { e = append(e, &expr.Cmp{Op: op, Register: 1, Data: data}) }
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
	return e, nil
}

// statements set marks, NAT, then the verdict.
func (r nftRule) statements(e []expr.Any) ([]expr.Any, error) {
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
