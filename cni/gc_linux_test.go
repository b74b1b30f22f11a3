package cni

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestGC: GC removes the attachments of its network that the runtime no
// longer lists (host side and IPAM lease) and keeps the listed ones and
// those of other networks.
func TestGC(t *testing.T) {
	e := newEnv(t)
	dataDir := t.TempDir()
	conf := func(net string) string {
		return fmt.Sprintf(`{"cniVersion":"1.1.0","name":%q,"type":"netns-daemon-cni","role":"inbound",
			"ipam":{"type":"host-local","dataDir":%q,"ranges":[[{"subnet":"10.70.0.0/24"}]]}}`, net, dataDir)
	}
	// host-local of Debian's plugins (1.1.1) knows spec 1.0.0 at most
	ipam := func(s string) string { return strings.Replace(s, `"1.1.0"`, `"1.0.0"`, 1) }
	keep, drop, other := e.call("ADD", "in0", ipam(conf("cnitest-gc"))), e.call("ADD", "in1", ipam(conf("cnitest-gc"))), e.call("ADD", "in2", ipam(conf("cnitest-gc2")))
	var peers []string
	for _, c := range []call{keep, drop, other} {
		peers = append(peers, parseResult(t, c.ok(t)).Interfaces[0].Name)
	}
	gc := fmt.Sprintf(`{"cniVersion":"1.1.0","name":"cnitest-gc","type":"netns-daemon-cni","role":"inbound",
		"ipam":{"type":"host-local","dataDir":%q,"ranges":[[{"subnet":"10.70.0.0/24"}]]},
		"cni.dev/valid-attachments":[{"containerID":%q,"ifname":"in0"}]}`, dataDir, e.id)
	g := call{host: e.host, cmd: "GC", conf: gc}
	g.ok(t)
	got := links(t, e.host)
	has := func(n string) bool { return strings.Contains(strings.Join(got, ","), n) }
	if !has(peers[0]) || has(peers[1]) || !has(peers[2]) {
		t.Errorf("host links after GC: got %v; want %s and %s kept, %s gone", got, peers[0], peers[2], peers[1])
	}
	if files := stateFiles(t, attachment{Network: "cnitest-gc", ContainerID: e.id, IfName: "in1"}); len(files) > 0 {
		t.Errorf("state of the collected attachment left: %v", files)
	}
	leases, _ := filepath.Glob(filepath.Join(dataDir, "cnitest-gc", "10.*"))
	if len(leases) != 1 {
		t.Errorf("host-local leases of cnitest-gc after GC: %v; want only the kept one", leases)
	}
	g.ok(t) // again: nothing to do
	for _, c := range []call{keep, other} {
		c.cmd = "DEL"
		c.ok(t)
	}
	e.assertClean(t, attachment{Network: "cnitest-gc", ContainerID: e.id, IfName: "in0"})
}

// TestStatus: STATUS succeeds when ADD can work and says 50 when it cannot
// (the IPAM plugin or a macvlan's parent missing).
func TestStatus(t *testing.T) {
	e := newEnv(t)
	base := `{"cniVersion":"1.1.0","name":"cnitest-status","type":"netns-daemon-cni","role":"outbound"`
	call{host: e.host, cmd: "STATUS", conf: base + `}`}.ok(t)
	call{host: e.host, cmd: "STATUS", conf: base + `,"ipam":{"type":"host-local"}}`}.ok(t)
	if msg := (call{host: e.host, cmd: "STATUS", conf: base + `,"ipam":{"type":"no-such-ipam"}}`}).fails(t, 50); !strings.Contains(msg, "no-such-ipam") {
		t.Errorf("got %q", msg)
	}
	if msg := (call{host: e.host, cmd: "STATUS", conf: base + `,"kind":"macvlan","parent":"nosuch0"}`}).fails(t, 50); !strings.Contains(msg, "nosuch0") {
		t.Errorf("got %q", msg)
	}
	// STATUS and GC are spec 1.1.0: an older config is refused by version
	call{host: e.host, cmd: "STATUS", conf: strings.Replace(base, "1.1.0", "1.0.0", 1) + `}`}.fails(t, 1)
}

// TestVersion: VERSION lists every version skel negotiates.
func TestVersion(t *testing.T) {
	e := newEnv(t)
	out := call{host: e.host, cmd: "VERSION"}.ok(t)
	for _, v := range append(versions, "0.1.0", "0.2.0") {
		if !strings.Contains(out, `"`+v+`"`) {
			t.Errorf("VERSION: %s; want %s listed", out, v)
		}
	}
}

// TestOldVersions: 0.1.0 and 0.2.0 results carry the address and gateway
// (their format has no interfaces), and DEL works.
func TestOldVersions(t *testing.T) {
	for _, v := range []string{"0.1.0", "0.2.0"} {
		t.Run(v, func(t *testing.T) {
			e := newEnv(t)
			add := e.call("ADD", "out0", outboundConf(v, "cnitest-old"))
			out := add.ok(t)
			if !strings.Contains(out, `"ip4"`) || !strings.Contains(out, "10.20.0.5/24") || !strings.Contains(out, `"gateway": "10.20.0.1"`) {
				t.Errorf("result: %s; want ip4 10.20.0.5/24 gateway 10.20.0.1", out)
			}
			add.cmd = "DEL"
			add.ok(t)
			e.assertClean(t, attachment{Network: "cnitest-old", ContainerID: e.id, IfName: "out0"})
		})
	}
}
