// Package proxyproto parses and formats PROXY protocol v1 and v2 headers
// (https://www.haproxy.org/download/2.6/doc/proxy-protocol.txt), keeping v2
// TLVs, including HAProxy's NETNS TLV. It is pure: it knows nothing of
// sockets or namespaces, and never trusts the length fields it reads.
package proxyproto

import (
	"errors"
	"net/netip"
)

// Errors callers branch on. Parse wraps them with detail.
var (
	// ErrNoProxy: the input does not start with a PROXY signature.
	ErrNoProxy = errors.New("proxyproto: no PROXY header")
	// ErrTruncated: the input ends before the header does.
	ErrTruncated = errors.New("proxyproto: truncated header")
	// ErrInvalid: the header is malformed.
	ErrInvalid = errors.New("proxyproto: invalid header")
	// ErrTooLarge: the header exceeds MaxV1Size or MaxV2Size.
	ErrTooLarge = errors.New("proxyproto: header too large")
	// ErrUnsupported: a well-formed header for a family this TCP proxy
	// cannot use (UDP, unix sockets).
	ErrUnsupported = errors.New("proxyproto: unsupported address family")
)

// Size limits. v1's comes from the spec; v2's is ours: generous for TLVs,
// small enough that a peer cannot make us buffer much.
const (
	MaxV1Size = 107
	MaxV2Size = 2048
)

// Version is the header version, 1 (text) or 2 (binary).
type Version uint8

// Command is the v2 command. v1 headers are always Proxy.
type Command uint8

const (
	// Local: the connection was made by the proxy itself (health check);
	// the receiver uses the real connection addresses.
	Local Command = 0
	// Proxy: the connection is relayed for the client in Src.
	Proxy Command = 1
)

// Family is the transport and address family.
type Family uint8

// Families, with their v2 byte values. Unspec is v1's UNKNOWN.
const (
	Unspec Family = 0x00
	TCP4   Family = 0x11
	TCP6   Family = 0x21
)

// TLV types this package names.
const (
	TypeCRC32C = 0x03
	TypeNOOP   = 0x04
	TypeNetNS  = 0x30
)

// TLV is one v2 type-length-value, kept raw so it can be passed on.
type TLV struct {
	Type  byte
	Value []byte
}

// Header is a parsed PROXY header. Src and Dst are set only for TCP4/TCP6.
type Header struct {
	Version Version
	Command Command
	Family  Family
	Src     netip.AddrPort
	Dst     netip.AddrPort
	TLVs    []TLV // v2 only; nil when there are none
}

// NetNS returns the value of the first NETNS TLV.
func (h *Header) NetNS() (string, bool) {
	for _, t := range h.TLVs {
		if t.Type == TypeNetNS {
			return string(t.Value), true
		}
	}
	return "", false
}

var (
	sigV1 = []byte("PROXY ")
	sigV2 = []byte("\r\n\r\n\x00\r\nQUIT\n")
)
