package main

import (
	"os"
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
