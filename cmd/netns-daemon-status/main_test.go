package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/netns-daemon/netns-daemon/internal/bintest"

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
