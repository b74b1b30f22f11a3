package cni

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/netns-daemon/netns-daemon/internal/nstest"
)

// pluginDir holds netns-daemon-cni built from this checkout, for the
// tests to run as the runtimes do: a binary with env and stdin.
var pluginDir string

func TestMain(m *testing.M) {
	code := func() int {
		if os.Geteuid() == 0 {
			dir, err := os.MkdirTemp("", "ndcni-bin-")
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			defer os.RemoveAll(dir)
			_, file, _, _ := runtime.Caller(0)
			cmd := exec.Command("go", "build", "-o", dir+"/", "./cmd/netns-daemon-cni")
			cmd.Dir = filepath.Join(filepath.Dir(file), "..")
			if out, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "building netns-daemon-cni: %v: %s", err, out)
				return 1
			}
			pluginDir = dir
		}
		return m.Run()
	}()
	os.Exit(code)
}

// call is one plugin invocation.
type call struct {
	host     string // the namespace the plugin runs in
	cmd      string
	netns    string // CNI_NETNS
	ifname   string
	id       string
	conf     string
	extraEnv []string
	plugin   string // a stock plugin's path; "" = ours
}

// run runs the plugin and returns stdout and the exit status.
func (c call) run(t *testing.T) (string, int) {
	t.Helper()
	bin := filepath.Join(pluginDir, PluginType)
	if c.plugin != "" {
		bin = c.plugin
	}
	cmd := exec.Command("ip", "netns", "exec", c.host, bin)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "CNI_COMMAND=" + c.cmd, "CNI_CONTAINERID=" + c.id,
		"CNI_NETNS=" + c.netns, "CNI_IFNAME=" + c.ifname, "CNI_PATH=" + pluginDir + ":/usr/lib/cni"}, c.extraEnv...)
	cmd.Stdin = strings.NewReader(c.conf)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	if errb.Len() > 0 {
		t.Logf("%s stderr: %s", c.cmd, errb.String())
	}
	if c.cmd == "ADD" && c.plugin == "" && cmd.ProcessState.ExitCode() == 0 {
		// a test that fails half-way leaves no attachment behind
		d := c
		d.cmd, d.netns = "DEL", ""
		t.Cleanup(func() { d.run(t) })
	}
	return out.String(), cmd.ProcessState.ExitCode()
}

// ok runs c and fails the test unless it succeeds.
func (c call) ok(t *testing.T) string {
	t.Helper()
	out, code := c.run(t)
	if code != 0 {
		t.Fatalf("%s: exit %d: %s", c.cmd, code, out)
	}
	return out
}

// fails runs c, wants a CNI error with code and returns its message.
func (c call) fails(t *testing.T, code uint) string {
	t.Helper()
	out, rc := c.run(t)
	var e struct {
		Code uint   `json:"code"`
		Msg  string `json:"msg"`
	}
	if err := json.Unmarshal([]byte(out), &e); err != nil || rc == 0 {
		t.Fatalf("%s: exit %d, output %q; want CNI error %d", c.cmd, rc, out, code)
	}
	if e.Code != code {
		t.Fatalf("%s: code %d (%s); want %d", c.cmd, e.Code, e.Msg, code)
	}
	return e.Msg
}

// env is a fake host namespace and a container namespace.
type env struct {
	host, ctr string
	id        string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	nstest.SkipUnlessRoot(t)
	if pluginDir == "" {
		t.Skip("netns-daemon-cni was not built (not root)")
	}
	b := make([]byte, 16)
	rand.Read(b)
	return &env{host: nstest.NS(t, "cnih"), ctr: nstest.NS(t, "cnic"), id: "ctr-" + hex.EncodeToString(b)}
}

func (e *env) call(cmd, ifname, conf string) call {
	return call{host: e.host, cmd: cmd, netns: "/run/netns/" + e.ctr, ifname: ifname, id: e.id, conf: conf}
}

