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
	"time"

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

// The egress recipe: NAT out of the uplink, the guard on, a published
// port and reply routing, with the upstream and a client on the uplink's
// LAN.
func TestEgressRecipe(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	// The system's python3: nobody cannot reach one under /root (pyenv).
	python, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		t.Skip("needs /usr/bin/python3")
	}
	host, lan := nstest.NS(t, "ndh"), nstest.NS(t, "ndl")
	nstest.Veth(t, host, "up0", "192.168.50.1/24", lan, "eth0", "192.168.50.2/24")
	up := nstest.Listen(t, lan, "192.168.50.2:9000")
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
	cfg := hostCopy(t, "egress/egress.toml", host, `masquerade = "eth0"`, `masquerade = "up0"`)
	daemon(t, name, []string{"UPSTREAM=192.168.50.2:9000"}, "-c", cfg, name, "--", python, app)
	for _, c := range []struct{ ns, addr, want string }{
		{host, "10.1.0.5:8080", "client 10.1.0.1 came in on 10.1.0.5; upstream saw 192.168.50.1"},
		{lan, "192.168.50.1:8080", "client 192.168.50.2 came in on 10.1.0.5; upstream saw 192.168.50.1"},
	} {
		if got := bintest.Get(t, c.ns, c.addr); strings.TrimSpace(got) != c.want {
			t.Errorf("from %q to %s: got %q; want %q", c.ns, c.addr, got, c.want)
		}
	}
	// Through a route added by hand, the app's upstream request never leaves.
	nstest.IP(t, "-n", name, "route", "add", "192.168.50.2/32", "via", "10.1.0.1", "dev", "in0")
	c, err := nstest.Dial(t, host, "10.1.0.5:8080")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
	if b, _ := io.ReadAll(c); !strings.Contains(string(b), " 502 ") {
		t.Errorf("with a route through in0: got %q; want 502, the upstream unreachable", b)
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
