package proxyproto

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// v2 builds a v2 header from hex of everything after the signature.
func v2(t testing.TB, hexBody string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(hexBody, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return append(append([]byte{}, sigV2...), b...)
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want Header
		n    int // bytes consumed; 0 means len(in)
	}{
		{"v1 tcp4", []byte("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n"),
			Header{Version: 1, Command: Proxy, Family: TCP4, Src: ap("192.0.2.1:56324"), Dst: ap("198.51.100.2:443")}, 0},
		{"v1 tcp6", []byte("PROXY TCP6 2001:db8::1 ::ffff:10.0.0.1 0 65535\r\n"),
			Header{Version: 1, Command: Proxy, Family: TCP6, Src: ap("[2001:db8::1]:0"), Dst: ap("[::ffff:10.0.0.1]:65535")}, 0},
		{"v1 unknown", []byte("PROXY UNKNOWN\r\n"), Header{Version: 1, Command: Proxy}, 0},
		{"v1 unknown ignores rest", []byte("PROXY UNKNOWN ff 1.2.3.4 x y\r\n"), Header{Version: 1, Command: Proxy}, 0},
		{"v1 payload follows", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nGET /"),
			Header{Version: 1, Command: Proxy, Family: TCP4, Src: ap("1.2.3.4:1"), Dst: ap("5.6.7.8:2")}, 32},
		{"v1 longest", []byte("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"),
			Header{Version: 1, Command: Proxy, Family: TCP6, Src: ap("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"), Dst: ap("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535")}, 0},
		{"v2 tcp4", v2(t, "21 11 000c c0000201 c6336402 dc04 01bb"),
			Header{Version: 2, Command: Proxy, Family: TCP4, Src: ap("192.0.2.1:56324"), Dst: ap("198.51.100.2:443")}, 0},
		{"v2 tcp6", v2(t, "21 21 0024 20010db8000000000000000000000001 20010db8000000000000000000000002 0050 0051"),
			Header{Version: 2, Command: Proxy, Family: TCP6, Src: ap("[2001:db8::1]:80"), Dst: ap("[2001:db8::2]:81")}, 0},
		{"v2 local bare", v2(t, "20 00 0000"), Header{Version: 2, Command: Local}, 0},
		{"v2 local skips body", v2(t, "20 11 000c c0000201 c6336402 dc04 01bb"), Header{Version: 2, Command: Local}, 0},
		{"v2 unspec with tlv", v2(t, "21 00 0007 30 0004 626c7565"),
			Header{Version: 2, Command: Proxy, TLVs: []TLV{{TypeNetNS, []byte("blue")}}}, 0},
		{"v2 tcp4 tlvs kept in order", v2(t, "21 11 001a 0a000001 0a000002 0001 0002 30 0003 726564 04 0000 e0 0002 abcd"),
			Header{Version: 2, Command: Proxy, Family: TCP4, Src: ap("10.0.0.1:1"), Dst: ap("10.0.0.2:2"),
				TLVs: []TLV{{TypeNetNS, []byte("red")}, {TypeNOOP, []byte{}}, {0xe0, []byte{0xab, 0xcd}}}}, 0},
		{"v2 payload follows", append(v2(t, "21 11 000c 01020304 05060708 0001 0002"), "hello"...),
			Header{Version: 2, Command: Proxy, Family: TCP4, Src: ap("1.2.3.4:1"), Dst: ap("5.6.7.8:2")}, 28},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := tt.n
			if want == 0 {
				want = len(tt.in)
			}
			if n != want {
				t.Errorf("consumed %d; want %d", n, want)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v; want %+v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"not proxy", []byte("GET / HTTP/1.1\r\n"), ErrNoProxy},
		{"v1 sig prefix", []byte("PROX"), ErrTruncated},
		{"v1 no crlf", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2"), ErrTruncated},
		{"v1 lf only", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), ErrInvalid},
		{"v1 too long", []byte("PROXY TCP6 " + strings.Repeat("f", 120) + "\r\n"), ErrTooLarge},
		{"v1 bad proto", []byte("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"), ErrInvalid},
		{"v1 v6 in tcp4", []byte("PROXY TCP4 ::1 5.6.7.8 1 2\r\n"), ErrInvalid},
		{"v1 v4 in tcp6", []byte("PROXY TCP6 1.2.3.4 ::1 1 2\r\n"), ErrInvalid},
		{"v1 leading zero port", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"), ErrInvalid},
		{"v1 port too big", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"), ErrInvalid},
		{"v1 missing field", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), ErrInvalid},
		{"v1 double space", []byte("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n"), ErrInvalid},
		{"v1 zone", []byte("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n"), ErrInvalid},
		{"v2 sig prefix", sigV2[:7], ErrTruncated},
		{"v2 fixed part cut", v2(t, "21 11"), ErrTruncated},
		{"v2 body cut", v2(t, "21 11 000c c0000201"), ErrTruncated},
		{"v2 bad version", v2(t, "11 11 000c c0000201 c6336402 dc04 01bb"), ErrInvalid},
		{"v2 bad command", v2(t, "22 11 000c c0000201 c6336402 dc04 01bb"), ErrInvalid},
		{"v2 too large", v2(t, "21 11 ffff"), ErrTooLarge},
		{"v2 udp", v2(t, "21 12 000c c0000201 c6336402 dc04 01bb"), ErrUnsupported},
		{"v2 unix", v2(t, "21 31 0000"), ErrUnsupported},
		{"v2 tcp4 short addrs", v2(t, "21 11 0004 c0000201"), ErrInvalid},
		{"v2 tcp6 short addrs", v2(t, "21 21 000c c0000201 c6336402 dc04 01bb"), ErrInvalid},
		{"v2 tlv overrun", v2(t, "21 00 0005 30 0004 62 6c"), ErrInvalid},
		{"v2 tlv header cut", v2(t, "21 00 0002 30 00"), ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Parse(tt.in)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v; want %v", err, tt.want)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	h4 := Header{Command: Proxy, Family: TCP4, Src: ap("192.0.2.1:56324"), Dst: ap("198.51.100.2:443"),
		TLVs: []TLV{{TypeNetNS, []byte("blue")}}}
	h6 := Header{Command: Proxy, Family: TCP6, Src: ap("[2001:db8::1]:80"), Dst: ap("[2001:db8::2]:81")}
	tests := []struct {
		name string
		h    Header
		v    Version
		want []byte
	}{
		{"v1 tcp4 drops tlvs", h4, 1, []byte("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n")},
		{"v1 tcp6", h6, 1, []byte("PROXY TCP6 2001:db8::1 2001:db8::2 80 81\r\n")},
		{"v1 local", Header{Command: Local}, 1, []byte("PROXY UNKNOWN\r\n")},
		{"v1 unspec", Header{Command: Proxy}, 1, []byte("PROXY UNKNOWN\r\n")},
		{"v2 tcp4 netns", h4, 2, v2(t, "21 11 0013 c0000201 c6336402 dc04 01bb 30 0004 626c7565")},
		{"v2 tcp6", h6, 2, v2(t, "21 21 0024 20010db8000000000000000000000001 20010db8000000000000000000000002 0050 0051")},
		{"v2 local", Header{Command: Local, TLVs: []TLV{{1, []byte("x")}}}, 2, v2(t, "20 00 0000")},
		{"v2 unspec tlv", Header{Command: Proxy, TLVs: []TLV{{TypeNetNS, []byte("red")}}}, 2, v2(t, "21 00 0006 30 0003 726564")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.h.Append([]byte("pre"), tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if want := append([]byte("pre"), tt.want...); !bytes.Equal(got, want) {
				t.Errorf("got %q; want %q", got, want)
			}
		})
	}
}

func TestFormatErrors(t *testing.T) {
	tests := []struct {
		name string
		h    Header
		v    Version
		want error
	}{
		{"family mismatch", Header{Command: Proxy, Family: TCP4, Src: ap("[::1]:1"), Dst: ap("1.2.3.4:2")}, 1, ErrInvalid},
		{"missing addr", Header{Command: Proxy, Family: TCP6}, 2, ErrInvalid},
		{"bad family", Header{Command: Proxy, Family: 0x12, Src: ap("1.2.3.4:1"), Dst: ap("1.2.3.4:2")}, 2, ErrUnsupported},
		{"too large", Header{Command: Proxy, TLVs: []TLV{{0xe0, make([]byte, MaxV2Size)}}}, 2, ErrTooLarge},
		{"bad version", Header{}, 3, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.h.Append([]byte("pre"), tt.v)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v; want %v", err, tt.want)
			}
			if string(got) != "pre" {
				t.Errorf("output %q; want it left as %q", got, "pre")
			}
		})
	}
}

