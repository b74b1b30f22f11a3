package provision

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ifaceSteps makes one interface: the link where it lives, then its
// addresses, state, routes.
func ifaceSteps(s *Spec, ifc *Iface) []step {
	var steps []step
	switch ifc.Kind {
	case KindVeth:
		steps = append(steps, vethSteps(s, ifc)...)
	case KindMacvlan:
		steps = append(steps, macvlanStep(s, ifc))
	case KindDevice:
		steps = append(steps, moveDeviceSteps(s, ifc)...)
	}
	if ifc.Kind == KindDevice && (ifc.MTU != 0 || ifc.MAC != "") {
		steps = append(steps, linkAttrStep(s, ifc))
	}
	for _, a := range ifc.Addresses {
		steps = append(steps, addrStep(s.Name, ifc.Name, a, r2ns))
	}
	steps = append(steps, linkUpStep(s.Name, ifc.Name, r2ns))
	for _, rt := range ifc.Routes {
		steps = append(steps, routeStep(s.Name, ifc.Name, rt.To, rt.Via))
	}
	if ifc.Gateway != "" {
		steps = append(steps, routeStep(s.Name, ifc.Name, "default", ifc.Gateway))
	}
	if ifc.Gateway6 != "" {
		steps = append(steps, routeStep(s.Name, ifc.Name, "default6", ifc.Gateway6))
	}
	if ifc.Hairpin {
		steps = append(steps, hairpinSteps(s, ifc)...)
	}
	return steps
}

// r2ns and r2host pick the namespace a step works in.
func r2ns(r *run) (*netlink.Handle, error)   { return r.nl() }
func r2host(r *run) (*netlink.Handle, error) { return r.hostNL() }

func linkAttrs(name string, ifc *Iface) netlink.LinkAttrs {
	la := netlink.NewLinkAttrs()
	la.Name = name
	la.MTU = ifc.MTU
	if ifc.MAC != "" {
		la.HardwareAddr, _ = net.ParseMAC(ifc.MAC)
	}
	return la
}

func mtuArg(ifc *Iface) string {
	if ifc.MTU == 0 {
		return ""
	}
	return fmt.Sprintf(" mtu %d", ifc.MTU)
}

func vethSteps(s *Spec, ifc *Iface) []step {
	host := s.HostNetns
	addr := ""
	if ifc.MAC != "" {
		addr = " address " + ifc.MAC
	}
	steps := []step{{
		cmd: ipn(host, "link add %s%s type veth peer name %s%s%s netns %s", ifc.Peer, mtuArg(ifc), ifc.Name, mtuArg(ifc), addr, s.Name),
		do: func(r *run) error {
			h, ns, err := r.hostToNamespace()
			if err != nil {
				return err
			}
			la := netlink.NewLinkAttrs()
			la.Name = ifc.Peer
			la.MTU = ifc.MTU
			inside := linkAttrs(ifc.Name, ifc)
			v := &netlink.Veth{LinkAttrs: la, PeerName: ifc.Name, PeerNamespace: netlink.NsFd(ns),
				PeerHardwareAddr: inside.HardwareAddr}
			err = h.LinkAdd(v)
			if errors.Is(err, unix.EEXIST) && waitLinkGone(h, ifc.Peer, 2*time.Second) == nil {
				err = h.LinkAdd(v) // it was the peer of a namespace being reaped
			}
			if errors.Is(err, unix.EEXIST) {
				return fmt.Errorf("creating veth %q in %s: name already taken", ifc.Peer, r.hostLabel())
			}
			if err != nil {
				return fmt.Errorf("creating veth %q in namespace %q (peer %q in %s): %w", ifc.Name, s.Name, ifc.Peer, r.hostLabel(), err)
			}
			r.links[linkKey{h, ifc.Peer}] = v
			return nil
		},
		// Deleting the namespace deletes both ends; see reapPeers.
	}}
	if ifc.Bridge != "" {
		steps = append(steps, step{
			cmd: ipn(host, "link set %s master %s", ifc.Peer, ifc.Bridge),
			do: func(r *run) error {
				h, err := r.hostNL()
				if err != nil {
					return err
				}
				br, err := h.LinkByName(ifc.Bridge)
				if err != nil {
					return fmt.Errorf("finding bridge %q in %s: %w", ifc.Bridge, r.hostLabel(), err)
				}
				if err := h.LinkSetMasterByIndex(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: ifc.Peer}}, br.Attrs().Index); err != nil {
					return fmt.Errorf("enslaving %q to bridge %q in %s: %w", ifc.Peer, ifc.Bridge, r.hostLabel(), err)
				}
				return nil
			},
		})
	}
	for _, a := range ifc.PeerAddresses {
		steps = append(steps, addrStep(host, ifc.Peer, a, r2host))
	}
	return append(steps, linkUpStep(host, ifc.Peer, r2host))
}

