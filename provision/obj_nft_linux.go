package provision

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"

	xnetns "github.com/netns-daemon/netns-daemon/internal/netns"
)

// The table's identity is a random token in the comment of its first
// rule: a table of the same name made by anyone else (or made again) does
// not carry it, and is never deleted.
const nftCommentPrefix = "netns-daemon "

func (t nftObj) conn(k *kernel) (*nftables.Conn, error) {
	h, err := k.netns()
	if t.Side == sideHost {
		h, err = k.hostns()
	}
	if err != nil {
		return nil, err
	}
	c, err := nftables.New(nftables.WithNetNSFd(h.Fd()))
	if err != nil {
		return nil, fmt.Errorf("opening nftables in %s: %w", k.label(t.Side), err)
	}
	return c, nil
}

func (t nftObj) family() nftables.TableFamily {
	if t.Family == "ip" {
		return nftables.TableFamilyIPv4
	}
	return nftables.TableFamilyINet
}

// create makes the table, its chains and rules in one batch: all or none.
func (t nftObj) create(k *kernel, r *record) error {
	c, err := t.conn(k)
	if err != nil {
		return err
	}
	if t.Closed != "" {
		before, err := forwardingBefore(k, t.Closed)
		if err != nil {
			return fmt.Errorf("adding nftables table %s %s in %s: %w", t.Family, t.Name, k.label(t.Side), err)
		}
		t = t.resolved(&before)
		r.Prior = &before
	}
	token, err := t.queue(c)
	if err == nil {
		err = c.Flush()
	}
	if err != nil {
		return fmt.Errorf("adding nftables table %s %s in %s: %w", t.Family, t.Name, k.label(t.Side), err)
	}
	r.Token, r.Done = token, true
	return nil
}

// replace swaps the table start made for t in one batch, so that a guard
// being changed never has a gap.
func (t nftObj) replace(k *kernel, r *record) error {
	c, err := t.conn(k)
	if err != nil {
		return err
	}
	tab, _, mine, err := t.find(c, r.Token)
	if err == nil && tab != nil && !mine {
		err = fmt.Errorf("it is not the one start made")
	}
	if err != nil {
		return fmt.Errorf("replacing nftables table %s %s in %s: %w", t.Family, t.Name, k.label(t.Side), err)
	}
	if tab != nil {
		c.DelTable(tab)
	}
	token, err := t.resolved(r.Prior).queue(c)
	if err == nil {
		err = c.Flush()
	}
	if err != nil {
		return fmt.Errorf("replacing nftables table %s %s in %s: %w", t.Family, t.Name, k.label(t.Side), err)
	}
	r.Token = token
	return nil
}

// queue adds the table, its chains and rules to c's batch, the first rule
// carrying a new token.
func (t nftObj) queue(c *nftables.Conn) (string, error) {
	var tok [8]byte
	rand.Read(tok[:])
	token := hex.EncodeToString(tok[:])
	tab := c.CreateTable(&nftables.Table{Name: t.Name, Family: t.family()})
	marked := false
	for _, ch := range t.Chains {
		nc := &nftables.Chain{Name: ch.Name, Table: tab}
		if ch.Type != "" {
			nc.Type = nftables.ChainType(ch.Type)
			nc.Hooknum = nftHooks[ch.Hook]
			nc.Priority = nftables.ChainPriorityRef(nftables.ChainPriority(ch.Prio))
			pol := nftables.ChainPolicyAccept
			if ch.Policy == "drop" {
				pol = nftables.ChainPolicyDrop
			}
			nc.Policy = &pol
		}
		c.AddChain(nc)
		for _, rule := range ch.Rules {
			exprs, err := rule.build()
			if err != nil {
				return "", err
			}
			nr := &nftables.Rule{Table: tab, Chain: nc, Exprs: exprs}
			if !marked {
				nr.UserData = userdata.AppendString(nil, userdata.TypeComment, nftCommentPrefix+token)
				marked = true
			}
			c.AddRule(nr)
		}
	}
	return token, nil
}

var nftHooks = map[string]*nftables.ChainHook{
	"prerouting":  nftables.ChainHookPrerouting,
	"input":       nftables.ChainHookInput,
	"forward":     nftables.ChainHookForward,
	"output":      nftables.ChainHookOutput,
	"postrouting": nftables.ChainHookPostrouting,
}

