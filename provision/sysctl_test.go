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
