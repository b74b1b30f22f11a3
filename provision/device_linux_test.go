package provision

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/netns-daemon/netns-daemon/internal/nstest"
)

// physDevice makes a device in host with its own MTU, MAC, addresses, a
// route and up state, as a NIC an operator moves in would have.
func physDevice(t *testing.T, host, name string) {
	t.Helper()
	nstest.IP(t, "-n", host, "link", "add", name, "mtu", "1450", "address", "02:00:00:aa:bb:cc", "type", "veth", "peer", "name", name+"b")
	nstest.IP(t, "-n", host, "addr", "add", "10.7.0.2/24", "dev", name)
	nstest.IP(t, "-n", host, "addr", "add", "fd00:7::2/64", "dev", name, "nodad")
	nstest.IP(t, "-n", host, "link", "set", name, "up")
	nstest.IP(t, "-n", host, "link", "set", name+"b", "up")
	nstest.IP(t, "-n", host, "route", "add", "10.77.0.0/16", "via", "10.7.0.1", "dev", name)
}

// deviceLooks is everything an operator would compare: name, MTU, MAC,
// flags, global addresses, routes through it.
func deviceLooks(t *testing.T, host, name string) string {
	t.Helper()
	link := nstest.IP(t, "-n", host, "-o", "link", "show", name)
	link = link[strings.Index(link, ":")+1:] // drop the ifindex, which may change
	link = strings.Join(strings.Fields(link), " ")
	addrs := nstest.IP(t, "-n", host, "-o", "addr", "show", "dev", name, "scope", "global")
	var a []string
	for _, l := range strings.Split(strings.TrimSpace(addrs), "\n") {
		if f := strings.Fields(l); len(f) > 3 {
			a = append(a, f[3])
		}
	}
	routes := nstest.IP(t, "-n", host, "route", "show", "dev", name)
	return fmt.Sprintf("%s\naddrs %v\nroutes %s", link, a, strings.TrimSpace(routes))
}

func deviceSpec(name, host, dev string) *Spec {
	return &Spec{Name: name, HostNetns: host,
		Outbound: &Iface{Kind: KindDevice, Parent: dev, Addresses: []string{"10.4.0.5/24"}, Gateway: "10.4.0.1",
			MTU: 1400, MAC: "02:00:00:11:22:33"}}
}

func TestMovedDeviceComesBackExactly(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	physDevice(t, host, "phys0")
	want := deviceLooks(t, host, "phys0")

	s := deviceSpec(newName(), host, "phys0")
	start(t, s)
	inside := nstest.IP(t, "-n", s.Name, "-o", "link", "show", "out0")
	if !strings.Contains(inside, "mtu 1400") || !strings.Contains(inside, "02:00:00:11:22:33") {
		t.Errorf("out0 inside: got %q; want mtu 1400 and mac 02:00:00:11:22:33", inside)
	}
	if err := Stop(context.Background(), s.Name, Options{}); err != nil {
		t.Fatal(err)
	}
	if got := deviceLooks(t, host, "phys0"); got != want {
		t.Errorf("after stop:\n%s\nwant:\n%s", got, want)
	}

	// A start that fails after the move gives it back the same way.
	forced := errors.New("forced failure")
	s = deviceSpec(newName(), host, "phys0")
	_, err := Start(context.Background(), s, Options{beforeCreate: func(key string) error {
		if strings.HasPrefix(key, "sysctl/") {
			return forced
		}
		return nil
	}})
	if !errors.Is(err, forced) {
		t.Fatalf("start: got %v; want the forced failure", err)
	}
	if got := deviceLooks(t, host, "phys0"); got != want {
		t.Errorf("after a failed start:\n%s\nwant:\n%s", got, want)
	}
	assertNothingLeft(t, s.Name, host, "phys0", "phys0b")
}

// Stop killed after the device went back, then stop again: the device is
// found where it is and the second stop completes.
func TestStopKilledAfterMoveBack(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	physDevice(t, host, "phys1")
	want := deviceLooks(t, host, "phys1")
	s := deviceSpec(newName(), host, "phys1")
	start(t, s)
	pausedHelper(t, "ND_TEST_PAUSED_STOP="+s.Name)
	if err := Stop(context.Background(), s.Name, Options{}); err != nil {
		t.Fatalf("second stop: %v", err)
	}
	if got := deviceLooks(t, host, "phys1"); got != want {
		t.Errorf("after two stops:\n%s\nwant:\n%s", got, want)
	}
	assertNothingLeft(t, s.Name, host, "phys1", "phys1b")
}

// With the host namespace gone, stop refuses rather than let the kernel
// hand the device to the initial namespace; --force does that, and says so.
func TestStopRefusesWhenTheHostIsGone(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	physDevice(t, host, "phys2")
	s := deviceSpec(newName(), host, "phys2")
	start(t, s)
	nstest.IP(t, "netns", "del", host)
	err := Stop(context.Background(), s.Name, Options{})
	if err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("stop: got %v; want a refusal that mentions --force", err)
	}
	if _, err := os.Stat(statePath(s.Name)); err != nil {
		t.Errorf("state not kept: %v", err)
	}
	// --force would move the device into the machine's own namespace:
	// tests never do that.
	os.Remove(statePath(s.Name))
	nstest.IP(t, "netns", "del", s.Name)
}
