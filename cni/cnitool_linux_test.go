package cni

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// lookTool finds a client in PATH or where `go install` puts it.
func lookTool(t *testing.T, name, how string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skipf("needs %s (%s; scripts/deps.sh installs it)", name, how)
	return ""
}

// TestCnitool drives the plugin through libcni as cnitool does: an
// outbound network of its own and an inbound one chained after ptp, add,
// check, del, in throwaway namespaces.
func TestCnitool(t *testing.T) {
	e := newEnv(t)
	tool := lookTool(t, "cnitool", "go install github.com/containernetworking/cni/cnitool@v1.3.1")
	stock(t, "ptp")
	untouched(t)
	dir := t.TempDir()
	confs := map[string]string{
		"cnitest-tool-out.conflist": `{"cniVersion":"1.0.0","name":"cnitest-tool-out","plugins":[
			{"type":"netns-daemon-cni","role":"outbound","addresses":["10.90.0.5/24"],"gateway":"10.90.0.1","dns":{"nameservers":["10.90.0.53"]}}]}`,
		"cnitest-tool-in.conflist": fmt.Sprintf(`{"cniVersion":"1.0.0","name":"cnitest-tool-in","plugins":[
			{"type":"ptp","ipam":{"type":"host-local","dataDir":%q,"ranges":[[{"subnet":"10.91.0.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}]}},
			{"type":"netns-daemon-cni","role":"inbound"}]}`, filepath.Join(dir, "ipam")),
	}
	for f, c := range confs {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, n := range []string{"cnitest-tool-out", "cnitest-tool-in"} {
			m, _ := filepath.Glob("/var/lib/cni/results/" + n + "-*")
			for _, f := range m {
				os.Remove(f)
			}
		}
	})
	tool1 := func(verb, net, ifname string) string {
		t.Helper()
		cmd := exec.Command("ip", "netns", "exec", e.host, tool, verb, net, "/run/netns/"+e.ctr)
		cmd.Env = append(os.Environ(), "CNI_PATH="+pluginDir+":/usr/lib/cni", "NETCONFPATH="+dir, "CNI_IFNAME="+ifname)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("cnitool %s %s: %v: %s", verb, net, err, out)
		}
		return string(out)
	}
	out := tool1("add", "cnitest-tool-out", "out0")
	if !strings.Contains(out, `"sandbox": "/run/netns/`+e.ctr) || !strings.Contains(out, "10.90.0.53") {
		t.Errorf("cnitool add: %s; want the sandbox interface and dns", out)
	}
	tool1("add", "cnitest-tool-in", "in0")
	if got := defaults(t, e.ctr); len(got) != 1 || !strings.Contains(got[0], "via 10.90.0.1 dev out0") {
		t.Errorf("default routes: got %q; want only via out0", got)
	}
	if got := sysctlIn(t, e.ctr, "net.ipv4.conf.in0.rp_filter"); got != "2" {
		t.Errorf("in0 rp_filter: got %s; want 2 (loose)", got)
	}
	if got := ipIn(t, e.ctr, "-br", "addr", "show", "in0"); !strings.Contains(got, "10.91.0.") {
		t.Errorf("in0: got %q; want ptp's address from 10.91.0.0/24", got)
	}
	tool1("check", "cnitest-tool-out", "out0")
	tool1("check", "cnitest-tool-in", "in0")
	tool1("del", "cnitest-tool-in", "in0")
	tool1("del", "cnitest-tool-out", "out0")
	tool1("del", "cnitest-tool-out", "out0")
	if got := links(t, e.host); strings.Join(got, ",") != "lo" {
		t.Errorf("host namespace after del: %v; want only lo", got)
	}
	if got := links(t, e.ctr); strings.Join(got, ",") != "lo" {
		t.Errorf("container after del: %v; want only lo", got)
	}
}
