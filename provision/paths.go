package provision

import (
	"path/filepath"
	"strings"
)

// NetnsDir is where named namespaces live, as ip-netns(8) keeps them.
var NetnsDir = "/run/netns"

// NetnsPath is the bind-mounted namespace file of name.
func NetnsPath(name string) string { return filepath.Join(NetnsDir, name) }

// EtcNetnsDir holds per-namespace /etc files, as ip-netns(8) reads them.
var EtcNetnsDir = "/etc/netns"

// dnsFiles are the /etc/netns/NAME files the spec's [dns] asks for.
func dnsFiles(s *Spec) map[string]string {
	files := map[string]string{}
	if len(s.DNS.Nameservers) > 0 || len(s.DNS.Search) > 0 {
		var b strings.Builder
		b.WriteString("# written by netns-daemon-start for namespace " + s.Name + "\n")
		if len(s.DNS.Search) > 0 {
			b.WriteString("search " + strings.Join(s.DNS.Search, " ") + "\n")
		}
		for _, ns := range s.DNS.Nameservers {
			b.WriteString("nameserver " + ns + "\n")
		}
		files["resolv.conf"] = b.String()
	}
	if len(s.DNS.Hosts) > 0 {
		var b strings.Builder
		b.WriteString("# written by netns-daemon-start for namespace " + s.Name + "\n")
		b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
		for _, h := range sortedKeys(s.DNS.Hosts) {
			b.WriteString(s.DNS.Hosts[h] + "\t" + h + "\n")
		}
		files["hosts"] = b.String()
	}
	return files
}
