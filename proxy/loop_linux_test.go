package proxy

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/netns-daemon/netns-daemon/internal/nstest"
	"github.com/netns-daemon/netns-daemon/proxy/proxyproto"
)

// TestSelfLoopRefused: a trusted PROXY header whose destination is the
// proxy's own listener (PROXY TCP4 127.0.0.1 127.0.0.1 1 PORT) used to
// make it connect to itself until max_connections ran out. Now it is
// refused, counted as reason="loop", and no connection is made; traffic
// to a real server keeps flowing. Specific and wildcard listeners, v1 and
// v2 headers, and any address of the namespace for the wildcard.
func TestSelfLoopRefused(t *testing.T) {
	skipUnlessRoot(t)
	for _, bind := range []string{"127.0.0.1:0", "[::]:0"} {
		t.Run(bind, func(t *testing.T) {
			ns := newTestNS(t)
			// An address of the namespace besides loopback's; and every
			// address binds, so a probe bind could not tell local from not.
			nstest.IP(t, "-n", ns, "addr", "add", "10.55.0.1/32", "dev", "lo")
			nstest.Sh(t, ns, "echo 1 > /proc/sys/net/ipv4/ip_nonlocal_bind")
			tbl := testNS(t, ns)
			echo := serveOn(t, listenInNS(t, tbl, ns, "127.0.0.1:0"), reportServer)
			r := startProxy(t, fmt.Sprintf("[defaults]\nmax_connections = 20\n"+
				"[[frontend]]\nname = \"in\"\nnamespace = %q\nbind = [%q]\naccept_proxy = true\ntrusted_sources = [\"127.0.0.1\", \"::1\"]\nbackend = \"app\"\n"+
				"[[backend]]\nname = \"app\"\nsend_proxy = \"v1\"\n[[backend.server]]\nname = \"star\"\naddress = \"*\"\nnamespace = \"*\"\n"+
				"[metrics]\nnamespace = %[1]q\nlisten = \"127.0.0.1:0\"\n", ns, bind))
			port := netip.MustParseAddrPort(r.addr()).Port()
			front := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
			loops := []string{
				fmt.Sprintf("PROXY TCP4 127.0.0.1 127.0.0.1 1 %d\r\n", port),
				v2Header(t, netip.MustParseAddrPort("127.0.0.1:1"), front),
				fmt.Sprintf("PROXY TCP4 127.0.0.1 0.0.0.0 1 %d\r\n", port),
				fmt.Sprintf("PROXY TCP6 ::1 ::ffff:127.0.0.1 1 %d\r\n", port),
				// The metrics socket is ours too.
				fmt.Sprintf("PROXY TCP4 127.0.0.1 %s 1 %d\r\n", "127.0.0.1", r.p.metrics.Addr().(interface{ AddrPort() netip.AddrPort }).AddrPort().Port()),
			}
			if bind == "[::]:0" {
				loops = append(loops,
					fmt.Sprintf("PROXY TCP4 127.0.0.1 127.0.0.9 1 %d\r\n", port), // all of 127/8 is local
					fmt.Sprintf("PROXY TCP4 127.0.0.1 10.55.0.1 1 %d\r\n", port),
					v2Header(t, netip.MustParseAddrPort("[::1]:1"), netip.AddrPortFrom(netip.IPv6Loopback(), port)))
			}
			for _, h := range loops {
				if got, _ := roundTrip(t, dialInNS(tbl, ns, front.String()), h+"x"); got != "" {
					t.Errorf("header %q: got %q; want the connection closed", h, got)
				}
			}
			// A header to a real server, and one to a non-local address on
			// the listener's port (not a loop; nowhere to go), still work
			// as before.
			ok := fmt.Sprintf("PROXY TCP4 127.0.0.1 %s 1 %d\r\n", netip.MustParseAddrPort(echo.addr()).Addr(), netip.MustParseAddrPort(echo.addr()).Port())
			if got, err := roundTrip(t, dialInNS(tbl, ns, front.String()), ok+"x"); !strings.HasPrefix(got, "got:PROXY TCP4 127.0.0.1 127.0.0.1 1 ") || !strings.HasSuffix(got, "\r\nx") {
				t.Errorf("normal traffic: got %q, %v", got, err)
			}
			roundTrip(t, dialInNS(tbl, ns, front.String()), fmt.Sprintf("PROXY TCP4 127.0.0.1 10.1.2.3 1 %d\r\n", port))
			r.log.waitLog(t, "network is unreachable")
			r.waitLogCount(t, "destination is one of our own listeners", len(loops))
			m := scrape(t, tbl, ns, r.p.metrics.Addr().String())
			want := map[string]int64{
				`netns_proxy_frontend_refused_total{frontend="in",reason="loop"}`: int64(len(loops)),
				// One accept per client connection: none made by the proxy itself.
				`netns_proxy_frontend_connections_total{frontend="in"}`:             int64(len(loops) + 2),
				`netns_proxy_server_connections_total{backend="app",server="star"}`: 1,
			}
			for k, w := range want {
				if m[k] != w {
					t.Errorf("%s = %d; want %d", k, m[k], w)
				}
			}
		})
	}
}

func v2Header(t testing.TB, src, dst netip.AddrPort) string {
	t.Helper()
	f := proxyproto.TCP4
	if dst.Addr().Is6() {
		f = proxyproto.TCP6
	}
	b, err := (&proxyproto.Header{Command: proxyproto.Proxy, Family: f, Src: src, Dst: dst}).AppendV2(nil)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitLogCount waits up to 5s for want to be logged n times, and fails if
// it is logged more often.
func (r *running) waitLogCount(t *testing.T, want string, n int) {
	t.Helper()
	got := 0
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if got = strings.Count(r.log.String(), want); got >= n {
			break
		}
	}
	if got != n {
		t.Errorf("%q logged %d times; want %d", want, got, n)
	}
}
