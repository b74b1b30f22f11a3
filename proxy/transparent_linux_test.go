package proxy

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/netns-daemon/netns-daemon/internal/nstest"
)

const transparentScript = "../examples/transparent/transparent.sh"

// transparentNet is client ns C (10.77.1.2) — proxy ns P — server ns S
// (10.77.2.2, and 10.9.9.9 as a far-away address P routes to S). P does
// not forward: replies to the client's address reach P's sockets only
// through the rules of examples/transparent, which it runs (and checks
// that down removes them).
type transparentNet struct{ c, p, s string }

func newTransparentNet(t *testing.T, tproxyPort int) *transparentNet {
	t.Helper()
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs nft (nftables)")
	}
	n := &transparentNet{c: newTestNS(t), p: newTestNS(t), s: newTestNS(t)}
	nstest.Veth(t, n.c, "c0", "10.77.1.2/24", n.p, "p0", "10.77.1.1/24")
	nstest.Veth(t, n.p, "p1", "10.77.2.1/24", n.s, "s0", "10.77.2.2/24")
	nstest.IP(t, "-n", n.c, "route", "add", "default", "via", "10.77.1.1")
	nstest.IP(t, "-n", n.s, "route", "add", "default", "via", "10.77.2.1")
	nstest.IP(t, "-n", n.s, "addr", "add", "10.9.9.9/32", "dev", "lo")
	nstest.IP(t, "-n", n.p, "route", "add", "10.9.9.9/32", "via", "10.77.2.2")
	before := n.routingState(t)
	script := func(action string) error {
		cmd := exec.Command("sh", transparentScript, action, n.p)
		cmd.Env = append(os.Environ(), fmt.Sprintf("TPROXY_PORT=%d", tproxyPort), "TPROXY_DST=10.9.9.9/32", "TPROXY_DPORT=80")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s %s: %w: %s", transparentScript, action, err, out)
		}
		return nil
	}
	if err := script("up"); err != nil {
		script("down")
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := script("down"); err != nil {
			t.Error(err)
		}
		if after := n.routingState(t); after != before {
			t.Errorf("down left state behind:\n%s\nwant:\n%s", after, before)
		}
	})
	return n
}

// routingState renders P's ip rules, route table 100 and nft ruleset.
func (n *transparentNet) routingState(t *testing.T) string {
	t.Helper()
	return nstest.Sh(t, n.p, "ip rule; ip -6 rule; ip route show table 100 2>/dev/null; ip -6 route show table 100 2>/dev/null; nft list ruleset")
}

// peerServer listens in S and answers each connection with the peer
// address it sees, the address it was reached at, and what it read.
func (n *transparentNet) peerServer(t *testing.T, addr string) {
	serveOn(t, nstest.Listen(t, n.s, addr), func(c net.Conn) {
		b, _ := io.ReadAll(c)
		host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
		fmt.Fprintf(c, "peer=%s local=%s got=%s", host, c.LocalAddr(), b)
	})
}

// proxy runs a frontend and a source = "client" backend, both in P.
func (n *transparentNet) proxy(t *testing.T, frontend, server string) *running {
	return startProxy(t, fmt.Sprintf("[[frontend]]\nname = \"in\"\nnamespace = %q\n%s\nbackend = \"app\"\n"+
		"[[backend]]\nname = \"app\"\nsource = \"client\"\n[[backend.server]]\nname = \"s\"\nnamespace = %[1]q\naddress = %[3]q\n", n.p, frontend, server))
}

func (n *transparentNet) roundTrip(t *testing.T, addr string) string {
	t.Helper()
	got, err := roundTrip(t, func() (net.Conn, error) { return nstest.Dial(t, n.c, addr) }, "hello")
	if err != nil {
		t.Fatalf("through the proxy to %s: %v", addr, err)
	}
	return got
}

// TestTransparentSource: with source = "client" the server sees the
// client's own address as its peer.
func TestTransparentSource(t *testing.T) {
	skipUnlessRoot(t)
	n := newTransparentNet(t, 15001)
	n.peerServer(t, "10.77.2.2:8080")
	n.proxy(t, `bind = ["10.77.1.1:80"]`, "10.77.2.2:8080")
	if got, want := n.roundTrip(t, "10.77.1.1:80"), "peer=10.77.1.2 local=10.77.2.2:8080 got=hello"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}

// TestTproxyFrontend: the client connects to 10.9.9.9:80, an address the
// proxy does not have; P's tproxy rule hands the connection to the
// transparent listener, which forwards it to that original destination,
// from the client's address.
func TestTproxyFrontend(t *testing.T) {
	skipUnlessRoot(t)
	n := newTransparentNet(t, 15001)
	n.peerServer(t, "10.9.9.9:80")
	r := n.proxy(t, "bind = [\"0.0.0.0:15001\"]\ntransparent = true", "*")
	if got, want := n.roundTrip(t, "10.9.9.9:80"), "peer=10.77.1.2 local=10.9.9.9:80 got=hello"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
	r.log.waitLog(t, "term=closed")
	if !strings.Contains(r.log.String(), "client=10.77.1.2") {
		t.Errorf("log does not name the client:\n%s", r.log)
	}
}

// TestTproxyLoopRefused: a client that connects straight to the
// transparent listener's own port gives it an original destination that
// is the listener itself; that is refused as a loop (the proxy would
// connect to itself from the client's address), while tproxied traffic
// flows.
func TestTproxyLoopRefused(t *testing.T) {
	skipUnlessRoot(t)
	n := newTransparentNet(t, 15002)
	n.peerServer(t, "10.9.9.9:80")
	r := n.proxy(t, "bind = [\"0.0.0.0:15002\"]\ntransparent = true", "*")
	got, _ := roundTrip(t, func() (net.Conn, error) { return nstest.Dial(t, n.c, "10.77.1.1:15002") }, "hello")
	if got != "" {
		t.Errorf("straight to the listener: got %q; want the connection closed", got)
	}
	if got, want := n.roundTrip(t, "10.9.9.9:80"), "peer=10.77.1.2 local=10.9.9.9:80 got=hello"; got != want {
		t.Errorf("tproxied: got %q; want %q", got, want)
	}
	r.waitLogCount(t, "10.77.1.1:15002 in namespace", 1)
	fe := r.p.frontends[0]
	if l, c := fe.stats.refused[refusedLoop].Load(), fe.stats.total.Load(); l != 1 || c != 2 {
		t.Errorf("loop refusals %d, accepted %d; want 1 and 2 (no connection to ourselves)", l, c)
	}
}
