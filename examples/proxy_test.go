package examples

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netns-daemon/netns-daemon/internal/bintest"
	"github.com/netns-daemon/netns-daemon/internal/nstest"
)

// lockedBuf is a writer the test can read while the daemon writes.
type lockedBuf struct {
	ch chan struct{}
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.ch <- struct{}{}
	defer func() { <-l.ch }()
	return l.b.Write(p)
}

func (l *lockedBuf) has(s string) bool {
	l.ch <- struct{}{}
	defer func() { <-l.ch }()
	return strings.Contains(l.b.String(), s)
}

// TestProxyInNamespace runs examples/proxy/in-namespace.toml the way
// netns-proxy@.service does (netns-daemon-start --proxy, here joining
// a throwaway namespace): the PID it starts serves, reloads on SIGHUP and
// stops on SIGTERM with nothing left behind.
func TestProxyInNamespace(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	ns := nstest.NS(t, "npx")
	echo := nstest.Listen(t, ns, "127.0.0.1:9000")
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	cmd := exec.Command(filepath.Join(bintest.Dir(t), "netns-daemon-start"), "--join", "--proxy", "proxy/in-namespace.toml", ns)
	out := &lockedBuf{ch: make(chan struct{}, 1)}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second // never hang on a pipe held by a leftover worker
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("output:\n%s", out.b.String())
		}
	})
	waitOut := func(s string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if out.has(s) {
				return
			}
		}
		t.Fatalf("no %q in the output", s)
	}
	echoOnce := func() {
		t.Helper()
		c, err := nstest.Dial(t, ns, "127.0.0.1:8080")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "ping")
		b := make([]byte, 4)
		if _, err := io.ReadFull(c, b); err != nil || string(b) != "ping" {
			t.Fatalf("echo through the proxy: %q, %v", b, err)
		}
	}
	waitOut("msg=\"worker ready\"")
	echoOnce()
	cmd.Process.Signal(syscall.SIGHUP) // the PID netns-daemon-start had is the master
	waitOut("msg=reloaded")
	echoOnce()
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v; want 0", err)
	}
	if pids := procsIn(t, ns); len(pids) > 0 {
		t.Errorf("processes left in namespace %s: %v", ns, pids)
	}
}

// procsIn lists processes whose network namespace is ns.
func procsIn(t *testing.T, ns string) []string {
	t.Helper()
	want, err := os.Stat("/run/netns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	dirs, _ := filepath.Glob("/proc/[0-9]*/ns/net")
	for _, d := range dirs {
		if st, err := os.Stat(d); err == nil && os.SameFile(st, want) {
			out = append(out, d)
		}
	}
	return out
}
