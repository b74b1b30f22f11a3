package proxy

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// FuzzFrontendFirstBytes drives a live frontend with arbitrary first bytes
// from a trusted source: accept_proxy, a wildcard listener and a server
// whose address and namespace come from the header, so a header can ask
// for anything, our own sockets included. All of it lives in a throwaway
// namespace that has only loopback: nothing the input names is reachable
// outside it. Properties: nothing panics; each input is one accepted
// connection that ends (never a connection of the proxy to itself); the
// frontend still relays afterwards.
func FuzzFrontendFirstBytes(f *testing.F) {
	skipUnlessRoot(f)
	const front, echo, metrics = 7000, 7001, 7002
	ns := newTestNS(f)
	tbl := testNS(f, ns)
	serveOn(f, listenInNS(f, tbl, ns, fmt.Sprintf("127.0.0.1:%d", echo)), reportServer)
	r := startProxy(f, fmt.Sprintf("[defaults]\nmax_connections = 50\nproxy_header_timeout = \"300ms\"\nconnect_timeout = \"300ms\"\n"+
		"[[frontend]]\nname = \"in\"\nnamespace = %q\nbind = [\"[::]:%d\"]\naccept_proxy = true\ntrusted_sources = [\"127.0.0.1\", \"::1\"]\nbackend = \"app\"\n"+
		"[[backend]]\nname = \"app\"\nsend_proxy = \"v2\"\n[[backend.server]]\nname = \"star\"\naddress = \"*\"\nnamespace = \"*\"\n"+
		"[metrics]\nnamespace = %[1]q\nlisten = \"127.0.0.1:%[3]d\"\n", ns, front, metrics))
	addr := fmt.Sprintf("127.0.0.1:%d", front)
	good := fmt.Sprintf("PROXY TCP4 192.0.2.1 127.0.0.1 1000 %d\r\n", echo)
	for _, s := range []string{
		good + "hello",
		fmt.Sprintf("PROXY TCP4 127.0.0.1 127.0.0.1 1 %d\r\n", front),
		fmt.Sprintf("PROXY TCP4 127.0.0.1 127.0.0.3 1 %d\r\nx", front),
		fmt.Sprintf("PROXY TCP4 127.0.0.1 0.0.0.0 1 %d\r\n", front),
		fmt.Sprintf("PROXY TCP6 ::1 ::1 1 %d\r\n", front),
		fmt.Sprintf("PROXY TCP6 ::1 ::ffff:127.0.0.1 1 %d\r\n", metrics),
		"PROXY TCP4 10.1.2.3 10.9.9.9 1 80\r\n",
		"PROXY UNKNOWN\r\n",
		"PROXY TCP4 1.2.3.4",
		"GET / HTTP/1.0\r\n\r\n",
		"",
		v2Header(f, mustAP("127.0.0.1:1"), mustAP(fmt.Sprintf("127.0.0.1:%d", front))),
		v2Header(f, mustAP("[::1]:1"), mustAP(fmt.Sprintf("[::1]:%d", echo))) + "v6 to nowhere",
		"\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00",
	} {
		f.Add([]byte(s))
	}
	fe := r.p.frontends[0]
	f.Fuzz(func(t *testing.T, first []byte) {
		before := fe.stats.total.Load()
		c, err := dialInNS(tbl, ns, addr)()
		if err != nil {
			t.Fatalf("connecting: %v", err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write(first)
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, c)
		c.Close()
		for deadline := time.Now().Add(5 * time.Second); fe.stats.current.Load() != 0; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d connections still open after the input's ended", fe.stats.current.Load())
			}
		}
		if n := fe.stats.total.Load() - before; n != 1 {
			t.Fatalf("the input made the frontend accept %d connections; want 1 (a loop?)", n)
		}
		got, err := roundTrip(t, dialInNS(tbl, ns, addr), good+"still there")
		if err != nil || !strings.HasPrefix(got, "got:") || !strings.HasSuffix(got, "still there") {
			t.Fatalf("frontend after the input: %q, %v", got, err)
		}
	})
}

var mustAP = netip.MustParseAddrPort
