package initd

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netns-daemon/netns-daemon/internal/bintest"
	"github.com/netns-daemon/netns-daemon/internal/nstest"
	"github.com/netns-daemon/netns-daemon/provision"
)

func TestMain(m *testing.M) {
	bintest.Subreaper()
	bintest.Main(m)
}

// TestShellcheck keeps every shell script clean under shellcheck.
func TestShellcheck(t *testing.T) {
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Skip("needs shellcheck (Debian package shellcheck)")
	}
	files := []string{"netns-daemon"}
	for _, g := range []string{"../scripts/*.sh", "../examples/*.sh", "../examples/*/*.sh"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	files = append(files, "../pkg/deb/postinst", "../pkg/deb/postrm")
	out, err := exec.Command("shellcheck", append([]string{"-s", "sh"}, files...)...).CombinedOutput()
	if err != nil {
		t.Errorf("shellcheck %v: %v\n%s", files, err, out)
	}
	// The boot test's scripts are bash (they run where bash is sure to be).
	bash, _ := filepath.Glob("../scripts/systemd-test/*.sh")
	out, err = exec.Command("shellcheck", append([]string{"-x", "-s", "bash"}, bash...)...).CombinedOutput()
	if err != nil || len(bash) == 0 {
		t.Errorf("shellcheck %v: %v\n%s", bash, err, out)
	}
}

const haproxyCfg = `global
	maxconn 64
defaults
	mode http
	timeout connect 1s
	timeout client 5s
	timeout server 5s
frontend fe
	bind 10.77.0.2:8080
	http-request return status 200 content-type text/plain string ok
`

// TestInitScriptDrivesHAProxy runs start, status, reload, stop and restart
// on a real haproxy in a namespace beside a throwaway host namespace.
func TestInitScriptDrivesHAProxy(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	haproxy := bintest.HAProxy(t)
	bin := bintest.Dir(t)
	host := nstest.NS(t, "ndh")
	svc := nstest.Name("ndi")
	ns := svc
	dir := t.TempDir()
	script := filepath.Join(dir, svc)
	b, _ := os.ReadFile("netns-daemon")
	os.WriteFile(script, b, 0o755)
	os.WriteFile(filepath.Join(dir, "haproxy.cfg"), []byte(haproxyCfg), 0o644)
	os.WriteFile(filepath.Join(dir, "ns.toml"), []byte(fmt.Sprintf(
		"host_netns = %q\n[inbound]\naddresses = [\"10.77.0.2/24\"]\npeer_addresses = [\"10.77.0.1/24\"]\n", host)), 0o644)
	pidfile := filepath.Join(dir, "svc.pid")
	os.WriteFile(filepath.Join(dir, "netns-daemon-"+svc), []byte(fmt.Sprintf(
		"DAEMON=%s\nDAEMON_ARGS=\"-W -db -f %s/haproxy.cfg\"\nNETNS=%s\nCONFIG=%s/ns.toml\nPIDFILE=%s\nRELOAD_SIGNAL=USR2\nSTOP_TIMEOUT=5\n",
		haproxy, dir, ns, dir, pidfile)), 0o644)
	initd := func(action string) (string, int) {
		cmd := exec.Command(script, action)
		cmd.Env = append(os.Environ(), "NETNS_DAEMON_DEFAULTS_DIR="+dir, "NETNS_DAEMON_SBIN="+bin)
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	t.Cleanup(func() {
		initd("stop")
		provision.Stop(t.Context(), ns, provision.Options{}) // in case the script failed
		time.Sleep(100 * time.Millisecond)
		bintest.Reap()
	})
	step := func(action string, want int) string {
		t.Helper()
		out, code := initd(action)
		if code != want {
			t.Fatalf("%s: got exit %d; want %d\n%s", action, code, want, out)
		}
		return out
	}
	pid := func() int {
		var p int
		b, _ := os.ReadFile(pidfile)
		fmt.Sscan(string(b), &p)
		return p
	}

	// A name that starts with "-" reaches netns-daemon-start as a name
	// (after "--"), not as a flag, and is refused as one.
	defaults := filepath.Join(dir, "netns-daemon-"+svc)
	good, _ := os.ReadFile(defaults)
	os.WriteFile(defaults, []byte(strings.Replace(string(good), "NETNS="+ns, "NETNS=-"+ns, 1)), 0o644)
	if out, code := initd("start"); code == 0 || !strings.Contains(out, `namespace name "-`+ns+`"`) {
		t.Errorf("start with NETNS=-%s: got exit %d, %q; want a refusal of the name", ns, code, out)
	}
	os.WriteFile(defaults, good, 0o644)

	step("status", 3)
	step("start", 0)
	step("status", 0)
	first := pid()
	checkServes(t, host, first, ns)
	step("reload", 0)
	time.Sleep(300 * time.Millisecond) // the master re-execs itself
	if pid() != first {
		t.Errorf("reload: pid changed from %d to %d", first, pid())
	}
	checkServes(t, host, first, ns)
	step("stop", 0)
	step("status", 3)
	if _, err := os.Stat(provision.NetnsPath(ns)); err == nil {
		t.Errorf("stop left %s behind", provision.NetnsPath(ns))
	}
	if alive(first) {
		t.Errorf("stop left haproxy %d running", first)
	}
	step("restart", 0)
	checkServes(t, host, pid(), ns)
	step("restart", 0)
	checkServes(t, host, pid(), ns)
	step("stop", 0)
	if pids, _ := provision.PIDsInside(ns); len(pids) > 0 {
		t.Errorf("processes left in the namespace: %v", pids)
	}
}

// checkServes checks that pid lives in the service's namespace and that
// haproxy answers from the host namespace.
func checkServes(t *testing.T, host string, pid int, svc string) {
	t.Helper()
	var ns, want syscall.Stat_t
	syscall.Stat(fmt.Sprintf("/proc/%d/ns/net", pid), &ns)
	syscall.Stat(provision.NetnsPath(svc), &want)
	if ns.Ino != want.Ino || ns.Dev != want.Dev {
		t.Errorf("pid %d is not in namespace %s", pid, svc)
	}
	bintest.Get(t, host, "10.77.0.2:8080")
}

// alive says whether pid runs; a zombie waiting for its reaper does not.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z")
}
