package provision

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/netns-daemon/netns-daemon/internal/nstest"
)

// TestAdoptInbound: an inbound interface that exists (an earlier CNI
// plugin's) is found, loses its default route while provisioned, gets it
// back at stop, and is never deleted.
func TestAdoptInbound(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host, ctr := nstest.NS(t, "ndh"), nstest.NS(t, "ndc")
	nstest.Veth(t, host, "h0", "10.5.0.1/24", ctr, "eth0", "10.5.0.5/24")
	nstest.IP(t, "-n", ctr, "route", "add", "default", "via", "10.5.0.1")
	name := newName()
	s := &Spec{Name: name, HostNetns: host, NetnsFile: NetnsPath(ctr),
		Inbound: &Iface{Kind: KindExisting, Name: "eth0", Addresses: []string{"10.6.0.5/24"}}}
	if _, err := Start(context.Background(), s, Options{Log: func(m string) { t.Log(m) }}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Stop(context.Background(), name, Options{}) })
	if got := nstest.IP(t, "-n", ctr, "route", "show", "default"); got != "" {
		t.Errorf("default route while provisioned: %q; want none", got)
	}
	if got := readSysctl(t, ctr, "net.ipv4.conf.eth0.rp_filter"); got != "2" {
		t.Errorf("eth0 rp_filter: got %s; want 2", got)
	}
	st, err := ReadState(name)
	if err != nil || st == nil {
		t.Fatalf("state: %v", err)
	}
	nstest.IP(t, "-n", ctr, "route", "add", "default", "via", "10.5.0.1")
	if d := Drift(st); len(d) != 1 || d[0].Object != "unroute/ns/eth0" || !strings.Contains(d[0].What, "is back") {
		t.Errorf("drift with the default route back: %+v", d)
	}
	nstest.IP(t, "-n", ctr, "route", "del", "default")
	if err := Stop(context.Background(), name, Options{}); err != nil {
		t.Fatal(err)
	}
	if got := nstest.IP(t, "-n", ctr, "route", "show", "default"); !strings.Contains(got, "via 10.5.0.1 dev eth0") {
		t.Errorf("default route after stop: %q; want it back", got)
	}
	if got := addrsOf(t, ctr, "eth0"); strings.Join(got, ",") != "10.5.0.5/24" {
		t.Errorf("eth0 after stop: %v; want only its own address (ours removed, the link kept)", got)
	}
	if _, err := os.Lstat(statePath(name)); err == nil {
		t.Errorf("state left after stop")
	}
}

// TestStopDetached: with the container's namespace unreachable, stop
// removes the host side by identity (the veth peer, which takes the
// inside end along) and touches nothing inside.
func TestStopDetached(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host, ctr := nstest.NS(t, "ndh"), nstest.NS(t, "ndc")
	name := newName()
	s := &Spec{Name: name, HostNetns: host, NetnsFile: NetnsPath(ctr),
		Outbound: &Iface{Addresses: []string{"10.7.0.5/24"}, Gateway: "10.7.0.1"},
		Sysctl:   map[string]string{"net.ipv4.conf.out0.arp_notify": "1"}}
	start(t, s)
	allBefore := readSysctl(t, ctr, "net.ipv4.conf.all.rp_filter")
	if err := StopDetached(context.Background(), name, Options{}); err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, name, host)
	if got := linkNames(t, ctr); strings.Join(got, ",") != "lo" {
		t.Errorf("container links: %v; want lo (out0 went with its peer)", got)
	}
	if got := readSysctl(t, ctr, "net.ipv4.conf.all.rp_filter"); got != allBefore {
		t.Errorf("conf.all.rp_filter: %s; want %s untouched", got, allBefore)
	}
	if err := StopDetached(context.Background(), name, Options{}); err != nil {
		t.Errorf("again: %v", err)
	}
}
