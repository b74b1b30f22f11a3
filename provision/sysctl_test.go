package provision

import (
	"strings"
	"testing"
)

// Dotted interface names are written as sysctl(8) does (in/0), and land in
// the interface's own directory.
func TestSysctlPathOfDottedNames(t *testing.T) {
	s := &Spec{Name: "web", Inbound: &Iface{Name: "in.0"}, Sysctl: map[string]string{"net.ipv4.conf.in/0.arp_notify": "1"}}
	s.Normalize()
	var got []string
	for _, o := range sysctlObjects(s) {
		got = append(got, sysctlPath(o.(sysctlObj).Key))
	}
	want := []string{"/proc/sys/net/ipv4/conf/all/rp_filter", "/proc/sys/net/ipv4/conf/in.0/rp_filter", "/proc/sys/net/ipv4/conf/in.0/arp_notify"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %q; want %q", got, want)
	}
}

// Every interface name Validate accepts gives rp_filter keys that the
// sysctl step takes (it refuses keys that could leave /proc/sys/net).
func TestRPFilterKeysOfOddNames(t *testing.T) {
	for _, n := range []string{"in.0", "in+0", "a..b", "x@y", "#!~", "in-0_1"} {
		s := &Spec{Name: "web", Inbound: &Iface{Name: n}}
		s.Normalize()
		if err := s.Validate(); err != nil {
			t.Errorf("%q: %v", n, err)
			continue
		}
		for _, o := range sysctlObjects(s) {
			key := o.(sysctlObj).Key
			if why := sysctlKeyProblem(key); why != "" {
				t.Errorf("%q: key %q refused: %s", n, key, why)
			}
			if p := sysctlPath(key); !strings.HasPrefix(p, "/proc/sys/net/ipv4/conf/") || strings.Count(p, "/") != 7 {
				t.Errorf("%q: path %q; want /proc/sys/net/ipv4/conf/NAME/rp_filter", n, p)
			}
		}
	}
}