// find returns the table and its rule count per chain; nil if there is
// none of the name. mine is whether it carries token.
func (t nftObj) find(c *nftables.Conn, token string) (tab *nftables.Table, counts map[string]int, mine bool, err error) {
	tables, err := c.ListTablesOfFamily(t.family())
	if err != nil {
		return nil, nil, false, err
	}
	for _, x := range tables {
		if x.Name == t.Name {
			tab = x
		}
	}
	if tab == nil {
		return nil, nil, false, nil
	}
	chains, err := c.ListChainsOfTableFamily(t.family())
	if err != nil {
		return nil, nil, false, err
	}
	counts = map[string]int{}
	for _, ch := range chains {
		if ch.Table.Name != t.Name {
			continue
		}
		rules, err := c.GetRules(tab, ch)
		if err != nil {
			return nil, nil, false, err
		}
		counts[ch.Name] = len(rules)
		for _, r := range rules {
			if s, ok := userdata.GetString(r.UserData, userdata.TypeComment); ok && s == nftCommentPrefix+token {
				mine = true
			}
		}
	}
	return tab, counts, mine, nil
}

// remove deletes the table if it is still the one create made.
func (t nftObj) remove(k *kernel, r *record) error {
	c, err := t.conn(k)
	if gone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	tab, _, mine, err := t.find(c, r.Token)
	switch {
	case err != nil:
		return fmt.Errorf("listing nftables table %s %s in %s: %w", t.Family, t.Name, k.label(t.Side), err)
	case tab == nil:
		return nil
	case !mine:
		k.warn(fmt.Sprintf("nftables table %s %s in %s is not the one start made: left in place", t.Family, t.Name, k.label(t.Side)))
		return nil
	}
	c.DelTable(tab)
	if err := c.Flush(); err != nil && !isNotFound(err) {
		return fmt.Errorf("deleting nftables table %s %s in %s: %w", t.Family, t.Name, k.label(t.Side), err)
	}
	return nil
}

func (t nftObj) observe(k *kernel, r *record) string {
	c, err := t.conn(k)
	if err != nil {
		return err.Error()
	}
	tab, counts, mine, err := t.find(c, r.Token)
	switch {
	case err != nil:
		return err.Error()
	case tab == nil:
		return "missing"
	case !mine:
		return "another table of that name"
	}
	t = t.resolved(r.Prior)
	var diffs []string
	for _, ch := range t.Chains {
		if n, ok := counts[ch.Name]; !ok || n != len(ch.Rules) {
			diffs = append(diffs, fmt.Sprintf("chain %s has %d rules; want %d", ch.Name, n, len(ch.Rules)))
		}
	}
	if len(counts) != len(t.Chains) {
		diffs = append(diffs, fmt.Sprintf("%d chains; want %d", len(counts), len(t.Chains)))
	}
	return strings.Join(diffs, "; ")
}

// otherMasquerade names another namespace's NAT table in the host whose
// rules match out of dev, or "".
func otherMasquerade(k *kernel, dev string) (string, error) {
	own := nftObj{Side: sideHost, Family: "ip", Name: "netns_daemon_" + k.n.ns + "_nat"}
	c, err := own.conn(k)
	if err != nil {
		return "", err
	}
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return "", err
	}
	want := ifname(dev)
	for _, ch := range chains {
		n := ch.Table.Name
		if n == own.Name || ch.Name != "post" || !strings.HasPrefix(n, "netns_daemon_") || !strings.HasSuffix(n, "_nat") {
			continue
		}
		rules, err := c.GetRules(ch.Table, ch)
		if err != nil {
			return "", err
		}
		for _, r := range rules {
			for _, e := range r.Exprs {
				if cmp, ok := e.(*expr.Cmp); ok && string(cmp.Data) == string(want) {
					return n, nil
				}
			}
		}
	}
	return "", nil
}

// forwardingBefore is dev's IPv4 forwarding in the host before any
// namespace's NAT out of it turned it on.
func forwardingBefore(k *kernel, dev string) (string, error) {
	s := hostSysctlObj{Key: "net.ipv4.conf." + sysctlIfName(dev) + ".forwarding", Dev: dev}
	if p := s.sharedPrior(k); p != nil {
		return *p, nil
	}
	h, err := k.hostns()
	if err != nil {
		return "", err
	}
	var v string
	err = xnetns.Do(h, func() error {
		b, err := os.ReadFile(sysctlPath(s.Key))
		v = strings.TrimSpace(string(b))
		return err
	})
	return v, err
}
