package provision

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	xnetns "github.com/netns-daemon/netns-daemon/internal/netns"
)

func (r ruleObj) netlink() *netlink.Rule {
	nr := netlink.NewRule()
	nr.Family, nr.Table, nr.Priority = unix.AF_INET, r.Table, r.Pref
	if r.Family == 6 {
		nr.Family = unix.AF_INET6
	}
	if r.Src != "" {
		p, _ := netip.ParsePrefix(r.Src)
		nr.Src = prefixNet(p)
	}
	if r.Mark != 0 {
		nr.Mark = r.Mark
		mask := ^uint32(0)
		nr.Mask = &mask
	}
	return nr
}

func (r ruleObj) create(k *kernel, _ *record) error {
	h, err := k.nl()
	if err == nil {
		err = h.RuleAdd(r.netlink())
	}
	if err != nil {
		return fmt.Errorf("adding rule %s lookup %d in namespace %q: %w", r.selector(), r.Table, k.n.ns, err)
	}
	return nil
}

func (r ruleObj) remove(k *kernel, _ *record) error {
	h, err := k.nl()
	if gone(err) {
		return nil
	}
	if err == nil {
		err = h.RuleDel(r.netlink())
	}
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("deleting rule %s lookup %d in namespace %q: %w", r.selector(), r.Table, k.n.ns, err)
	}
	return nil
}

func (r ruleObj) observe(k *kernel, _ *record) string {
	h, err := k.nl()
	if err != nil {
		return err.Error()
	}
	want := r.netlink()
	rules, err := retryDump(func() ([]netlink.Rule, error) { return h.RuleList(want.Family) })
	if err != nil {
		return err.Error()
	}
	for _, got := range rules {
		if got.Priority == want.Priority && got.Table == want.Table && got.Mark == want.Mark &&
			(got.Src == nil) == (want.Src == nil) && (got.Src == nil || got.Src.String() == want.Src.String()) {
			return ""
		}
	}
	return "missing"
}

// replyTableFree checks, in a namespace that exists already, that no rule
// or route uses the reply table (a new namespace has none).
func replyTableFree(k *kernel, s *Spec) error {
	if s.NetnsFile == "" || s.Inbound == nil || s.Inbound.ReplyVia == "" && s.Inbound.ReplyVia6 == "" {
		return nil
	}
	h, err := k.nl()
	if err != nil {
		return err
	}
	rules, err := retryDump(func() ([]netlink.Rule, error) { return h.RuleList(unix.AF_UNSPEC) })
	if err == nil {
		for _, r := range rules {
			if r.Table == replyTable {
				return fmt.Errorf("routing table %d in %s is used by rule %s: reply_via needs it free", replyTable, s.NetnsFile, r)
			}
		}
		var routes []netlink.Route
		routes, err = retryDump(func() ([]netlink.Route, error) {
			return h.RouteListFiltered(unix.AF_UNSPEC, &netlink.Route{Table: replyTable}, netlink.RT_FILTER_TABLE)
		})
		if err == nil && len(routes) > 0 {
			return fmt.Errorf("routing table %d in %s has routes: reply_via needs it free", replyTable, s.NetnsFile)
		}
	}
	if err != nil {
		return fmt.Errorf("checking routing table %d in %s: %w", replyTable, s.NetnsFile, err)
	}
	return nil
}

// observeTable looks for a route of a table other than main, which the
// namespace's view does not hold.
func (r routeObj) observeTable(k *kernel) string {
	l, err := k.linkByName(r.Side, r.Dev)
	if err == nil && l == nil {
		return fmt.Sprintf("link %q missing", r.Dev)
	}
	var h *netlink.Handle
	if err == nil {
		h, err = k.side(r.Side)
	}
	var routes []netlink.Route
	if err == nil {
		routes, err = retryDump(func() ([]netlink.Route, error) {
			return h.RouteListFiltered(unix.AF_UNSPEC, &netlink.Route{LinkIndex: l.Attrs().Index, Table: r.Table},
				netlink.RT_FILTER_OIF|netlink.RT_FILTER_TABLE)
		})
	}
	if err != nil {
		return err.Error()
	}
	for _, rt := range routes {
		if got, ok := routeFromKernel(rt, r.Dev); ok && rt.Table == r.Table && got.To == r.To && got.Via == r.Via {
			return ""
		}
	}
	return "missing"
}

