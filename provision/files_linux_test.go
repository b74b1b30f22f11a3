package provision

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netns-daemon/netns-daemon/internal/nstest"
)

// dnsSpec is a small namespace with both /etc/netns files.
func dnsSpec(name, host string) *Spec {
	return &Spec{Name: name, HostNetns: host,
		Outbound: &Iface{Addresses: []string{"10.2.0.5/24"}, Gateway: "10.2.0.1"},
		DNS:      DNS{Nameservers: []string{"10.2.0.1"}, Hosts: map[string]string{"db.internal": "10.9.0.7"}}}
}

func etcPath(name string, file ...string) string {
	return filepath.Join(append([]string{EtcNetnsDir, name}, file...)...)
}

// An operator's own resolv.conf in /etc/netns/NAME is never overwritten:
// start refuses (exit 2, naming the file) before anything is made.
func TestStartRefusesToClobberAnOperatorsFile(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	name := newName()
	os.MkdirAll(etcPath(name), 0o755)
	t.Cleanup(func() { os.RemoveAll(etcPath(name)) })
	mine := "nameserver 192.0.2.53 # the operator's\n"
	os.WriteFile(etcPath(name, "resolv.conf"), []byte(mine), 0o644)

	_, err := Start(context.Background(), dnsSpec(name, host), Options{})
	if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), etcPath(name, "resolv.conf")) {
		t.Fatalf("start: got %v; want ErrInvalidSpec naming %s", err, etcPath(name, "resolv.conf"))
	}
	if b, _ := os.ReadFile(etcPath(name, "resolv.conf")); string(b) != mine {
		t.Errorf("the operator's resolv.conf changed: %q", b)
	}
	if _, err := os.Lstat(NetnsPath(name)); err == nil {
		t.Error("a namespace was made before the refusal")
	}
	if _, err := os.Lstat(statePath(name)); err == nil {
		t.Error("a state file was written before the refusal")
	}
}

// A symlink planted at every path start writes in /etc/netns/NAME is
// refused, never written through; its target is untouched.
func TestEtcNetnsSymlinksAreNeverFollowed(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	decoy := t.TempDir()
	os.WriteFile(filepath.Join(decoy, "resolv.conf"), []byte("decoy\n"), 0o644)
	for _, plant := range []string{"dir", "resolv.conf", "hosts"} {
		t.Run(plant, func(t *testing.T) {
			name := newName()
			t.Cleanup(func() { os.RemoveAll(etcPath(name)) })
			if plant == "dir" {
				os.Symlink(decoy, etcPath(name))
			} else {
				os.MkdirAll(etcPath(name), 0o755)
				os.Symlink(filepath.Join(decoy, "resolv.conf"), etcPath(name, plant))
			}
			_, err := Start(context.Background(), dnsSpec(name, host), Options{})
			t.Cleanup(func() { Stop(context.Background(), name, Options{}) })
			if err == nil {
				t.Fatalf("start with a symlink at %s: got nil; want a refusal", plant)
			}
			if b, _ := os.ReadFile(filepath.Join(decoy, "resolv.conf")); string(b) != "decoy\n" {
				t.Errorf("written through the symlink: %q", b)
			}
			if ents, _ := os.ReadDir(decoy); len(ents) != 1 {
				t.Errorf("files appeared in the symlink's target: %v", ents)
			}
			assertNothingLeftButEtc(t, name)
		})
	}
}

func assertNothingLeftButEtc(t *testing.T, name string) {
	t.Helper()
	for _, p := range []string{NetnsPath(name), statePath(name), filepath.Join(StateDir, name+".lock")} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s left behind", p)
		}
	}
}

// Stop removes only what still holds what start wrote, and the directory
// only if start made it and it is empty: an operator's edit and an
// operator's own file stay.
func TestStopLeavesWhatTheOperatorChangedOrAdded(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	name := newName()
	start(t, dnsSpec(name, host))
	t.Cleanup(func() { os.RemoveAll(etcPath(name)) })
	os.WriteFile(etcPath(name, "resolv.conf"), []byte("nameserver 192.0.2.53 # edited\n"), 0o644)
	os.WriteFile(etcPath(name, "nsswitch.conf"), []byte("hosts: files\n"), 0o644)
	if err := Stop(context.Background(), name, Options{}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(etcPath(name, "resolv.conf")); err != nil || !strings.Contains(string(b), "edited") {
		t.Errorf("the edited resolv.conf: %q, %v; want it kept", b, err)
	}
	if _, err := os.Stat(etcPath(name, "nsswitch.conf")); err != nil {
		t.Errorf("the operator's nsswitch.conf: %v; want it kept", err)
	}
	if _, err := os.Stat(etcPath(name, "hosts")); !os.IsNotExist(err) {
		t.Errorf("hosts (unchanged since start): %v; want it removed", err)
	}
}

// State files: a symlink at the state or lock path is never followed; a
// leftover temporary file is removed by the next start; a failed start
// leaves no lock file.
func TestStateFilesAreNeverFollowed(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	decoy := filepath.Join(t.TempDir(), "shadow")
	os.WriteFile(decoy, []byte("root:secret\n"), 0o600)
	for _, plant := range []string{".json", ".lock"} {
		t.Run(plant, func(t *testing.T) {
			name := newName()
			link := filepath.Join(StateDir, name+plant)
			os.Symlink(decoy, link)
			t.Cleanup(func() { os.Remove(link) })
			if _, err := Start(context.Background(), seed(name, host), Options{}); err == nil {
				Stop(context.Background(), name, Options{})
				t.Fatalf("start with a symlink at %s: got nil; want a refusal", link)
			}
			if b, _ := os.ReadFile(decoy); string(b) != "root:secret\n" {
				t.Errorf("the symlink's target changed: %q", b)
			}
			if _, err := os.Lstat(NetnsPath(name)); err == nil {
				t.Error("a namespace was made")
			}
		})
	}
	t.Run("leftover tmp and lock", func(t *testing.T) {
		name := newName()
		tmp := filepath.Join(StateDir, "."+name+".json.tmp-leftover")
		os.WriteFile(tmp, []byte("{"), 0o644)
		s := seed(name, host)
		s.Outbound.Peer = "taken-" + name[2:] // fails: no such bridge below
		s.Outbound.Bridge = "nobr0"
		if _, err := Start(context.Background(), s, Options{}); err == nil {
			t.Fatal("start: got nil; want a failure")
		}
		if _, err := os.Lstat(tmp); !os.IsNotExist(err) {
			t.Errorf("leftover %s: %v; want it removed", tmp, err)
		}
		if _, err := os.Lstat(filepath.Join(StateDir, name+".lock")); !os.IsNotExist(err) {
			t.Errorf("lock file after a failed start: %v; want none", err)
		}
	})
}

// stop --force with an unreadable state removes the namespace (a real
// nsfs mount at /run/netns/NAME) and start's files, and nothing else.
func TestForceStopWithCorruptState(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	name := newName()
	start(t, dnsSpec(name, host))
	os.WriteFile(statePath(name), []byte("{garbage"), 0o644)
	if err := Stop(context.Background(), name, Options{}); !errors.Is(err, ErrCorruptState) {
		t.Fatalf("stop: got %v; want ErrCorruptState", err)
	}
	if err := Stop(context.Background(), name, Options{Force: true}); err != nil {
		t.Fatalf("stop --force: %v", err)
	}
	assertNothingLeft(t, name, host)
}
