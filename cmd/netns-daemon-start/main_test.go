package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netns-daemon/netns-daemon/internal/bintest"

	"github.com/netns-daemon/netns-daemon/internal/nstest"
	"github.com/netns-daemon/netns-daemon/provision"
)

// TestMain lets the tests run the command itself: the test binary re-runs
// as netns-daemon-start when ND_RUN_MAIN is set.
func TestMain(m *testing.M) { bintest.MainOrTests(m, name, main) }

func run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, errOut, code := bintest.Command(t, args...)
	return out + errOut, code
}

func TestBadInputExits2AndTouchesNothing(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("[inbound]\nadress = []\n"), 0o644)
	name := nstest.Name("ndc")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"a/b"}, `namespace name "a/b"`},
		{[]string{"--network", "10.0.0.300/24", name}, `inbound.addresses[0] = "10.0.0.300/24": want an address/prefix`},
		{[]string{"--network", "10.1.0.5/24", "--outbound", "10.2.0.5/24", "--gateway", "10.3.0.1", name}, `outbound.gateway = "10.3.0.1": not inside any outbound address's subnet`},
		{[]string{"-c", bad, name}, `unknown key "inbound.adress"`},
		{[]string{"--inbound-kind", "tun", name}, "--inbound-kind"},
		{[]string{"--gateway", "10.2.0.1", name}, "--gateway needs an outbound interface"},
	} {
		out, code := run(t, tc.args...)
		if code != 2 || !strings.Contains(out, tc.want) {
			t.Errorf("%q: got exit %d, %q; want exit 2 with %q", tc.args, code, out, tc.want)
		}
	}
	if _, err := os.Stat(provision.NetnsPath(name)); err == nil {
		t.Errorf("%s was created by bad input", provision.NetnsPath(name))
	}
}

func TestDryRunPrintsPlanOnly(t *testing.T) {
	name := nstest.Name("ndc")
	out, code := run(t, "--dry-run", "--network", "10.1.0.5/24", "--outbound", "10.2.0.5/24", "--gateway", "10.2.0.1", name)
	if code != 0 || !strings.Contains(out, "ip -n "+name+" route add default via 10.2.0.1 dev out0") {
		t.Fatalf("got exit %d, %q", code, out)
	}
	if _, err := os.Stat(provision.NetnsPath(name)); err == nil {
		t.Errorf("dry-run created %s", provision.NetnsPath(name))
	}
	// --gateway6 as the README spells it, and the older --gateway-6.
	for _, flag := range []string{"--gateway6", "--gateway-6"} {
		out, code := run(t, "--dry-run", "--outbound", "fd00:2::5/64", flag, "fd00:2::1", name)
		if code != 0 || !strings.Contains(out, "ip -n "+name+" -6 route add default via fd00:2::1 dev out0") {
			t.Errorf("%s: got exit %d, %q; want the IPv6 default route in the plan", flag, code, out)
		}
	}
}

func TestAdHocFlagsProvisionAndJSON(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	name := nstest.Name("ndc")
	t.Cleanup(func() { provision.Stop(t.Context(), name, provision.Options{}) })
	out, code := run(t, "--host-netns", host, "--network", "10.1.0.5/24", "--peer-address", "10.1.0.1/24",
		"--outbound", "10.2.0.5/24", "--gateway", "10.2.0.1", "--json", "-q", name)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, want := range []string{`"10.1.0.5/24"`, `"to": "default"`, `"via": "10.2.0.1"`, `"path": "/run/netns/` + name} {
		if !strings.Contains(out, want) {
			t.Errorf("--json output lacks %s:\n%s", want, out)
		}
	}
}

// On a provisioned name --dry-run prints only the difference, as commands,
// and changes nothing.
func TestDryRunOnAProvisionedNamePrintsTheDifference(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	name := nstest.Name("ndc")
	t.Cleanup(func() { provision.Stop(t.Context(), name, provision.Options{}) })
	base := []string{"--host-netns", host, "--network", "10.1.0.5/24", "--peer-address", "10.1.0.1/24",
		"--outbound", "10.2.0.5/24", "--gateway", "10.2.0.1", "-q"}
	if out, code := run(t, append(base, name)...); code != 0 {
		t.Fatalf("start: exit %d: %s", code, out)
	}
	out, code := run(t, append(base, "--dry-run", "--nameserver", "10.2.0.1", name)...)
	body := "# written by netns-daemon-start for namespace " + name + "\nnameserver 10.2.0.1\n"
	want := fmt.Sprintf("mkdir -p /etc/netns/%s\nwrite /etc/netns/%s/resolv.conf (%d bytes)\n", name, name, len(body))
	if code != 0 || out != want {
		t.Errorf("dry-run of a change: got exit %d, %q; want exit 0 and %q", code, out, want)
	}
	if out, code := run(t, append(base, "--dry-run", name)...); code != 0 || out != "" {
		t.Errorf("dry-run of the same spec: got exit %d, %q; want nothing", code, out)
	}
	if _, err := os.Stat("/etc/netns/" + name); err == nil {
		t.Error("dry-run wrote /etc/netns")
	}
}

// Stop refuses, exit 1, when /run/netns/NAME is not the namespace start
// made: a symlink is never followed.
func TestStopRefusesASymlinkExit1(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	victim := nstest.NS(t, "ndv")
	name := nstest.Name("ndc")
	if out, code := run(t, "--host-netns", host, "--outbound", "10.2.0.5/24", "-q", name); code != 0 {
		t.Fatalf("start: exit %d: %s", code, out)
	}
	t.Cleanup(func() {
		os.Remove(provision.NetnsPath(name))
		os.Remove(provision.StateDir + "/" + name + ".json")
		os.Remove(provision.StateDir + "/" + name + ".lock")
	})
	nstest.IP(t, "netns", "del", name)
	if err := os.Symlink(provision.NetnsPath(victim), provision.NetnsPath(name)); err != nil {
		t.Fatal(err)
	}
	stop := filepath.Join(bintest.Dir(t), "netns-daemon-stop")
	out, err := exec.Command(stop, name).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "not the namespace") {
		t.Errorf("stop through a symlink: got %v, %q; want exit 1 saying it is not the namespace start made", err, out)
	}
	if _, err := os.Stat(provision.NetnsPath(victim)); err != nil {
		t.Errorf("the symlink's target is gone: %v", err)
	}
}
