package proxyproto

import (
	"bufio"
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// seeds come from the spec's examples and from captures of HAProxy 2.6
// (send-proxy-v2 from a "bind ... namespace blue" listener, and its LOCAL
// health check).
var seeds = [][]byte{
	[]byte("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"),
	[]byte("PROXY TCP6 ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n"),
	[]byte("PROXY TCP6 2001:db8::1 ::ffff:10.0.0.1 0 65535\r\nGET /"),
	[]byte("PROXY UNKNOWN\r\n"),
	[]byte("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n"),
	[]byte("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"),
	append(append([]byte{}, sigV2...), 0x21, 0x11, 0x00, 0x13, 10, 9, 0, 2, 10, 9, 0, 1, 0xd4, 0x31, 0x00, 0x50, 0x30, 0x00, 0x04, 'b', 'l', 'u', 'e'),
	append(append([]byte{}, sigV2...), 0x20, 0x00, 0x00, 0x00),
	append(append([]byte{}, sigV2...), "\x21\x21\x00\x24\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x50\x00\x51"...),
	append(append([]byte{}, sigV2...), 0x21, 0x00, 0x00, 0x07, 0x30, 0x00, 0x04, 'r', 'e', 'd', '!'),
	append(append([]byte{}, sigV2...), 0x21, 0x11, 0x00, 0x03, 0x30, 0x00),
	append(append([]byte{}, sigV2...), 0x21, 0x31, 0x00, 0x00),
	[]byte("\r\n\r\n\x00\r\nQUI"),
}

// FuzzParse checks that nothing panics, that an accepted header formats
// back to bytes that parse to the same header, and that Read agrees with
// Parse on how many bytes the header takes.
func FuzzParse(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := Parse(b)
		if err != nil {
			return
		}
		if n <= 0 || n > len(b) {
			t.Fatalf("consumed %d of %d bytes", n, len(b))
		}
		out, err := h.Append(nil, h.Version)
		if err != nil {
			t.Fatalf("formatting accepted header %+v: %v", h, err)
		}
		h2, n2, err := Parse(out)
		if err != nil {
			t.Fatalf("reparsing %q: %v", out, err)
		}
		if n2 != len(out) || !reflect.DeepEqual(h, h2) {
			t.Fatalf("round trip: got %+v (%d of %d bytes); want %+v", h2, n2, len(out), h)
		}
		br := bufio.NewReaderSize(bytes.NewReader(b), MinReaderSize)
		h3, err := Read(br)
		if errors.Is(err, ErrTooLarge) && n > MinReaderSize {
			return
		}
		if err != nil || !reflect.DeepEqual(h, h3) {
			t.Fatalf("Read: got %+v, %v; want %+v", h3, err, h)
		}
		if br.Buffered() > 0 || n < len(b) {
			rest := make([]byte, len(b))
			k, _ := br.Read(rest)
			if k > 0 && !bytes.Equal(rest[:k], b[n:n+k]) {
				t.Fatalf("Read left %q; want a prefix of %q", rest[:k], b[n:])
			}
		}
	})
}
