package examples

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netns-daemon/netns-daemon/internal/bintest"
	"github.com/netns-daemon/netns-daemon/internal/nstest"
	"github.com/netns-daemon/netns-daemon/provision"
)

func TestMain(m *testing.M) { bintest.Main(m) }

// hostCopy copies a shipped TOML, with host_netns set to host and each
// old string of subst replaced by the new one.
func hostCopy(t *testing.T, path, host string, subst ...string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := fmt.Sprintf("host_netns = %q\n", host) + strings.NewReplacer(subst...).Replace(string(b))
	out := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(out, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// daemon runs netns-daemon-start in exec mode until the test ends, then
// stops it and removes the namespace.
func daemon(t *testing.T, name string, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(bintest.Dir(t), "netns-daemon-start"), append([]string{"-q"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var errb strings.Builder
	cmd.Stdout, cmd.Stderr = &errb, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		provision.Stop(t.Context(), name, provision.Options{})
		if t.Failed() {
			t.Logf("daemon output:\n%s", errb.String())
		}
	})
}

func TestHAProxyVIPsWithHairpin(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	haproxy := bintest.HAProxy(t)
	host := nstest.NS(t, "ndh")
	// The "uplink": one end of a veth pair (no dummy module needed).
	nstest.IP(t, "-n", host, "link", "add", "up0", "type", "veth", "peer", "name", "up0p")
	nstest.IP(t, "-n", host, "addr", "add", "192.0.2.1/24", "dev", "up0") // the host's LAN address
	nstest.IP(t, "-n", host, "link", "set", "up0", "up")
	nstest.IP(t, "-n", host, "link", "set", "up0p", "up")
	name := nstest.Name("ndha")
	cfg := hostCopy(t, "haproxy/haproxy.toml", host, `parent = "eth0"`, `parent = "up0"`,
		`/run/haproxy-netns.pid`, filepath.Join(t.TempDir(), "haproxy.pid"))
	daemon(t, name, nil, "-c", cfg, name, "--", haproxy, "-W", "-db", "-f", "haproxy/haproxy.cfg")
	for vip, want := range map[string]string{"192.0.2.10": "vip1", "192.0.2.11": "vip2"} {
		if got := bintest.Get(t, host, vip+":80"); got != want {
			t.Errorf("from the host to %s: got %q; want %q", vip, got, want)
		}
	}
}

func TestEgressOnlyThroughOutbound(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	// The system's python3: nobody cannot reach one under /root (pyenv).
	python, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		t.Skip("needs /usr/bin/python3")
	}
	host := nstest.NS(t, "ndh")
	// The "internet": an address in the host namespace, which the app can
	// reach only through its default route.
	nstest.IP(t, "-n", host, "addr", "add", "198.51.100.1/32", "dev", "lo")
	up := nstest.Listen(t, host, "198.51.100.1:9000")
	go http.Serve(up, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Split(r.RemoteAddr, ":")[0])
	}))
	name := nstest.Name("ndeg")
	// A copy nobody can read, wherever the checkout lives.
	dir, err := os.MkdirTemp("", "netns-egress-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	app := filepath.Join(dir, "app.py")
	if b, err := os.ReadFile("egress/app.py"); err != nil || os.WriteFile(app, b, 0o644) != nil {
		t.Fatalf("copying app.py: %v", err)
	}
	daemon(t, name, []string{"UPSTREAM=198.51.100.1:9000"}, "-c", hostCopy(t, "egress/egress.toml", host), name, "--", python, app)
	got := bintest.Get(t, host, "10.1.0.5:8080")
	if want := "client 10.1.0.1 came in on 10.1.0.5; upstream saw 10.2.0.5"; strings.TrimSpace(got) != want {
		t.Errorf("got %q; want %q", got, want)
	}
}

func TestAdhocScript(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	name := nstest.Name("ndad")
	t.Cleanup(func() { provision.Stop(t.Context(), name, provision.Options{}) })
	cmd := exec.Command("./adhoc.sh", name)
	cmd.Env = append(os.Environ(), "HOST_NETNS="+host, "PATH="+bintest.Dir(t)+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("adhoc.sh: %v\n%s", err, out)
	}
	for _, want := range []string{"via 10.2.0.1 dev out0", "nameserver 10.2.0.1",
		"nobody in " + name + ": in=10.1.0.5/24 out=10.2.0.5/24 gw=10.2.0.1"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(provision.NetnsPath(name)); err == nil {
		t.Errorf("adhoc.sh left %s behind", provision.NetnsPath(name))
	}
}