func macvlanMode(m string) netlink.MacvlanMode {
	return map[string]netlink.MacvlanMode{
		"bridge": netlink.MACVLAN_MODE_BRIDGE, "private": netlink.MACVLAN_MODE_PRIVATE,
		"vepa": netlink.MACVLAN_MODE_VEPA, "passthru": netlink.MACVLAN_MODE_PASSTHRU,
	}[m]
}

// addMacvlan creates a macvlan on parent (in the host namespace) directly
// in the namespace target (nil: the host namespace itself).
func addMacvlan(r *run, name, parent, mode string, ifc *Iface, target any) error {
	h, err := r.hostNL()
	if err != nil {
		return err
	}
	p, err := h.LinkByName(parent)
	if err != nil {
		return fmt.Errorf("finding parent %q in %s: %w", parent, r.hostLabel(), err)
	}
	la := linkAttrs(name, ifc)
	la.ParentIndex = p.Attrs().Index
	la.Namespace = target
	return h.LinkAdd(&netlink.Macvlan{LinkAttrs: la, Mode: macvlanMode(mode)})
}

func macvlanStep(s *Spec, ifc *Iface) step {
	return step{
		cmd: ipn(s.HostNetns, "link add link %s name %s%s type macvlan mode %s netns %s", ifc.Parent, ifc.Name, mtuArg(ifc), ifc.Mode, s.Name),
		do: func(r *run) error {
			ns, err := r.netns()
			if err != nil {
				return err
			}
			if err := addMacvlan(r, ifc.Name, ifc.Parent, ifc.Mode, ifc, netlink.NsFd(ns)); err != nil {
				return fmt.Errorf("creating macvlan %q in namespace %q: %w", ifc.Name, s.Name, err)
			}
			return nil
		},
	}
}

// hairpinSteps give the host itself a way to the namespace's addresses: a
// macvlan cannot talk to its parent, so a sibling "shim" macvlan on the same
// parent in the host carries /32 (/128) routes to them.
func hairpinSteps(s *Spec, ifc *Iface) []step {
	shim := hairpinName(s, ifc)
	steps := []step{{
		cmd: ipn(s.HostNetns, "link add link %s name %s type macvlan mode bridge", ifc.Parent, shim),
		do: func(r *run) error {
			if err := addMacvlan(r, shim, ifc.Parent, "bridge", &Iface{}, nil); err != nil {
				return fmt.Errorf("creating hairpin macvlan %q in %s: %w", shim, r.hostLabel(), err)
			}
			return nil
		},
		undo: func(r *run) error { return deleteLink(r, shim) },
	}, linkUpStep(s.HostNetns, shim, r2host)}
	for _, a := range ifc.Addresses {
		p, _ := netip.ParsePrefix(a)
		host := netip.PrefixFrom(p.Addr(), p.Addr().BitLen())
		steps = append(steps, step{
			cmd: ipn(s.HostNetns, "route add %s dev %s", host, shim),
			do: func(r *run) error {
				h, l, err := r.find(r2host, r.hostLabel(), shim)
				if err != nil {
					return err
				}
				rt := &netlink.Route{LinkIndex: l.Attrs().Index, Dst: prefixNet(host), Scope: netlink.SCOPE_LINK}
				if err := h.RouteAdd(rt); err != nil {
					return fmt.Errorf("adding route %s dev %s in %s: %w", host, shim, r.hostLabel(), err)
				}
				return nil
			},
			// The routes go with the shim.
		})
	}
	return steps
}

func deleteLink(r *run, name string) error {
	h, err := r.hostNL()
	if err != nil {
		return nil // host namespace gone: so is the link
	}
	l, err := h.LinkByName(name)
	if err == nil {
		err = h.LinkDel(l)
	}
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("deleting %q in %s: %w", name, r.hostLabel(), err)
	}
	return nil
}