// create writes the value in the host namespace, keeping the value before.
func (s hostSysctlObj) create(k *kernel, r *record) error {
	if why := sysctlKeyProblem(s.Key); why != "" {
		return fmt.Errorf("setting sysctl %s in %s: %s", s.Key, k.hostLabel(), why)
	}
	h, err := k.hostns()
	if err != nil {
		return err
	}
	inherited := s.sharedPrior(k)
	return xnetns.Do(h, func() error {
		path := sysctlPath(s.Key)
		if strings.HasPrefix(s.Key, "net.ipv6.") && noIPv6() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("reading sysctl %s in %s: %w", s.Key, k.hostLabel(), err)
		}
		prior := strings.TrimSpace(string(b))
		if inherited != nil {
			prior = *inherited
		}
		r.Prior = &prior
		if err := os.WriteFile(path, []byte(s.Value), 0); err != nil {
			return fmt.Errorf("setting sysctl %s=%s in %s: %w", s.Key, s.Value, k.hostLabel(), err)
		}
		return nil
	})
}

// sharedPrior is, when another namespace's NAT already goes out of the
// masquerade interface, the value that namespace found before it: the one
// to restore when the last of them stops.
func (s hostSysctlObj) sharedPrior(k *kernel) *string {
	if s.Of != "" {
		return nil
	}
	other, err := otherMasquerade(k, s.Dev)
	name := strings.TrimSuffix(strings.TrimPrefix(other, "netns_daemon_"), "_nat")
	if err != nil || other == "" || ValidName(name) != nil {
		return nil
	}
	st, err := ReadState(name)
	if err != nil || st == nil {
		return nil
	}
	for _, r := range st.Records {
		if o, ok := r.obj.(hostSysctlObj); ok && o.Key == s.Key && r.Prior != nil {
			return r.Prior
		}
	}
	return nil
}

// remove puts the value before back, unless someone changed it since or
// another namespace's NAT still goes out of that interface.
func (s hostSysctlObj) remove(k *kernel, r *record) error {
	if r.Prior == nil {
		return nil
	}
	h, err := k.hostns()
	if gone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if s.Of == "" {
		other, err := otherMasquerade(k, s.Dev)
		if err != nil {
			return fmt.Errorf("restoring sysctl %s in %s: %w", s.Key, k.hostLabel(), err)
		}
		if other != "" {
			k.warn(fmt.Sprintf("sysctl %s in %s left at %s: nftables table %s still masquerades out of %s", s.Key, k.hostLabel(), s.Value, other, s.Dev))
			return nil
		}
	}
	return xnetns.Do(h, func() error {
		path := sysctlPath(s.Key)
		b, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			return nil // the interface went
		}
		if err == nil && strings.TrimSpace(string(b)) != s.Value {
			k.warn(fmt.Sprintf("sysctl %s in %s is %s now, not %s: left as it is", s.Key, k.hostLabel(), strings.TrimSpace(string(b)), s.Value))
			return nil
		}
		if err == nil {
			err = os.WriteFile(path, []byte(*r.Prior), 0)
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("restoring sysctl %s=%s in %s: %w", s.Key, *r.Prior, k.hostLabel(), err)
		}
		return nil
	})
}

func (s hostSysctlObj) observe(k *kernel, _ *record) string {
	h, err := k.hostns()
	if err != nil {
		return err.Error()
	}
	if strings.HasPrefix(s.Key, "net.ipv6.") && noIPv6In(h) {
		return ""
	}
	return observeSysctl(h, s.Key, s.Value)
}
