package provision

import (
	"strings"
)

// sysctlComponents splits a key in sysctl(8) notation into the names of
// its /proc/sys path: dots separate, and a '/' inside a part stands for a
// dot of the name (net.ipv4.conf.in/0.rp_filter is conf/in.0/rp_filter).
func sysctlComponents(key string) []string {
	parts := strings.Split(key, ".")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(p, "/", ".")
	}
	return parts
}

// sysctlKeyProblem accepts net.* keys whose parts are names, so a key
// cannot climb out of /proc/sys/net. A part may be any interface name we
// accept (printable ASCII), as the rp_filter keys are made from them.
func sysctlKeyProblem(key string) string {
	parts := sysctlComponents(key)
	if len(parts) < 2 || parts[0] != "net" {
		return "only net.* keys apply inside a namespace"
	}
	for _, p := range parts[1:] {
		if p == "" || p == "." || p == ".." || !allOf(p, func(c rune) bool { return c > ' ' && c < 0x7f }) {
			return "want dot-separated names of printable characters, not . or .. ('/' for a dot inside a name, as sysctl(8) writes in/0 for in.0)"
		}
	}
	return ""
}

// sysctlIfaceProblem refuses a per-interface key (net.ipv4.conf.X.*,
// net.ipv6.conf.X.*, net.ipv4.neigh.X.*, net.ipv6.neigh.X.*) for an
// interface the namespace will not have: the file would not be there.
func (s *Spec) sysctlIfaceProblem(key string) string {
	parts := sysctlComponents(key)
	if len(parts) < 5 || parts[1] != "ipv4" && parts[1] != "ipv6" || parts[2] != "conf" && parts[2] != "neigh" {
		return ""
	}
	dev := parts[3]
	if dev == "all" || dev == "default" || dev == "lo" {
		return ""
	}
	for _, ifc := range s.Ifaces() {
		if ifc.Name == dev {
			return ""
		}
	}
	return "no interface " + dev + " in the namespace (a dotted name is written with '/', as sysctl(8) does)"
}

// checkSysctls checks keys and values: a value is one non-empty line.
func (s *Spec) checkSysctls(p *problems) {
	for _, k := range sortedKeys(s.Sysctl) {
		key := "sysctl." + quoteKey(k)
		v := s.Sysctl[k]
		why := sysctlKeyProblem(k)
		if why == "" {
			why = s.sysctlIfaceProblem(k)
		}
		switch {
		case why != "":
		case strings.TrimSpace(v) == "":
			why = "empty value"
		case !allOf(v, func(c rune) bool { return c >= 0x20 && c != 0x7f || c == '\t' }):
			why = "value must be one line without control characters"
		}
		if why != "" {
			p.add(key, v, "%s", why)
		}
	}
}

// quoteKey writes a TOML key as it would be typed: quoted when it has dots.
func quoteKey(k string) string {
	if allOf(k, func(c rune) bool { return alnum(c) || c == '_' || c == '-' }) && k != "" {
		return k
	}
	return `"` + strings.ReplaceAll(strings.ReplaceAll(k, `\`, `\\`), `"`, `\"`) + `"`
}
