package cni

import (
	"errors"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// counters are iptables-save's [packets:bytes], which traffic changes.
var counters = regexp.MustCompile(`\[\d+:\d+\]`)

// hostSnapshot is the machine's own namespace as the tools print it: the
// real-client tests take one before and after and want them equal.
func hostSnapshot(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, c := range [][]string{
		{"ip", "-o", "link"}, {"ip", "-o", "addr"},
		{"ip", "-4", "route", "show", "table", "all"}, {"ip", "-6", "route", "show", "table", "all"},
		{"ip", "-4", "rule"}, {"ip", "-6", "rule"},
		{"nft", "list", "ruleset"}, {"iptables-save"}, {"ip6tables-save"},
		{"sysctl", "-a", "--pattern", `^net\.`},
	} {
		out, err := exec.Command(c[0], c[1:]...).Output()
		if err != nil {
			var missing *exec.Error
			if errors.As(err, &missing) {
				continue
			}
			t.Fatalf("%s: %v", strings.Join(c, " "), err)
		}
		b.WriteString("# " + strings.Join(c, " ") + "\n")
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "#") || strings.Contains(l, "conntrack_count") { // comments with times; counters
				continue
			}
			b.WriteString(counters.ReplaceAllString(l, "") + "\n")
		}
	}
	return b.String()
}

// untouched checks, when the test ends, that the machine's namespace is as
// it was when untouched was called.
func untouched(t *testing.T) {
	t.Helper()
	before := hostSnapshot(t)
	t.Cleanup(func() {
		after := hostSnapshot(t)
		if after == before {
			return
		}
		b, a := strings.Split(before, "\n"), strings.Split(after, "\n")
		seen := map[string]bool{}
		for _, l := range b {
			seen[l] = true
		}
		for _, l := range a {
			if !seen[l] {
				t.Errorf("the machine's own namespace changed: new line %q", l)
			}
		}
		seen = map[string]bool{}
		for _, l := range a {
			seen[l] = true
		}
		for _, l := range b {
			if !seen[l] {
				t.Errorf("the machine's own namespace changed: line gone %q", l)
			}
		}
	})
}