func TestNetNS(t *testing.T) {
	h := Header{TLVs: []TLV{{0xe0, []byte("x")}, {TypeNetNS, []byte("blue")}, {TypeNetNS, []byte("red")}}}
	if ns, ok := h.NetNS(); !ok || ns != "blue" {
		t.Errorf("got %q, %v; want %q, true", ns, ok, "blue")
	}
	if _, ok := (&Header{}).NetNS(); ok {
		t.Error("NetNS on a header without TLVs reported one")
	}
}

// slowReader hands out one byte per Read, to prove Read never needs more
// than the header and never consumes the payload.
type slowReader struct{ b []byte }

func (r *slowReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	p[0] = r.b[0]
	r.b = r.b[1:]
	return 1, nil
}

func TestRead(t *testing.T) {
	bigTLV := Header{Command: Proxy, TLVs: []TLV{{0xe0, bytes.Repeat([]byte{7}, 600)}}}
	big, _ := bigTLV.AppendV2(nil)
	tests := []struct {
		name    string
		in      []byte
		payload string
		want    error
	}{
		{"v1", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), "GET / HTTP/1.0\r\n\r\n", nil},
		{"v2", v2(t, "21 11 000c 01020304 05060708 0001 0002"), "\r\n\r\nmore", nil},
		{"v2 larger than buffer", big, "after", nil},
		{"v1 truncated", []byte("PROXY TCP4 1.2"), "", ErrTruncated},
		{"v1 endless", []byte("PROXY " + strings.Repeat("x", 200)), "", ErrTooLarge},
		{"v2 truncated", v2(t, "21 11 000c 0102"), "", ErrTruncated},
		{"v2 too large", v2(t, "21 11 1000"), "", ErrTooLarge},
		{"not proxy", []byte("SSH-2.0-OpenSSH\r\n"), "", ErrNoProxy},
		{"not proxy starting with P", []byte("POST / HTTP/1.1\r\n"), "", ErrNoProxy},
		{"not proxy starting with CR", []byte("\r\n\r\nhello world\r\n"), "", ErrNoProxy},
		{"empty", nil, "", ErrTruncated},
	}
	for _, tt := range tests {
		for _, slow := range []bool{false, true} {
			name := tt.name
			var r io.Reader = bytes.NewReader(append(append([]byte{}, tt.in...), tt.payload...))
			if slow {
				name += " slow"
				r = &slowReader{append(append([]byte{}, tt.in...), tt.payload...)}
			}
			t.Run(name, func(t *testing.T) {
				br := bufio.NewReaderSize(r, MinReaderSize)
				h, err := Read(br)
				if !errors.Is(err, tt.want) {
					t.Fatalf("got %v; want %v", err, tt.want)
				}
				if err != nil {
					return
				}
				want, _, _ := Parse(tt.in)
				if !reflect.DeepEqual(h, want) {
					t.Errorf("got %+v; want %+v", h, want)
				}
				rest, _ := io.ReadAll(br)
				if string(rest) != tt.payload {
					t.Errorf("payload %q; want %q", rest, tt.payload)
				}
			})
		}
	}
	if _, err := Read(bufio.NewReaderSize(strings.NewReader("x"), 16)); err == nil {
		t.Error("Read accepted a reader smaller than MinReaderSize")
	}
}