// ipIn runs ip(8) inside ns and returns its output.
func ipIn(t *testing.T, ns string, args ...string) string {
	t.Helper()
	return nstest.IP(t, append([]string{"-n", ns}, args...)...)
}

// links lists the link names in ns, sorted.
func links(t *testing.T, ns string) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(ipIn(t, ns, "-o", "link")), "\n") {
		f := strings.Fields(l)
		// ip also prints notes such as "Peer netns reference is invalid."
		if len(f) > 1 && strings.HasSuffix(f[0], ":") && strings.Trim(f[0], "0123456789") == ":" {
			out = append(out, strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0])
		}
	}
	sort.Strings(out)
	return out
}

// sysctlIn reads a sysctl inside ns.
func sysctlIn(t *testing.T, ns, key string) string {
	t.Helper()
	return strings.TrimSpace(nstest.Sh(t, ns, "cat /proc/sys/"+strings.ReplaceAll(key, ".", "/")))
}

// defaults lists the default routes (v4 and v6) in ns.
func defaults(t *testing.T, ns string) []string {
	t.Helper()
	var out []string
	for _, fam := range []string{"-4", "-6"} {
		for _, l := range strings.Split(strings.TrimSpace(ipIn(t, ns, fam, "route", "show", "default")), "\n") {
			if l != "" {
				out = append(out, l)
			}
		}
	}
	return out
}

// stateFiles lists what StateDir holds for network (attachment records
// and engine state).
func stateFiles(t *testing.T, a attachment) []string {
	t.Helper()
	var out []string
	for _, f := range []string{a.name() + ".json", a.name() + ".lock", a.recordFile()} {
		if _, err := os.Lstat(filepath.Join(StateDir, f)); err == nil {
			out = append(out, f)
		}
	}
	return out
}

// assertClean checks that nothing of the attachment is left: no link but
// lo in the host namespace, none but lo (and what the test made) in the
// container, no state.
func (e *env) assertClean(t *testing.T, a attachment, ctrLinks ...string) {
	t.Helper()
	var host []string
	for _, l := range links(t, e.host) {
		if !strings.HasPrefix(l, "taken") { // a test's own
			host = append(host, l)
		}
	}
	if strings.Join(host, ",") != "lo" {
		t.Errorf("host namespace links: got %v; want [lo]", host)
	}
	want := append([]string{"lo"}, ctrLinks...)
	sort.Strings(want)
	if got := links(t, e.ctr); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("container links: got %v; want %v", got, want)
	}
	if got := stateFiles(t, a); len(got) > 0 {
		t.Errorf("left in %s: %v", StateDir, got)
	}
}

// result is the subset of a result the tests read.
type result struct {
	CNIVersion string `json:"cniVersion"`
	Interfaces []struct {
		Name    string `json:"name"`
		Mac     string `json:"mac"`
		Sandbox string `json:"sandbox"`
	} `json:"interfaces"`
	IPs []struct {
		Address   string `json:"address"`
		Gateway   string `json:"gateway"`
		Interface *int   `json:"interface"`
		Version   string `json:"version"`
	} `json:"ips"`
	Routes []struct {
		Dst string `json:"dst"`
		GW  string `json:"gw"`
	} `json:"routes"`
	DNS struct {
		Nameservers []string `json:"nameservers"`
	} `json:"dns"`
}

func parseResult(t *testing.T, out string) result {
	t.Helper()
	var r result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("result %q: %v", out, err)
	}
	return r
}

// withPrev adds prevResult to a plugin object.
func withPrev(t *testing.T, conf, prev string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(conf), &m); err != nil {
		t.Fatal(err)
	}
	var p any
	if err := json.Unmarshal([]byte(prev), &p); err != nil {
		t.Fatalf("prevResult %q: %v", prev, err)
	}
	m["prevResult"] = p
	b, _ := json.Marshal(m)
	return string(b)
}
