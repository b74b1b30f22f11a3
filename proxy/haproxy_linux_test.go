package proxy

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// startHAProxy runs haproxy in the foreground with cfg until the test ends,
// skipping when there is no haproxy with namespace support.
func startHAProxy(t *testing.T, cfg string) {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy not installed")
	}
	vv, _ := exec.Command(bin, "-vv").CombinedOutput()
	if !bytes.Contains(vv, []byte("+NS")) {
		t.Skip("haproxy built without namespace support (no +NS in haproxy -vv)")
	}
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second // never hang on a pipe held by a leftover process
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("haproxy config:\n%s\nhaproxy output:\n%s", cfg, out.String())
		}
	})
}

const haproxyDefaults = `
global
	maxconn 100
defaults
	mode tcp
	timeout connect 5s
	timeout client 30s
	timeout server 30s
`

// freePort finds a port free on 127.0.0.1 in namespace ns.
func freePort(t *testing.T, tbl *nsTable, ns string) uint16 {
	t.Helper()
	ln := listenInNS(t, tbl, ns, "127.0.0.1:0")
	defer ln.Close()
	return netip.MustParseAddrPort(ln.Addr().String()).Port()
}

// eventually retries a round trip until haproxy is up (bounded to 5s).
func eventually(t *testing.T, dial func() (net.Conn, error), msg string) (string, error) {
	t.Helper()
	var got string
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got, err = roundTrip(t, dial, msg); err == nil && got != "" {
			break
		}
	}
	return got, err
}

// targetInNewNS makes namespace blue with a reportServer on its loopback,
// and a decoy on the same address in the proxy's own namespace.
func targetInNewNS(t *testing.T) (string, *nsTable, *testServer) {
	skipUnlessRoot(t)
	blue := newTestNS(t)
	tbl := testNS(t, blue)
	target := serveOn(t, listenInNS(t, tbl, blue, "127.0.0.1:0"), reportServer)
	decoy(t, target.addr())
	return blue, tbl, target
}

// TestHAProxyInFront: HAProxy listens in namespace blue and relays with
// send-proxy-v2 (carrying NETNS=blue) to netns-proxy, whose server
// "*:PORT" in namespace "*" must be the server in blue.
func TestHAProxyInFront(t *testing.T) {
	blue, tbl, target := targetInNewNS(t)
	tport := netip.MustParseAddrPort(target.addr()).Port()
	r := startProxy(t, starConfig(fmt.Sprintf("*:%d", tport), blue))
	hport := freePort(t, tbl, blue)
	startHAProxy(t, haproxyDefaults+fmt.Sprintf(`
frontend f
	bind 127.0.0.1:%d namespace %s
	default_backend b
backend b
	server np %s send-proxy-v2
`, hport, blue, r.addr()))
	got, err := eventually(t, dialInNS(tbl, blue, fmt.Sprintf("127.0.0.1:%d", hport)), "hello")
	if got != "got:hello" {
		t.Fatalf("got %q, %v; want %q from the server in %s", got, err, "got:hello", blue)
	}
	r.log.waitLog(t, "client_ns="+blue)
	r.log.waitLog(t, "client=127.0.0.1:")
}

// TestHAProxyBehind: netns-proxy listens in blue and sends PROXY v2 with
// NETNS=blue to HAProxy, whose "server ... namespace *" must connect inside
// blue.
func TestHAProxyBehind(t *testing.T) {
	blue, tbl, target := targetInNewNS(t)
	hport := freePort(t, tbl, "")
	startHAProxy(t, haproxyDefaults+fmt.Sprintf(`
namespace_list
	namespace %s
frontend f
	bind 127.0.0.1:%d accept-proxy
	default_backend b
backend b
	server s %s namespace *
`, blue, hport, target.addr()))
	r := startProxy(t, config(fmt.Sprintf("namespace = %q", blue), `send_proxy = "v2"`,
		fmt.Sprintf(`address = "127.0.0.1:%d"`, hport)))
	got, err := eventually(t, dialInNS(tbl, blue, r.addr()), "hello")
	if got != "got:hello" {
		t.Fatalf("got %q, %v; want %q from the server in %s (\"root\" means HAProxy ignored our NETNS TLV)", got, err, "got:hello", blue)
	}
}
