package bintest

import (
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/netns-daemon/netns-daemon/internal/nstest"
)

// HAProxy returns haproxy's path, or skips the test.
func HAProxy(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"haproxy", "/usr/sbin/haproxy"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Skip("needs haproxy (Debian package haproxy)")
	return ""
}

// Get asks addr for / from inside namespace ns, retrying for up to 8s
// while the daemon comes up, and returns the body. It dials by hand: an
// http.Transport dials on goroutines outside the namespace.
func Get(t testing.TB, ns, addr string) string {
	t.Helper()
	var last error
	for deadline := time.Now().Add(8 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		c, err := nstest.Dial(t, ns, addr)
		if last = err; err != nil {
			continue
		}
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		_, _ = io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
		b, err := io.ReadAll(c)
		c.Close()
		head, body, ok := strings.Cut(string(b), "\r\n\r\n")
		if err == nil && ok && strings.Contains(head, " 200 ") {
			return body
		}
		last = fmt.Errorf("reply %q: %w", b, err)
	}
	t.Fatalf("GET / from %s to %s: %v", ns, addr, last)
	return ""
}
