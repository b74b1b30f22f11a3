package provision

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// addrStep adds a static address. IPv6 addresses skip duplicate address
// detection so the daemon can bind them at once.
func addrStep(ns, dev, cidr string, where func(*run) (*netlink.Handle, error)) step {
	p, _ := netip.ParsePrefix(cidr)
	cmd := ipn(ns, "addr add %s dev %s", cidr, dev)
	if p.Addr().Is6() {
		cmd += " nodad"
	}
	return step{
		cmd: cmd,
		do: func(r *run) error {
			h, l, err := r.find(where, nsLabel(ns), dev)
			if err != nil {
				return err
			}
			a := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
			if p.Addr().Is6() {
				a.Flags = unix.IFA_F_NODAD
			}
			if err := h.AddrAdd(l, a); err != nil {
				return fmt.Errorf("adding address %s to %q in %s: %w", cidr, dev, nsLabel(ns), err)
			}
			return nil
		},
		// Addresses go with their link.
	}
}

// routeStep adds a route in the namespace; to is a CIDR, "default" (IPv4)
// or "default6".
func routeStep(ns, dev, to, via string) step {
	var dst netip.Prefix
	shown := to
	switch to {
	case "default":
		dst = netip.MustParsePrefix("0.0.0.0/0")
	case "default6":
		dst, shown = netip.MustParsePrefix("::/0"), "default"
	default:
		dst, _ = netip.ParsePrefix(to)
		dst = dst.Masked()
	}
	cmd := ipn(ns, "route add %s", shown)
	if dst.Addr().Is6() && to == "default6" {
		cmd = ipn(ns, "-6 route add default")
	}
	if via != "" {
		cmd += " via " + via
	}
	cmd += " dev " + dev
	return step{
		cmd: cmd,
		do: func(r *run) error {
			h, l, err := r.find(r2ns, nsLabel(ns), dev)
			if err != nil {
				return err
			}
			rt := &netlink.Route{LinkIndex: l.Attrs().Index, Dst: prefixNet(dst)}
			if via != "" {
				gw, _ := netip.ParseAddr(via)
				rt.Gw = gw.AsSlice()
			} else {
				rt.Scope = netlink.SCOPE_LINK
			}
			if err := h.RouteAdd(rt); err != nil {
				return fmt.Errorf("adding route %s via %s dev %s in namespace %q: %w", shown, via, dev, ns, err)
			}
			return nil
		},
	}
}
