package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/netns-daemon/netns-daemon/internal/bintest"
	"github.com/netns-daemon/netns-daemon/internal/cli"

	"github.com/netns-daemon/netns-daemon/internal/nstest"
	"github.com/netns-daemon/netns-daemon/provision"
)

func TestMain(m *testing.M) { bintest.MainOrTests(m, name, main) }

func run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, _, code := bintest.Command(t, args...)
	return out, code
}

func TestStatusNotProvisionedExits3(t *testing.T) {
	if _, code := run(t, nstest.Name("ndnone")); code != exitNotProvision {
		t.Errorf("got exit %d; want %d", code, exitNotProvision)
	}
}

// A name that would climb out of /run/netns-daemon is bad input: exit 2,
// and the file it points at is not read.
func TestStatusInvalidNameExits2ReadingNothing(t *testing.T) {
	planted, err := os.CreateTemp("/tmp", "ndstatus-*.json")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(planted.Name())
	planted.WriteString(`{"version":1,"spec":{"dns":{}},"steps":[],"begun":0,"complete":true}`)
	planted.Close()
	rel := "../.." + strings.TrimSuffix(planted.Name(), ".json") // from /run/netns-daemon
	if !strings.HasPrefix(provision.StateDir, "/run/") {
		t.Skipf("StateDir %s is not two levels under /", provision.StateDir)
	}
	for _, n := range []string{rel, "a/b", ".."} {
		out, errs, code := bintest.Command(t, n)
		if code != cli.ExitUsage || !strings.Contains(errs, fmt.Sprintf("namespace name %q", n)) {
			t.Errorf("%q: got exit %d, %q %q; want exit 2 naming it", n, code, out, errs)
		}
	}
}

func TestStatusShowsNamespace(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	n := nstest.Name("nds")
	spec := &provision.Spec{Name: n, HostNetns: host,
		Inbound:  &provision.Iface{Addresses: []string{"10.1.0.5/24"}},
		Outbound: &provision.Iface{Addresses: []string{"10.2.0.5/24"}, Gateway: "10.2.0.1"}}
	t.Cleanup(func() { provision.Stop(t.Context(), n, provision.Options{}) })
	if _, err := provision.Start(t.Context(), spec, provision.Options{}); err != nil {
		t.Fatal(err)
	}
	out, code := run(t, n)
	for _, want := range []string{n + "  ok", "in0", "10.1.0.5/24", "out0", "10.2.0.5/24", "via 10.2.0.1 dev out0"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("got exit %d, %q; want exit 0 and %q", code, out, want)
		}
	}
	out, _ = run(t, "--json")
	var entries []entry
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatalf("--json: %v: %s", err, out)
	}
	found := false
	for _, e := range entries {
		found = found || e.Name == n && e.Complete && len(e.Interfaces) == 3
	}
	if !found {
		t.Errorf("--json: %s lacks %s with 3 interfaces", out, n)
	}
}

// Drift as an operator meets it: the outbound veth deleted by hand makes
// status exit 1 naming it (table and --json); start repairs it; status 0.
func TestStatusDriftExits1UntilStartRepairs(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	n := nstest.Name("nds")
	spec := func() *provision.Spec {
		return &provision.Spec{Name: n, HostNetns: host,
			Inbound:  &provision.Iface{Addresses: []string{"10.1.0.5/24"}},
			Outbound: &provision.Iface{Addresses: []string{"10.2.0.5/24"}, Gateway: "10.2.0.1"}}
	}
	t.Cleanup(func() { provision.Stop(t.Context(), n, provision.Options{}) })
	if _, err := provision.Start(t.Context(), spec(), provision.Options{}); err != nil {
		t.Fatal(err)
	}
	nstest.IP(t, "-n", host, "link", "del", n+"-out")
	out, code := run(t, n)
	if code != exitDead || !strings.Contains(out, "link/out0 missing") {
		t.Errorf("after deleting the outbound veth: got exit %d, %q; want exit %d naming link/out0 missing", code, out, exitDead)
	}
	out, _ = run(t, "--json", n)
	var entries []entry
	if err := json.Unmarshal([]byte(out), &entries); err != nil || len(entries) != 1 || len(entries[0].Drift) == 0 ||
		entries[0].Drift[0].Object != "link/out0" {
		t.Errorf("--json drift: got %s (%v); want link/out0 first", out, err)
	}
	if o, err := provision.Start(t.Context(), spec(), provision.Options{}); err != nil || o != provision.Changed {
		t.Fatalf("repairing start: got %v, %v; want changed in place", o, err)
	}
	if out, code := run(t, n); code != 0 || !strings.Contains(out, n+"  ok") {
		t.Errorf("after repair: got exit %d, %q; want exit 0 and ok", code, out)
	}
}
