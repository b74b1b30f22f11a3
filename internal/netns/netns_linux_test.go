package netns

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func throwaway(t *testing.T) (string, Handle) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces")
	}
	b := make([]byte, 3)
	rand.Read(b)
	name := "nst" + hex.EncodeToString(b)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	h, err := Open("/run/netns/" + name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return name, h
}

func TestDoEntersAndReturns(t *testing.T) {
	_, h := throwaway(t)
	self, err := Current()
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	if self.ID() == h.ID() {
		t.Fatal("throwaway namespace has the test's identity")
	}
	var inside ID
	if err := Do(h, func() error {
		c, err := Current()
		inside = c.ID()
		c.Close()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if inside != h.ID() {
		t.Errorf("inside Do: namespace %v; want %v", inside, h.ID())
	}
	after, _ := Current()
	defer after.Close()
	if after.ID() != self.ID() {
		t.Errorf("after Do: namespace %v; want %v", after.ID(), self.ID())
	}
}

func TestOpenRefusesSymlinksAndPlainFiles(t *testing.T) {
	name, _ := throwaway(t)
	dir := t.TempDir()
	link := filepath.Join(dir, "link")
	os.Symlink("/run/netns/"+name, link)
	if _, err := Open(link); !errors.Is(err, ErrNotNamespace) {
		t.Errorf("Open(symlink): %v; want ErrNotNamespace", err)
	}
	plain := filepath.Join(dir, "plain")
	os.WriteFile(plain, nil, 0o600)
	if _, err := Open(plain); !errors.Is(err, ErrNotNamespace) {
		t.Errorf("Open(plain file): %v; want ErrNotNamespace", err)
	}
	if _, err := Open("/proc/self/ns/mnt"); !errors.Is(err, ErrNotNamespace) {
		t.Errorf("Open(mount namespace): %v; want ErrNotNamespace", err)
	}
}

func TestSocketInIsBornInside(t *testing.T) {
	name, h := throwaway(t)
	exec.Command("ip", "-n", name, "link", "set", "lo", "up").Run()
	home, err := Current()
	if err != nil {
		t.Fatal(err)
	}
	defer home.Close()
	var ln net.Listener
	err = SocketIn(h, home, func(ctl Control) error {
		var err error
		ln, err = (&net.ListenConfig{Control: ctl}).Listen(context.Background(), "tcp", "127.0.0.1:0")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// Born inside: reachable from the throwaway namespace, not from ours.
	var derr error
	Do(h, func() error {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err == nil {
			c.Close()
		}
		derr = err
		return nil
	})
	if derr != nil {
		t.Fatalf("dialing the listener from inside: %v", derr)
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Errorf("listener reachable from the test's own namespace: it was not born inside")
	}
	now, _ := Current()
	defer now.Close()
	if now.ID() != home.ID() {
		t.Errorf("after SocketIn the thread is in %v; want %v", now.ID(), home.ID())
	}
}
