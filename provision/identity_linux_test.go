package provision

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	xnetns "github.com/netns-daemon/netns-daemon/internal/netns"
	"github.com/netns-daemon/netns-daemon/internal/nstest"
)

// sleeper runs a process inside ns until the test ends.
func sleeper(t *testing.T, ns string) *os.Process {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns, "sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd.Process
}

func alive(p *os.Process) bool { return p.Signal(syscall.Signal(0)) == nil }

// forget drops the state and files of a namespace a test made stop
// refuse.
func forget(t *testing.T, name string) {
	t.Cleanup(func() {
		os.Remove(statePath(name))
		os.Remove(filepath.Join(StateDir, name+".lock"))
		os.RemoveAll(filepath.Join(EtcNetnsDir, name))
	})
}

func TestStopLeavesAForeignNamespaceAlone(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	s := seed(newName(), host)
	start(t, s)
	forget(t, s.Name)
	// Someone deletes it and makes another under the same name.
	nstest.IP(t, "netns", "del", s.Name)
	nstest.IP(t, "netns", "add", s.Name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", s.Name).Run() })
	p := sleeper(t, s.Name)
	for range 50 { // wait until the sleeper has entered the namespace
		if pids, _ := PIDsInside(s.Name); len(pids) > 0 {
			break
		}
		syscall.Nanosleep(&syscall.Timespec{Nsec: 10e6}, nil)
	}

	err := Stop(context.Background(), s.Name, Options{})
	if err == nil || !strings.Contains(err.Error(), "not the namespace") {
		t.Fatalf("stop: got %v; want a refusal naming the foreign namespace", err)
	}
	if !alive(p) {
		t.Error("stop signalled a process of the foreign namespace")
	}
	if _, err := xnetns.StatPath(NetnsPath(s.Name)); err != nil {
		t.Errorf("the foreign namespace is gone: %v", err)
	}
	if _, err := os.Stat(statePath(s.Name)); err != nil {
		t.Errorf("state not kept: %v", err)
	}
	if _, err := Start(context.Background(), seed(s.Name, host), Options{}); err == nil {
		t.Error("start over a foreign namespace with our state: got nil; want a refusal")
	}
}

func TestStopNeverFollowsASymlink(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	victim := nstest.NS(t, "ndv")
	p := sleeper(t, victim)
	s := seed(newName(), host)
	start(t, s)
	forget(t, s.Name)
	nstest.IP(t, "netns", "del", s.Name)
	if err := os.Symlink(NetnsPath(victim), NetnsPath(s.Name)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(NetnsPath(s.Name)) })

	if err := Stop(context.Background(), s.Name, Options{}); err == nil {
		t.Fatal("stop through a symlink: got nil; want a refusal")
	}
	if !alive(p) {
		t.Error("stop signalled a process in the symlink's target")
	}
	if fi, err := os.Lstat(NetnsPath(s.Name)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was touched: %v", err)
	}
	if _, err := xnetns.StatPath(NetnsPath(victim)); err != nil {
		t.Errorf("the symlink's target was unmounted: %v", err)
	}
	if _, err := Inspect(s.Name); err == nil {
		t.Error("status through a symlink: got nil; want an error")
	}
}

func TestTakenShimNameSurvivesAFailedStart(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	nstest.IP(t, "-n", host, "link", "add", "lan0", "type", "veth", "peer", "name", "lan0b")
	s := &Spec{Name: newName(), HostNetns: host,
		Inbound: &Iface{Kind: KindMacvlan, Parent: "lan0", Addresses: []string{"192.0.2.10/24"}, Hairpin: true}}
	s.Normalize()
	shim := hairpinName(s, s.Inbound)
	// Another namespace's shim, with its own host route.
	nstest.IP(t, "-n", host, "link", "add", "link", "lan0", "name", shim, "type", "macvlan", "mode", "bridge")
	nstest.IP(t, "-n", host, "link", "set", shim, "up")
	nstest.IP(t, "-n", host, "route", "add", "192.0.2.99/32", "dev", shim)
	before := nstest.IP(t, "-n", host, "-o", "link", "show", shim)

	_, err := Start(context.Background(), s, Options{})
	if err == nil || errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), shim) {
		t.Fatalf("start: got %v; want a provisioning error naming %q", err, shim)
	}
	if got := nstest.IP(t, "-n", host, "-o", "link", "show", shim); got != before {
		t.Errorf("the existing shim changed:\n%s\nwas:\n%s", got, before)
	}
	if got := nstest.IP(t, "-n", host, "route", "show", "192.0.2.99/32"); !strings.Contains(got, shim) {
		t.Errorf("the existing shim's route is gone: %q", got)
	}
	assertNothingLeft(t, s.Name, host, "lan0", "lan0b", shim)
}

func TestDerivedNameCollision(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	s := seed(newName(), host)
	s.Normalize()
	taken := s.Outbound.Peer // the derived name, already in use
	nstest.IP(t, "-n", host, "link", "add", taken, "type", "veth", "peer", "name", "other0")
	before := nstest.IP(t, "-n", host, "-o", "link", "show", taken)
	_, err := Start(context.Background(), seed(s.Name, host), Options{})
	if err == nil || !strings.Contains(err.Error(), taken) || !strings.Contains(err.Error(), "taken") {
		t.Fatalf("start: got %v; want an error saying %q is taken", err, taken)
	}
	if got := nstest.IP(t, "-n", host, "-o", "link", "show", taken); got != before {
		t.Errorf("%s changed:\n%s\nwas:\n%s", taken, got, before)
	}
	// Nothing was made before the check: no namespace was ever created.
	assertNothingLeft(t, s.Name, host, taken, "other0")
}

