package proxyproto

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// Append appends h in the given version: v1 drops TLVs; a LOCAL header
// becomes v1 UNKNOWN.
func (h *Header) Append(dst []byte, v Version) ([]byte, error) {
	switch v {
	case 1:
		return h.AppendV1(dst)
	case 2:
		return h.AppendV2(dst)
	}
	return dst, fmt.Errorf("%w: version %d", ErrInvalid, v)
}

// AppendV1 appends the text form of h.
func (h *Header) AppendV1(dst []byte) ([]byte, error) {
	if h.Command == Local || h.Family == Unspec {
		return append(dst, "PROXY UNKNOWN\r\n"...), nil
	}
	if err := h.checkAddrs(); err != nil {
		return dst, err
	}
	dst = append(dst, "PROXY TCP4 "...)
	if h.Family == TCP6 {
		dst[len(dst)-2] = '6'
	}
	dst = h.Src.Addr().AppendTo(dst)
	dst = append(dst, ' ')
	dst = h.Dst.Addr().AppendTo(dst)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, uint64(h.Src.Port()), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, uint64(h.Dst.Port()), 10)
	return append(dst, "\r\n"...), nil
}

// AppendV2 appends the binary form of h with its TLVs. A LOCAL header is
// written bare, as HAProxy's health checks send it.
func (h *Header) AppendV2(dst []byte) ([]byte, error) {
	start := len(dst)
	dst = append(dst, sigV2...)
	if h.Command == Local {
		return append(dst, 0x20, 0, 0, 0), nil
	}
	if h.Family != Unspec {
		if err := h.checkAddrs(); err != nil {
			return dst[:start], err
		}
	}
	dst = append(dst, 0x21, byte(h.Family), 0, 0)
	switch h.Family {
	case TCP4:
		s, d := h.Src.Addr().As4(), h.Dst.Addr().As4()
		dst = append(append(dst, s[:]...), d[:]...)
	case TCP6:
		s, d := h.Src.Addr().As16(), h.Dst.Addr().As16()
		dst = append(append(dst, s[:]...), d[:]...)
	}
	if h.Family != Unspec {
		dst = binary.BigEndian.AppendUint16(dst, h.Src.Port())
		dst = binary.BigEndian.AppendUint16(dst, h.Dst.Port())
	}
	for _, t := range h.TLVs {
		if len(t.Value) > 0xffff {
			return dst[:start], fmt.Errorf("%w: TLV 0x%02x value of %d bytes", ErrTooLarge, t.Type, len(t.Value))
		}
		dst = append(dst, t.Type)
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(t.Value)))
		dst = append(dst, t.Value...)
	}
	n := len(dst) - start
	if n > MaxV2Size {
		return dst[:start], ErrTooLarge
	}
	binary.BigEndian.PutUint16(dst[start+14:], uint16(n-16))
	return dst, nil
}

func (h *Header) checkAddrs() error {
	s, d := h.Src.Addr(), h.Dst.Addr()
	switch {
	case h.Family != TCP4 && h.Family != TCP6:
		return fmt.Errorf("%w: 0x%02x", ErrUnsupported, byte(h.Family))
	case !s.IsValid() || !d.IsValid():
		return fmt.Errorf("%w: missing address", ErrInvalid)
	case s.Is4() != (h.Family == TCP4) || d.Is4() != (h.Family == TCP4):
		return fmt.Errorf("%w: address family does not match 0x%02x", ErrInvalid, byte(h.Family))
	case s.Zone() != "" || d.Zone() != "":
		return fmt.Errorf("%w: address with zone", ErrInvalid)
	}
	return nil
}
