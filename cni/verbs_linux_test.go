package cni

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// versions are the spec versions skel negotiates that have results with
// interfaces (0.1.0 and 0.2.0 results list only addresses: see
// TestOldVersions).
var versions = []string{"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}

func outboundConf(v, net string) string {
	return fmt.Sprintf(`{"cniVersion":%q,"name":%q,"type":"netns-daemon-cni","role":"outbound",
		"addresses":["10.20.0.5/24","fd00:20::5/64"],"gateway":"10.20.0.1","gateway6":"fd00:20::1",
		"routes":[{"to":"10.99.0.0/16","via":"10.20.0.1"}],"mtu":1400,
		"sysctl":{"net.ipv4.conf.out0.arp_notify":"1"},"dns":{"nameservers":["10.20.0.53"],"search":["svc.test"]}}`, v, net)
}

func inboundConf(v, net string) string {
	return fmt.Sprintf(`{"cniVersion":%q,"name":%q,"type":"netns-daemon-cni","role":"inbound",
		"addresses":["10.10.0.5/24"],"peer_addresses":["10.10.0.1/24"],"mac":"02:00:00:00:10:05"}`, v, net)
}

// TestAddCheckDelDel is the plugins' pattern for every version: ADD, look
// at the kernel and the result, CHECK, DEL, DEL again.
func TestAddCheckDelDel(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			e := newEnv(t)
			in := e.call("ADD", "in0", inboundConf(v, "cnitest-in"))
			out := e.call("ADD", "out0", outboundConf(v, "cnitest-out"))

			allBefore := sysctlIn(t, e.ctr, "net.ipv4.conf.all.rp_filter")
			inRes, outRes := in.ok(t), out.ok(t)
			rin, rout := parseResult(t, inRes), parseResult(t, outRes)
			if rout.CNIVersion != v {
				t.Errorf("cniVersion: got %q; want %q", rout.CNIVersion, v)
			}
			assertResults(t, e, rin, rout)
			assertKernel(t, e, rin)

			if v >= "0.4.0" {
				check := func(c call, prev string) call { c.cmd, c.conf = "CHECK", withPrev(t, c.conf, prev); return c }
				check(in, inRes).ok(t)
				changed := check(in, inRes)
				changed.conf = strings.Replace(changed.conf, "10.10.0.5/24", "10.10.0.6/24", 1)
				if msg := changed.fails(t, 7); !strings.Contains(msg, "addresses = 10.10.0.6/24") {
					t.Errorf("CHECK with a changed address: got %q; want it named", msg)
				}
				chk := check(out, outRes)
				chk.ok(t)
				// drift: the default route gone is what CHECK reports
				ipIn(t, e.ctr, "route", "del", "default", "via", "10.20.0.1")
				if msg := chk.fails(t, 999); !strings.Contains(msg, "route/ns/out0/0.0.0.0/0/10.20.0.1: missing") {
					t.Errorf("CHECK after removing the default route: got %q; want it named", msg)
				}
			}
			for _, c := range []call{in, out} {
				c.cmd = "DEL"
				c.ok(t)
				c.ok(t)
			}
			e.assertClean(t, attachment{Network: "cnitest-in", ContainerID: e.id, IfName: "in0"})
			e.assertClean(t, attachment{Network: "cnitest-out", ContainerID: e.id, IfName: "out0"})
			if got := sysctlIn(t, e.ctr, "net.ipv4.conf.all.rp_filter"); got != allBefore {
				t.Errorf("conf.all.rp_filter after DEL: got %s; want %s as before ADD", got, allBefore)
			}
		})
	}
}

// assertResults checks the results of the inbound and outbound ADD.
func assertResults(t *testing.T, e *env, rin, rout result) {
	t.Helper()
	for _, r := range []result{rin, rout} {
		if len(r.Interfaces) != 2 || r.Interfaces[1].Sandbox != "/run/netns/"+e.ctr || r.Interfaces[0].Sandbox != "" {
			t.Fatalf("interfaces: got %+v; want the host peer, then the sandbox interface", r.Interfaces)
		}
		for _, ifc := range r.Interfaces {
			if ifc.Mac == "" {
				t.Errorf("interface %q has no mac", ifc.Name)
			}
		}
		for _, ip := range r.IPs {
			if ip.Interface == nil || *ip.Interface != 1 {
				t.Errorf("ips[%s].interface: got %v; want 1", ip.Address, ip.Interface)
			}
		}
	}
	if got := rin.Interfaces[1].Mac; got != "02:00:00:00:10:05" {
		t.Errorf("inbound mac: got %q; want the configured one", got)
	}
	if got := ipIn(t, e.ctr, "-o", "link", "show", "in0"); !strings.Contains(got, "02:00:00:00:10:05") {
		t.Errorf("in0: got %q; want mac 02:00:00:00:10:05", got)
	}
	if len(rout.IPs) != 2 || rout.IPs[0].Address != "10.20.0.5/24" || rout.IPs[0].Gateway != "10.20.0.1" {
		t.Errorf("outbound ips: got %+v", rout.IPs)
	}
	var dsts []string
	for _, r := range rout.Routes {
		dsts = append(dsts, r.Dst+" via "+r.GW)
	}
	if want := []string{"10.99.0.0/16 via 10.20.0.1", "0.0.0.0/0 via 10.20.0.1", "::/0 via fd00:20::1"}; !slices.Equal(dsts, want) {
		t.Errorf("routes: got %v; want %v", dsts, want)
	}
	if len(rout.DNS.Nameservers) != 1 || rout.DNS.Nameservers[0] != "10.20.0.53" {
		t.Errorf("dns: got %+v; want nameserver 10.20.0.53", rout.DNS)
	}
}

// assertKernel checks the container and host namespaces after both ADDs.
func assertKernel(t *testing.T, e *env, rin result) {
	t.Helper()
	// the kernel: the only default routes via out0, rp_filter, sysctl, MTU
	if got := defaults(t, e.ctr); len(got) != 2 || !strings.Contains(got[0], "via 10.20.0.1 dev out0") || !strings.Contains(got[1], "via fd00:20::1 dev out0") {
		t.Errorf("default routes: got %q; want one each via out0", got)
	}
	if got := ipIn(t, e.ctr, "-br", "addr", "show", "in0"); !strings.Contains(got, "10.10.0.5/24") {
		t.Errorf("in0: got %q; want 10.10.0.5/24", got)
	}
	if got := ipIn(t, e.ctr, "-o", "link", "show", "out0"); !strings.Contains(got, "mtu 1400") {
		t.Errorf("out0: got %q; want mtu 1400", got)
	}
	for key, want := range map[string]string{"net.ipv4.conf.in0.rp_filter": "2", "net.ipv4.conf.out0.rp_filter": "1", "net.ipv4.conf.out0.arp_notify": "1"} {
		if got := sysctlIn(t, e.ctr, key); got != want {
			t.Errorf("%s: got %s; want %s", key, got, want)
		}
	}
	if got := ipIn(t, e.host, "-br", "addr", "show", rin.Interfaces[0].Name); !strings.Contains(got, "10.10.0.1/24") {
		t.Errorf("inbound peer: got %q; want 10.10.0.1/24", got)
	}
	if _, err := os.Stat("/etc/netns/" + attachment{Network: "cnitest-out", ContainerID: e.id, IfName: "out0"}.name()); err == nil {
		t.Errorf("an /etc/netns directory was made: dns belongs in the result")
	}
}
