// Package nstest gives root tests throwaway network namespaces with random
// names, removed on every path. Tests never touch the machine's own
// network: a namespace made here stands in for the host.
package nstest

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/netns-daemon/netns-daemon/internal/netns"
)

// SkipUnlessRoot skips tests that need CAP_NET_ADMIN and CAP_SYS_ADMIN.
func SkipUnlessRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip from iproute2 (the tests use it to build their own topology)")
	}
}

// Name returns a unique name with prefix, short enough for derived
// interface names (prefix + 6 hex).
func Name(prefix string) string {
	b := make([]byte, 3)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// NS creates a throwaway named namespace with loopback up and deletes it
// when the test ends.
func NS(t testing.TB, prefix string) string {
	t.Helper()
	name := Name(prefix)
	IP(t, "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	IP(t, "-n", name, "link", "set", "lo", "up")
	return name
}

// IP runs ip(8) and fails the test on error.
func IP(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Sh runs a shell command inside namespace ns ("" = the test's own).
func Sh(t testing.TB, ns, script string) string {
	t.Helper()
	args := []string{"sh", "-c", script}
	if ns != "" {
		args = append([]string{"ip", "netns", "exec", ns}, args...)
	}
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Veth links namespace a (name an, address aa) with b (bn, ba); addresses
// may be empty.
func Veth(t testing.TB, a, an, aa, b, bn, ba string) {
	t.Helper()
	IP(t, "-n", a, "link", "add", an, "type", "veth", "peer", "name", bn, "netns", b)
	for _, x := range [][3]string{{a, an, aa}, {b, bn, ba}} {
		if x[2] != "" {
			IP(t, "-n", x[0], "addr", "add", x[2], "dev", x[1], "nodad")
		}
		IP(t, "-n", x[0], "link", "set", x[1], "up")
	}
}

// Do runs fn on a thread inside namespace ns. Sockets made in fn keep the
// namespace after it returns.
func Do(t testing.TB, ns string, fn func()) {
	t.Helper()
	h, err := netns.Open("/run/netns/" + ns)
	if err != nil {
		t.Fatalf("opening namespace %q: %v", ns, err)
	}
	defer h.Close()
	if err := netns.Do(h, func() error { fn(); return nil }); err != nil {
		t.Fatalf("in namespace %q: %v", ns, err)
	}
}

// Listen opens a TCP listener inside ns.
func Listen(t testing.TB, ns, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	var err error
	Do(t, ns, func() { ln, err = net.Listen("tcp", addr) })
	if err != nil {
		t.Fatalf("listening on %s in %q: %v", addr, ns, err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// Dial connects from inside ns.
func Dial(t testing.TB, ns, addr string) (net.Conn, error) {
	t.Helper()
	var c net.Conn
	var err error
	Do(t, ns, func() { c, err = net.DialTimeout("tcp", addr, 3e9) })
	return c, err
}
