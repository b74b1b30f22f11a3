package provision

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	xnetns "github.com/netns-daemon/netns-daemon/internal/netns"
	"github.com/netns-daemon/netns-daemon/internal/nstest"
	"github.com/vishvananda/netlink"
)

// seed is the seed topology: inbound veth with a host-side address,
// outbound veth with a gateway.
func seed(name, host string) *Spec {
	return &Spec{
		Name:      name,
		HostNetns: host,
		Inbound:   &Iface{Addresses: []string{"10.1.0.5/24", "fd00:1::5/64"}, PeerAddresses: []string{"10.1.0.1/24", "fd00:1::1/64"}},
		Outbound:  &Iface{Addresses: []string{"10.2.0.5/24", "fd00:2::5/64"}, Gateway: "10.2.0.1", Gateway6: "fd00:2::1"},
		Sysctl:    map[string]string{"net.ipv4.conf.out0.arp_notify": "1"},
		DNS:       DNS{Nameservers: []string{"10.2.0.1"}, Hosts: map[string]string{"db.internal": "10.9.0.7"}},
	}
}

// start provisions s and stops it when the test ends.
func start(t *testing.T, s *Spec) {
	t.Helper()
	if _, err := Start(context.Background(), s, Options{Log: func(m string) { t.Log(m) }}); err != nil {
		t.Fatalf("start %q: %v", s.Name, err)
	}
	t.Cleanup(func() { Stop(context.Background(), s.Name, Options{Wait: true}) })
}

func newName() string { return nstest.Name("nd") }

// handleIn opens a netlink handle inside a named namespace; the caller
// closes it (an open socket keeps the namespace, and its veths, alive).
func handleIn(t *testing.T, ns string) *netlink.Handle {
	t.Helper()
	nsh, err := xnetns.Open(NetnsPath(ns))
	if err != nil {
		t.Fatalf("opening namespace %q: %v", ns, err)
	}
	defer nsh.Close()
	h, err := newHandle(nsh)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// addrsOf lists dev's global addresses in ns, as CIDR strings.
func addrsOf(t *testing.T, ns, dev string) []string {
	t.Helper()
	h := handleIn(t, ns)
	defer h.Close()
	l, err := h.LinkByName(dev)
	if err != nil {
		t.Fatalf("link %q in %q: %v", dev, ns, err)
	}
	as, err := retryDump(func() ([]netlink.Addr, error) { return h.AddrList(l, netlink.FAMILY_ALL) })
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range as {
		if !a.IP.IsLinkLocalUnicast() {
			out = append(out, a.IPNet.String())
		}
	}
	slices.Sort(out)
	return out
}

// linkNames lists the links of ns.
func linkNames(t *testing.T, ns string) []string {
	t.Helper()
	h := handleIn(t, ns)
	defer h.Close()
	ls, err := retryDump(h.LinkList)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range ls {
		out = append(out, l.Attrs().Name)
	}
	slices.Sort(out)
	return out
}

// assertNothingLeft checks that no trace of name remains: namespace file,
// mount, state, /etc/netns dir, and (once the kernel has reaped them) no
// links in the host namespace but want.
func assertNothingLeft(t *testing.T, name, host string, want ...string) {
	t.Helper()
	for _, p := range []string{NetnsPath(name), statePath(name), filepath.Join(EtcNetnsDir, name)} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s still exists", p)
		}
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mi), NetnsPath(name)+" ") {
		t.Errorf("%s still mounted", NetnsPath(name))
	}
	if host == "" {
		return
	}
	want = append(want, "lo")
	slices.Sort(want)
	var got []string
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if got = linkNames(t, host); slices.Equal(got, want) {
			return
		}
	}
	t.Errorf("links in host namespace: got %q; want %q", got, want)
}

// dialFrom connects from inside ns to addr and exchanges a line with a
// server that echoes it, proving the path works both ways.
func echoServer(t *testing.T, ns, addr string) net.Listener {
	t.Helper()
	ln := nstest.Listen(t, ns, addr)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 64)
				n, _ := c.Read(buf)
				c.Write(buf[:n])
			}()
		}
	}()
	return ln
}

func roundTrip(t *testing.T, fromNS, addr string) {
	t.Helper()
	c, err := nstest.Dial(t, fromNS, addr)
	if err != nil {
		t.Fatalf("dial %s from %q: %v", addr, fromNS, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := c.Read(buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo from %s: got %q, %v; want \"ping\"", addr, buf, err)
	}
}

// readSysctl reads a sysctl inside ns.
func readSysctl(t *testing.T, ns, key string) string {
	t.Helper()
	var v []byte
	var err error
	nstest.Do(t, ns, func() { v, err = os.ReadFile(sysctlPath(key)) })
	if err != nil {
		t.Fatalf("reading %s in %q: %v", key, ns, err)
	}
	return strings.TrimSpace(string(v))
}
