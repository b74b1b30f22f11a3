package proxy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netns-daemon/netns-daemon/proxy/proxyproto"
	"golang.org/x/sys/unix"
)

func skipUnlessRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip(8) to create test namespaces")
	}
}

// newTestNS creates a throwaway namespace with lo up, removed when the test
// ends however it ends. Only tests shell out to ip.
func newTestNS(t testing.TB) string {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	name := "npt-" + hex.EncodeToString(b)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip -n %s link set lo up: %v: %s", name, err, out)
	}
	return name
}

// testNS opens namespaces for the test's own sockets, through the same
// primitive the proxy uses.
func testNS(t testing.TB, names ...string) *nsTable {
	t.Helper()
	tbl, err := openNamespaces(names)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.close)
	return tbl
}

func listenInNS(t testing.TB, tbl *nsTable, ns, addr string) net.Listener {
	t.Helper()
	ln, err := tbl.listenIn(ns, addr, false)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func dialInNS(tbl *nsTable, ns, addr string) func() (net.Conn, error) {
	return func() (net.Conn, error) {
		return tbl.dialIn(context.Background(), ns, netip.MustParseAddrPort(addr), netip.Addr{}, false, 2*time.Second)
	}
}

// decoy listens on addr in the proxy's own namespace, if it is free, so a
// connection made in the wrong namespace gets a telling answer.
func decoy(t *testing.T, addr string) {
	if ln, err := net.Listen("tcp", addr); err == nil {
		serveOn(t, ln, nameServer("root"))
	}
}

func TestNamespaceListenerAndServer(t *testing.T) {
	skipUnlessRoot(t)
	blue, red := newTestNS(t), newTestNS(t)
	tbl := testNS(t, blue, red)
	srv := serveOn(t, listenInNS(t, tbl, red, "127.0.0.1:0"), func(c net.Conn) {
		b := make([]byte, 5)
		c.Read(b)
		fmt.Fprintf(c, "red got %s", b)
	})
	decoy(t, srv.addr())
	r := startProxy(t, config(fmt.Sprintf("namespace = %q", blue), "",
		fmt.Sprintf("address = %q\nnamespace = %q", srv.addr(), red)))
	got, err := roundTrip(t, dialInNS(tbl, blue, r.addr()), "hello")
	if err != nil || got != "red got hello" {
		t.Fatalf("got %q, %v; want %q", got, err, "red got hello")
	}
	r.log.waitLog(t, "client_ns="+blue)
	// The listener is in blue only.
	if _, err := dialInNS(tbl, red, r.addr())(); err == nil {
		t.Errorf("proxy listener %s reachable in %s; want it only in %s", r.addr(), red, blue)
	}
}

func TestNamespaceStarFollowsTLV(t *testing.T) {
	skipUnlessRoot(t)
	blue, red := newTestNS(t), newTestNS(t)
	tbl := testNS(t, blue, red)
	bsrv := serveOn(t, listenInNS(t, tbl, blue, "127.0.0.1:0"), reportServer)
	port := netip.MustParseAddrPort(bsrv.addr()).Port()
	rsrv := serveOn(t, listenInNS(t, tbl, red, bsrv.addr()), func(c net.Conn) {
		reportServer(c)
		c.Write([]byte(" in red"))
	})
	decoy(t, bsrv.addr())
	_ = rsrv
	r := startProxy(t, starConfig("*", blue, red))
	header := func(ns string) string {
		h := proxyproto.Header{Command: proxyproto.Proxy, Family: proxyproto.TCP4,
			Src: netip.MustParseAddrPort("10.9.9.9:1234"), Dst: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port),
			TLVs: []proxyproto.TLV{{Type: proxyproto.TypeNetNS, Value: []byte(ns)}}}
		b, err := h.AppendV2(nil)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, tt := range []struct{ ns, want string }{{red, "got:x in red"}, {blue, "got:x"}} {
		got, err := roundTrip(t, dialTo(r.addr()), header(tt.ns)+"x")
		if err != nil || got != tt.want {
			t.Errorf("TLV %s: got %q, %v; want %q", tt.ns, got, err, tt.want)
		}
	}
	for _, bad := range []string{"npt-not-listed", "../../proc/1/ns/net", ""} {
		got, _ := roundTrip(t, dialTo(r.addr()), header(bad)+"x")
		if got != "" {
			t.Errorf("TLV %q: got %q; want the connection refused", bad, got)
		}
		r.log.waitLog(t, fmt.Sprintf(`namespace \"%s\" from PROXY header is not allowed`, bad))
	}
}

// TestNoThreadLeftBehind hammers dialIn across namespaces, then checks that
// every thread of the process is back in the proxy's own namespace.
func TestNoThreadLeftBehind(t *testing.T) {
	skipUnlessRoot(t)
	blue, red := newTestNS(t), newTestNS(t)
	tbl := testNS(t, blue, red)
	var wg sync.WaitGroup
	for i := range 200 {
		ns := []string{blue, red, ""}[i%3]
		wg.Go(func() {
			if c, err := dialInNS(tbl, ns, "127.0.0.1:1")(); err == nil {
				c.Close()
			}
		})
	}
	wg.Wait()
	self := tbl.self.ID()
	tasks, _ := filepath.Glob("/proc/self/task/*/ns/net")
	for _, p := range tasks {
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			continue // thread exited
		}
		if st.Ino != self.Ino || st.Dev != self.Dev {
			t.Errorf("%s is in namespace inode %d; want %d", strings.TrimSuffix(p, "/ns/net"), st.Ino, self.Ino)
		}
	}
}

func TestStartFailsOnMissingNamespace(t *testing.T) {
	cfg, err := LoadFile("../examples/proxy/basic.toml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Frontends[0].Namespace = "npt-does-not-exist"
	_, err = New(cfg, NewLogger(os.Stderr, "text"))
	if err == nil || !strings.Contains(err.Error(), `opening namespace "npt-does-not-exist"`) {
		t.Errorf("got %v; want an error naming the missing namespace", err)
	}
}

// BenchmarkDialIn compares a connect in the proxy's own namespace with one
// whose socket is made in another namespace (two setns around socket(2)).
func BenchmarkDialIn(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	name := "npt-bench-" + fmt.Sprint(os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		b.Fatalf("%v: %s", err, out)
	}
	defer exec.Command("ip", "netns", "del", name).Run()
	exec.Command("ip", "-n", name, "link", "set", "lo", "up").Run()
	tbl, err := openNamespaces([]string{name})
	if err != nil {
		b.Fatal(err)
	}
	defer tbl.close()
	for _, ns := range []string{"", name} {
		ln, err := tbl.listenIn(ns, "127.0.0.1:0", false)
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		dst := netip.MustParseAddrPort(ln.Addr().String())
		label := "own"
		if ns != "" {
			label = "other"
		}
		b.Run(label, func(b *testing.B) {
			for b.Loop() {
				c, err := tbl.dialIn(context.Background(), ns, dst, netip.Addr{}, false, time.Second)
				if err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
		ln.Close()
	}
}