// moveDeviceSteps move an existing device in and, on undo, back to the
// host under its original name. Undo runs before the namespace is
// deleted: a device left in a dying namespace goes to the initial one.
func moveDeviceSteps(s *Spec, ifc *Iface) []step {
	steps := []step{{
		cmd: ipn(s.HostNetns, "link set dev %s netns %s", ifc.Parent, s.Name),
		do: func(r *run) error {
			h, ns, err := r.hostToNamespace()
			if err != nil {
				return err
			}
			l, err := h.LinkByName(ifc.Parent)
			if err != nil {
				return fmt.Errorf("finding device %q in %s: %w", ifc.Parent, r.hostLabel(), err)
			}
			if err := h.LinkSetNsFd(l, int(ns)); err != nil {
				return fmt.Errorf("moving device %q into namespace %q: %w", ifc.Parent, s.Name, err)
			}
			r.forgetLink(h, ifc.Parent)
			return nil
		},
		undo: func(r *run) error {
			h, err := r.nl()
			if err != nil {
				if errors.Is(err, errNamespaceGone) {
					r.warn(fmt.Sprintf("device %q: namespace %q is gone; the kernel returned the device to the initial namespace", ifc.Parent, s.Name))
					return nil
				}
				return err
			}
			l, err := h.LinkByName(ifc.Parent)
			if isNotFound(err) {
				return nil // not moved in, or already back
			}
			host, herr := r.hostns()
			if err == nil && herr == nil {
				if err = h.LinkSetDown(l); err == nil {
					err = h.LinkSetNsFd(l, int(host))
				}
			}
			if err == nil {
				err = herr
			}
			if err != nil {
				return fmt.Errorf("moving device %q back to %s: %w", ifc.Parent, r.hostLabel(), err)
			}
			return nil
		},
	}}
	if ifc.Name != ifc.Parent {
		steps = append(steps, step{
			cmd:  ipn(s.Name, "link set dev %s name %s", ifc.Parent, ifc.Name),
			do:   func(r *run) error { return renameIn(r, s.Name, ifc.Parent, ifc.Name) },
			undo: func(r *run) error { return renameIn(r, s.Name, ifc.Name, ifc.Parent) },
		})
	}
	return steps
}

// renameIn renames a link inside the namespace; a missing link is not an
// error on the way back.
func renameIn(r *run, ns, from, to string) error {
	h, err := r.nl()
	if err != nil {
		if errors.Is(err, errNamespaceGone) {
			return nil
		}
		return err
	}
	l, err := h.LinkByName(from)
	if err != nil {
		if isNotFound(err) {
			if _, err2 := h.LinkByName(to); err2 == nil {
				return nil // already renamed
			}
		}
		return fmt.Errorf("finding %q in namespace %q: %w", from, ns, err)
	}
	r.forgetLink(h, from)
	if err = h.LinkSetDown(l); err == nil {
		err = h.LinkSetName(l, to)
	}
	if err != nil {
		return fmt.Errorf("renaming %q to %q in namespace %q: %w", from, to, ns, err)
	}
	return nil
}

func linkAttrStep(s *Spec, ifc *Iface) step {
	cmd := ipn(s.Name, "link set dev %s%s", ifc.Name, mtuArg(ifc))
	if ifc.MAC != "" {
		cmd += " address " + ifc.MAC
	}
	return step{
		cmd: cmd,
		do: func(r *run) error {
			h, l, err := r.find(r2ns, nsLabel(s.Name), ifc.Name)
			if err == nil && ifc.MTU != 0 {
				err = h.LinkSetMTU(l, ifc.MTU)
			}
			if err == nil && ifc.MAC != "" {
				hw, _ := net.ParseMAC(ifc.MAC)
				err = h.LinkSetHardwareAddr(l, hw)
			}
			if err != nil {
				return fmt.Errorf("setting mtu/mac of %q in namespace %q: %w", ifc.Name, s.Name, err)
			}
			return nil
		},
	}
}

func linkUpStep(ns, name string, where func(*run) (*netlink.Handle, error)) step {
	return step{
		cmd: ipn(ns, "link set %s up", name),
		do: func(r *run) error {
			h, l, err := r.find(where, nsLabel(ns), name)
			if err == nil {
				err = h.LinkSetUp(l)
			}
			if err != nil {
				return fmt.Errorf("setting %q up in %s: %w", name, nsLabel(ns), err)
			}
			return nil
		},
	}
}

func nsLabel(ns string) string {
	if ns == "" {
		return "the host namespace"
	}
	return fmt.Sprintf("namespace %q", ns)
}

func prefixNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
