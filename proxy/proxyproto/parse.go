package proxyproto

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Parse parses one header at the start of b and returns it with its length
// in bytes. A b that is a proper prefix of a header gives ErrTruncated.
func Parse(b []byte) (Header, int, error) {
	if len(b) == 0 {
		return Header{}, 0, ErrTruncated
	}
	switch {
	case hasPrefix(b, sigV1):
		return parseV1(b)
	case hasPrefix(b, sigV2):
		return parseV2(b)
	}
	return Header{}, 0, ErrNoProxy
}

// hasPrefix is bytes.HasPrefix that also accepts b as a prefix of sig, so
// a partial signature reads as truncated rather than as no header.
func hasPrefix(b, sig []byte) bool {
	if len(b) < len(sig) {
		return bytes.Equal(b, sig[:len(b)])
	}
	return bytes.Equal(b[:len(sig)], sig)
}

func parseV1(b []byte) (Header, int, error) {
	end := bytes.IndexByte(b[:min(len(b), MaxV1Size)], '\n')
	if end < 0 {
		if len(b) >= MaxV1Size {
			return Header{}, 0, ErrTooLarge
		}
		return Header{}, 0, ErrTruncated
	}
	if end < len(sigV1) || b[end-1] != '\r' {
		return Header{}, 0, fmt.Errorf("%w: v1 line not ended by CRLF", ErrInvalid)
	}
	line := b[len(sigV1) : end-1]
	h := Header{Version: 1, Command: Proxy}
	proto, rest, _ := bytes.Cut(line, []byte(" "))
	switch string(proto) {
	case "UNKNOWN":
		// The spec says to ignore whatever follows UNKNOWN.
		return h, end + 1, nil
	case "TCP4":
		h.Family = TCP4
	case "TCP6":
		h.Family = TCP6
	default:
		return Header{}, 0, fmt.Errorf("%w: v1 protocol %q", ErrInvalid, proto)
	}
	f := bytes.Split(rest, []byte(" "))
	if len(f) != 4 {
		return Header{}, 0, fmt.Errorf("%w: v1 wants 4 address fields, got %d", ErrInvalid, len(f))
	}
	src, err1 := v1Addr(f[0], h.Family)
	dst, err2 := v1Addr(f[1], h.Family)
	sp, err3 := v1Port(f[2])
	dp, err4 := v1Port(f[3])
	for _, err := range []error{err1, err2, err3, err4} {
		if err != nil {
			return Header{}, 0, err
		}
	}
	h.Src = netip.AddrPortFrom(src, sp)
	h.Dst = netip.AddrPortFrom(dst, dp)
	return h, end + 1, nil
}

func v1Addr(s []byte, fam Family) (netip.Addr, error) {
	a, err := netip.ParseAddr(string(s))
	if err != nil || a.Zone() != "" || a.Is4() != (fam == TCP4) {
		return netip.Addr{}, fmt.Errorf("%w: v1 address %q", ErrInvalid, s)
	}
	return a, nil
}

// v1Port accepts 0-65535 without sign or leading zeros.
func v1Port(s []byte) (uint16, error) {
	if len(s) == 0 || len(s) > 5 || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("%w: v1 port %q", ErrInvalid, s)
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: v1 port %q", ErrInvalid, s)
		}
		n = n*10 + int(c-'0')
	}
	if n > 0xffff {
		return 0, fmt.Errorf("%w: v1 port %q", ErrInvalid, s)
	}
	return uint16(n), nil
}

func parseV2(b []byte) (Header, int, error) {
	if len(b) < 16 {
		return Header{}, 0, ErrTruncated
	}
	if b[12]>>4 != 2 {
		return Header{}, 0, fmt.Errorf("%w: v2 version %d", ErrInvalid, b[12]>>4)
	}
	cmd := Command(b[12] & 0xf)
	if cmd != Local && cmd != Proxy {
		return Header{}, 0, fmt.Errorf("%w: v2 command %d", ErrInvalid, cmd)
	}
	total := 16 + int(binary.BigEndian.Uint16(b[14:16]))
	if total > MaxV2Size {
		return Header{}, 0, ErrTooLarge
	}
	if len(b) < total {
		return Header{}, 0, ErrTruncated
	}
	h := Header{Version: 2, Command: cmd}
	if cmd == Local {
		// The receiver must ignore the rest of a LOCAL header.
		return h, total, nil
	}
	body := b[16:total]
	h.Family = Family(b[13])
	switch h.Family {
	case Unspec:
	case TCP4, TCP6:
		n := 4 // address bytes
		if h.Family == TCP6 {
			n = 16
		}
		if len(body) < 2*n+4 {
			return Header{}, 0, fmt.Errorf("%w: v2 family 0x%02x needs %d address bytes, have %d", ErrInvalid, b[13], 2*n+4, len(body))
		}
		src, _ := netip.AddrFromSlice(body[:n])
		dst, _ := netip.AddrFromSlice(body[n : 2*n])
		h.Src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(body[2*n:]))
		h.Dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(body[2*n+2:]))
		body = body[2*n+4:]
	default:
		return Header{}, 0, fmt.Errorf("%w: 0x%02x", ErrUnsupported, b[13])
	}
	tlvs, err := parseTLVs(body)
	if err != nil {
		return Header{}, 0, err
	}
	h.TLVs = tlvs
	return h, total, nil
}

// parseTLVs copies the TLV area once (b may be a reused read buffer) and
// slices the values out of the copy.
func parseTLVs(b []byte) ([]TLV, error) {
	if len(b) == 0 {
		return nil, nil
	}
	n := 0
	for rest := b; len(rest) > 0; n++ {
		if len(rest) < 3 {
			return nil, fmt.Errorf("%w: v2 TLV header cut short", ErrInvalid)
		}
		l := 3 + int(binary.BigEndian.Uint16(rest[1:3]))
		if len(rest) < l {
			return nil, fmt.Errorf("%w: v2 TLV 0x%02x overruns the header", ErrInvalid, rest[0])
		}
		rest = rest[l:]
	}
	own := bytes.Clone(b)
	tlvs := make([]TLV, 0, n)
	for len(own) > 0 {
		l := 3 + int(binary.BigEndian.Uint16(own[1:3]))
		tlvs = append(tlvs, TLV{Type: own[0], Value: own[3:l:l]})
		own = own[l:]
	}
	return tlvs, nil
}
