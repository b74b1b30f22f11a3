package provision

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/netns-daemon/netns-daemon/internal/nstest"
)

// pick returns one of good, or now and then one of bad (which may be
// nil), so that most random specs are valid and some are not.
func pick[T any](r *rand.Rand, good, bad []T) T {
	if len(bad) > 0 && r.IntN(20) == 0 {
		return bad[r.IntN(len(bad))]
	}
	return good[r.IntN(len(good))]
}

// some returns a random subset of good, now and then with one of bad.
func some(r *rand.Rand, good, bad []string) []string {
	var out []string
	for _, v := range good {
		if r.IntN(2) == 0 {
			out = append(out, v)
		}
	}
	if len(bad) > 0 && r.IntN(20) == 0 {
		out = append(out, bad[r.IntN(len(bad))])
	}
	return out
}

// randomSpec mixes good values, values at the kernel's edges that must
// work, and a few that must be refused.
func randomSpec(r *rand.Rand, name, host string) *Spec {
	s := &Spec{Name: name, HostNetns: host, Sysctl: map[string]string{}}
	in := &Iface{
		Name:          pick(r, []string{"", "in.0", "x+1", "a..b"}, []string{"in%d", "all"}),
		Addresses:     append([]string{"10.1.0.5/24", "fd00:1::5/64"}, some(r, []string{"169.254.1.5/16", "10.1.1.1/32", "10.1.2.0/31"}, []string{"10.1.0.255/24", "0.0.0.0/0"})...),
		PeerAddresses: some(r, []string{"10.1.0.1/24", "fd00:1::1/64", "10.1.2.1/31"}, []string{"10.1.0.5/24"}),
		MTU:           pick(r, []int{0, 0, 1280, 9000}, []int{1279}),
		MAC:           pick(r, []string{"", "", "02:00:00:00:00:01"}, []string{"01:00:00:00:00:01"}),
		RPFilter:      pick(r, []string{"", "off", "strict", "loose"}, nil),
		Routes: pick(r, [][]Route{nil, {{To: "10.9.0.0/16", Via: "10.1.0.1"}}, {{To: "fd00:9::/64", Via: "fe80::1"}}, {{To: "10.9.0.0/16"}}},
			[][]Route{{{To: "0.0.0.0/1"}, {To: "128.0.0.0/1"}}}),
	}
	out := &Iface{
		Name:          pick(r, []string{"", "out.0", "eth-9"}, []string{"in0"}),
		Addresses:     append([]string{"10.2.0.5/24", "fd00:2::5/64"}, some(r, []string{"10.2.1.4/31"}, []string{"10.1.0.6/24"})...),
		PeerAddresses: some(r, []string{"fe80::1/64"}, nil),
		MTU:           pick(r, []int{0, 0, 1280}, []int{68}),
		Gateway:       pick(r, []string{"", "10.2.0.1"}, []string{"10.2.0.5", "10.2.0.255", "10.2.1.5"}),
		Gateway6:      pick(r, []string{"", "fe80::1", "fd00:2::1"}, []string{"fd00:2::5"}),
		Routes: pick(r, [][]Route{nil, {{To: "10.8.0.0/16", Via: "10.2.0.1"}}, {{To: "0.0.0.0/1", Via: "10.2.0.1"}, {To: "128.0.0.0/1", Via: "10.2.0.1"}}},
			[][]Route{{{To: "10.1.0.0/24"}}}),
	}
	if r.IntN(5) > 0 {
		s.Inbound = in
	}
	if r.IntN(5) > 0 {
		s.Outbound = out
	}
	for _, ifc := range s.Ifaces() {
		if r.IntN(2) == 0 && ifc.Name != "" {
			s.Sysctl["net.ipv4.conf."+strings.ReplaceAll(ifc.Name, ".", "/")+".arp_notify"] = "1"
		}
	}
	if r.IntN(2) == 0 {
		s.Sysctl["net.ipv6.conf.default.hop_limit"] = pick(r, []string{"33"}, []string{""})
	}
	s.DNS = DNS{Nameservers: some(r, []string{"10.2.0.1", "fd00:2::53"}, []string{"fe80::53"}), Search: some(r, []string{"internal"}, []string{"a..b"})}
	return s
}

// Every spec Validate accepts starts in the kernel and stops leaving
// nothing: random mixes of values at the edges (a fixed seed, so a failure
// can be replayed), each refused as bad input or made for real.
func TestEveryAcceptedSpecStarts(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	r := rand.New(rand.NewPCG(10, 2026))
	const n = 80
	accepted := 0
	for range n {
		s := randomSpec(r, newName(), host)
		s.Normalize()
		if s.Validate() != nil {
			continue
		}
		accepted++
		spec := s.Canonical()
		if _, err := Start(context.Background(), s, Options{}); err != nil {
			Stop(context.Background(), s.Name, Options{Wait: true})
			t.Errorf("accepted, then failed: %v\nspec: %s", err, spec)
			continue
		}
		if err := Stop(context.Background(), s.Name, Options{Wait: true}); err != nil {
			t.Errorf("stop: %v\nspec: %s", err, spec)
		}
		assertNothingLeft(t, s.Name, host)
	}
	t.Logf("%d of %d random specs accepted and started", accepted, n)
	if accepted < n/3 {
		t.Errorf("only %d of %d random specs were accepted; the mix tests too little", accepted, n)
	}
}
