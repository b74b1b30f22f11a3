package provision

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func (a addrObj) create(k *kernel, _ *record) error {
	h, l, err := linkIn(k, a.Side, a.Dev)
	if err == nil {
		err = addAddr(h, l, a.CIDR)
	}
	if err != nil {
		return fmt.Errorf("adding address %s to %q in %s: %w", a.CIDR, a.Dev, k.label(a.Side), err)
	}
	k.changed(a.Side)
	return nil
}

// addAddr adds a static address; IPv6 ones skip duplicate address
// detection so the daemon can bind them at once.
func addAddr(h *netlink.Handle, l netlink.Link, cidr string) error {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return err
	}
	ad := &netlink.Addr{IPNet: prefixNet(p)}
	if p.Addr().Is6() {
		ad.Flags = unix.IFA_F_NODAD
	}
	return h.AddrAdd(l, ad)
}

func (a addrObj) remove(k *kernel, _ *record) error {
	h, l, err := linkIn(k, a.Side, a.Dev)
	if gone(err) {
		return nil
	}
	if err == nil {
		p, _ := netip.ParsePrefix(a.CIDR)
		err = h.AddrDel(l, &netlink.Addr{IPNet: prefixNet(p)})
	}
	if err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
		return fmt.Errorf("deleting address %s from %q in %s: %w", a.CIDR, a.Dev, k.label(a.Side), err)
	}
	k.changed(a.Side)
	return nil
}

func (a addrObj) observe(k *kernel, _ *record) string {
	l, err := k.linkByName(a.Side, a.Dev)
	if err == nil && l == nil {
		return fmt.Sprintf("link %q missing", a.Dev)
	}
	var addrs []netip.Prefix
	if err == nil {
		addrs, err = k.addrsOf(a.Side, l)
	}
	if err != nil {
		return err.Error()
	}
	want, _ := netip.ParsePrefix(a.CIDR)
	for _, p := range addrs {
		if p == want {
			return ""
		}
	}
	return "missing"
}

// linkIn finds a link by name on one side.
func linkIn(k *kernel, side, name string) (*netlink.Handle, netlink.Link, error) {
	l, err := k.linkByName(side, name)
	if err != nil {
		return nil, nil, err
	}
	if l == nil {
		return nil, nil, fmt.Errorf("finding %q in %s: %w", name, k.label(side), netlink.LinkNotFoundError{})
	}
	h, err := k.side(side)
	return h, l, err
}

// gone reports an error that means the thing to delete went already: its
// link, namespace or host namespace is gone.
func gone(err error) bool {
	return err != nil && (isNotFound(err) || errors.Is(err, errNamespaceGone) || errors.Is(err, errHostGone))
}

func (r routeObj) create(k *kernel, _ *record) error {
	h, l, err := linkIn(k, r.Side, r.Dev)
	if err == nil {
		err = addRoute(h, l.Attrs().Index, r)
	}
	if err != nil {
		return fmt.Errorf("adding route %s via %s dev %s in %s: %w", r.To, r.Via, r.Dev, k.label(r.Side), err)
	}
	k.changed(r.Side)
	return nil
}

func (r routeObj) netlink(index int) *netlink.Route {
	dst, _ := netip.ParsePrefix(r.To)
	rt := &netlink.Route{LinkIndex: index, Dst: prefixNet(dst), Table: r.Table}
	if r.Via != "" {
		gw, _ := netip.ParseAddr(r.Via)
		rt.Gw = gw.AsSlice()
	} else {
		rt.Scope = netlink.SCOPE_LINK
	}
	return rt
}

func addRoute(h *netlink.Handle, index int, r routeObj) error {
	return h.RouteAdd(r.netlink(index))
}

func (r routeObj) remove(k *kernel, _ *record) error {
	h, l, err := linkIn(k, r.Side, r.Dev)
	if gone(err) {
		return nil
	}
	if err == nil {
		err = h.RouteDel(r.netlink(l.Attrs().Index))
	}
	if err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("deleting route %s via %s dev %s in %s: %w", r.To, r.Via, r.Dev, k.label(r.Side), err)
	}
	k.changed(r.Side)
	return nil
}

func (r routeObj) observe(k *kernel, _ *record) string {
	if r.Table != 0 {
		return r.observeTable(k)
	}
	l, err := k.linkByName(r.Side, r.Dev)
	if err == nil && l == nil {
		return fmt.Sprintf("link %q missing", r.Dev)
	}
	var routes []netlink.Route
	if err == nil {
		routes, err = k.routesOf(r.Side, l)
	}
	if err != nil {
		return err.Error()
	}
	for _, rt := range routes {
		if rt.Table != unix.RT_TABLE_MAIN {
			continue
		}
		if got, ok := routeFromKernel(rt, r.Dev); ok && got.To == r.To && got.Via == r.Via {
			return ""
		}
	}
	return "missing"
}

func prefixNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