// A state file of the previous release (format 1) still stops cleanly.
func TestFormat1StateStops(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	s := seed(newName(), host)
	start(t, s)
	b, err := os.ReadFile("testdata/state-format1.json")
	if err != nil {
		t.Fatal(err)
	}
	fixture := strings.NewReplacer("NAME", s.Name, "HOST", host).Replace(string(b))
	if err := os.WriteFile(statePath(s.Name), []byte(fixture), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Stop(context.Background(), s.Name, Options{Wait: true}); err != nil {
		t.Fatalf("stop with a format-1 state: %v", err)
	}
	assertNothingLeft(t, s.Name, host)
}

func TestCorruptStateNamesTheFile(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	for name, body := range map[string]string{
		"truncated": `{"format":2,"spec":{"inbo`,
		"garbage":   "\x00\x01not json",
		"no spec":   `{"format":2}`,
		"future":    `{"format":9,"spec":{}}`,
		"bad kind":  `{"format":2,"spec":{},"records":[{"kind":"wormhole"}]}`,
		"null obj":  `{"format":2,"spec":{},"records":[{"kind":"netns","obj":null},null]}`,
		"host path": `{"format":2,"spec":{"host_netns":"../../proc/1/ns/net"},"records":[]}`,
		"ns path":   `{"format":2,"spec":{"netns_file":"/run/netns/../../proc/1/ns/net"},"records":[]}`,
	} {
		t.Run(name, func(t *testing.T) {
			n := newName()
			os.MkdirAll(StateDir, 0o755)
			os.WriteFile(statePath(n), []byte(body), 0o644)
			forget(t, n)
			err := Stop(context.Background(), n, Options{})
			if err == nil || !strings.Contains(err.Error(), statePath(n)) {
				t.Errorf("stop: got %v; want an error naming %s", err, statePath(n))
			}
		})
	}
}

// Into a namespace that exists (a container's, for the CNI plugin): start
// makes only what is inside, stop removes only that; the namespace and its
// processes stay.
func TestExistingNamespaceIsNeverMadeOrDeleted(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	ctr := nstest.NS(t, "ndc")
	p := sleeper(t, ctr)
	s := &Spec{Name: newName(), HostNetns: host, NetnsFile: NetnsPath(ctr),
		Outbound: &Iface{Addresses: []string{"10.2.0.5/24"}, Gateway: "10.2.0.1"}}
	start(t, s)
	if got := addrsOf(t, ctr, "out0"); len(got) != 1 || got[0] != "10.2.0.5/24" {
		t.Fatalf("out0 in the container: got %q; want [10.2.0.5/24]", got)
	}
	if err := Stop(context.Background(), s.Name, Options{Wait: true}); err != nil {
		t.Fatal(err)
	}
	if got := linkNames(t, ctr); len(got) != 1 || got[0] != "lo" {
		t.Errorf("links in the container after stop: got %q; want [lo]", got)
	}
	if !alive(p) {
		t.Error("stop ended a process in a namespace it did not make")
	}
	if _, err := xnetns.StatPath(NetnsPath(ctr)); err != nil {
		t.Errorf("the container's namespace is gone: %v", err)
	}
	assertNothingLeft(t, s.Name, host)
}

// A namespace mounted where the host cannot see it (from a sandboxed
// unit's private mount namespace) leaves only start's empty mount point
// file on the host: stop knows it by its inode and removes it, and nothing
// else.
func TestStopRemovesItsOwnPlaceholder(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	s := seed(newName(), host)
	start(t, s)
	if err := syscall.Unmount(NetnsPath(s.Name), syscall.MNT_DETACH); err != nil {
		t.Fatal(err)
	}
	if err := Stop(context.Background(), s.Name, Options{Wait: true}); err != nil {
		t.Fatalf("stop: %v", err)
	}
	assertNothingLeft(t, s.Name, host)

	// An empty file someone else put there is not ours: left alone.
	s = seed(newName(), host)
	start(t, s)
	forget(t, s.Name)
	nstest.IP(t, "netns", "del", s.Name)
	os.WriteFile(NetnsPath(s.Name), nil, 0o444)
	t.Cleanup(func() { os.Remove(NetnsPath(s.Name)) })
	if err := Stop(context.Background(), s.Name, Options{}); err == nil {
		t.Error("stop over another empty file: got nil; want a refusal")
	}
	if _, err := os.Lstat(NetnsPath(s.Name)); err != nil {
		t.Errorf("the other file was removed: %v", err)
	}
}

// A namespace made after ours was freed can get our nsfs inode number
// again; the cookie still tells it apart. Simulated by a record whose
// inode matches the foreign namespace and whose cookie is ours.
func TestNamespaceWithOurInodeButAnotherCookie(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	other := nstest.NS(t, "ndo")
	id, _ := xnetns.StatPath(NetnsPath(other))
	k := newKernel(&Spec{Name: other}, nil)
	defer k.close()
	r := &record{Kind: "netns", obj: nsObj{}, NS: &id, Cookie: 1, Done: true}
	if err := (nsObj{}).check(k, r); !errors.Is(err, errNotOurs) {
		t.Errorf("check with the inode but not the cookie: got %v; want errNotOurs", err)
	}
	r.Cookie, _ = cookieAt(NetnsPath(other))
	if err := (nsObj{}).check(k, r); err != nil {
		t.Errorf("check with inode and cookie: got %v; want nil", err)
	}
}
