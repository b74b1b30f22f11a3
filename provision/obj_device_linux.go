package provision

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	xnetns "github.com/netns-daemon/netns-daemon/internal/netns"
)

func randUint32() uint32 { return rand.Uint32() }

// moveIn moves an existing device into the namespace. What the device was
// in the host (name, ifindex, MTU, MAC, up, addresses, routes: the move
// flushes the last two) is recorded, written ahead, before it moves.
func moveIn(k *kernel, l linkObj, r *record) error {
	dev, err := k.linkByName(sideHost, l.Parent)
	if err == nil && dev == nil {
		err = fmt.Errorf("finding device %q in %s: %w", l.Parent, k.hostLabel(), unix.ENODEV)
	}
	if err == nil {
		r.Device, err = describeDevice(k, dev)
	}
	if err != nil {
		return err
	}
	if err := k.ahead(); err != nil {
		return err
	}
	ns, err := k.netns()
	if err != nil {
		return err
	}
	h, _ := k.hostNL()
	if err := h.LinkSetNsFd(dev, ns.Fd()); err != nil {
		return fmt.Errorf("moving device %q into namespace %q: %w", l.Parent, k.n.ns, err)
	}
	k.changed(sideHost)
	k.changed(sideNS)
	nsh, _ := k.nl()
	in, err := nsh.LinkByName(l.Parent)
	if err != nil {
		return fmt.Errorf("finding device %q in namespace %q: %w", l.Parent, k.n.ns, err)
	}
	r.Index = in.Attrs().Index
	if l.Name != l.Parent {
		if err := nsh.LinkSetName(in, l.Name); err != nil {
			return fmt.Errorf("renaming %q to %q in namespace %q: %w", l.Parent, l.Name, k.n.ns, err)
		}
	}
	if l.MTU != 0 {
		if err := nsh.LinkSetMTU(in, l.MTU); err != nil {
			return fmt.Errorf("setting mtu of %q in namespace %q: %w", l.Name, k.n.ns, err)
		}
	}
	if l.MAC != "" {
		hw, _ := net.ParseMAC(l.MAC)
		if err := nsh.LinkSetHardwareAddr(in, hw); err != nil {
			return fmt.Errorf("setting mac of %q in namespace %q: %w", l.Name, k.n.ns, err)
		}
	}
	return setUp(k, sideNS, l.Name, 0)
}

func describeDevice(k *kernel, dev netlink.Link) (*deviceBefore, error) {
	a := dev.Attrs()
	d := &deviceBefore{Name: a.Name, Index: a.Index, MTU: a.MTU, MAC: a.HardwareAddr.String(), Up: a.Flags&net.FlagUp != 0}
	addrs, err := k.addrsOf(sideHost, dev)
	if err != nil {
		return nil, err
	}
	routes, err := k.routesOf(sideHost, dev)
	if err != nil {
		return nil, err
	}
	for _, p := range addrs {
		if !p.Addr().IsLinkLocalUnicast() {
			d.Addrs = append(d.Addrs, p.String())
		}
	}
	for _, rt := range routes {
		if rt.Protocol == unix.RTPROT_KERNEL {
			continue
		}
		if ro, ok := routeFromKernel(rt, a.Name); ok && !isLinkLocalRoute(ro) {
			d.Routes = append(d.Routes, ro)
		}
	}
	return d, nil
}

func routeFromKernel(rt netlink.Route, dev string) (routeObj, bool) {
	ro := routeObj{Side: sideHost, Dev: dev}
	if rt.Dst == nil {
		ro.To = "0.0.0.0/0"
		if rt.Family == unix.AF_INET6 {
			ro.To = "::/0"
		}
	} else {
		ip, ok := netip.AddrFromSlice(rt.Dst.IP)
		if !ok {
			return ro, false
		}
		ones, _ := rt.Dst.Mask.Size()
		ro.To = netip.PrefixFrom(ip.Unmap(), ones).String()
	}
	if rt.Gw != nil {
		gw, _ := netip.AddrFromSlice(rt.Gw)
		ro.Via = gw.Unmap().String()
	}
	return ro, true
}

func isLinkLocalRoute(r routeObj) bool {
	p, err := netip.ParsePrefix(r.To)
	return err == nil && (p.Addr().IsLinkLocalUnicast() || p.Addr().IsMulticast())
}

// moveBack returns a moved device to the host exactly as it was. It finds
// the device wherever it is — still inside, or already back from a stop
// that was interrupted — by ifindex, name and MAC.
func moveBack(k *kernel, l linkObj, r *record) error {
	before := r.Device
	if before == nil {
		before = &deviceBefore{Name: l.Parent} // format 1: nothing recorded
	}
	hns, herr := k.hostns()
	if herr != nil && !k.force {
		return fmt.Errorf("moving device %q back: %w: stop again with --force to move it to the initial namespace instead", before.Name, herr)
	}
	if in := findDeviceInside(k, l, r, before); in != nil {
		target := hns
		if herr != nil {
			init, err := xnetns.OfPID(1)
			if err != nil {
				return fmt.Errorf("opening the initial namespace: %w", err)
			}
			defer init.Close()
			target = init
			k.warn(fmt.Sprintf("device %q: %v: moving it to the initial namespace", before.Name, herr))
		}
		nsh, _ := k.nl()
		err := nsh.LinkSetDown(in)
		if err == nil && in.Attrs().Name != before.Name {
			err = nsh.LinkSetName(in, before.Name)
		}
		if err == nil {
			err = nsh.LinkSetNsFd(in, target.Fd())
		}
		if err != nil {
			return fmt.Errorf("moving device %q back to %s: %w", before.Name, k.hostLabel(), err)
		}
		k.changed(sideNS)
		if herr != nil {
			return nil
		}
	} else if herr != nil {
		return nil
	}
	k.changed(sideHost)
	return restoreDevice(k, before)
}

func findDeviceInside(k *kernel, l linkObj, r *record, before *deviceBefore) netlink.Link {
	v, err := k.nsView()
	if err != nil {
		return nil
	}
	ours := func(in netlink.Link) bool { // the MAC it had, or the one start set
		mac := in.Attrs().HardwareAddr.String()
		return before.MAC == "" || mac == before.MAC || mac == l.MAC
	}
	if in := v.byIndex[r.Index]; r.Index != 0 && in != nil && ours(in) {
		return in
	}
	for _, name := range []string{l.Name, before.Name} {
		if in := v.byName[name]; in != nil && ours(in) {
			return in
		}
	}
	return nil
}

// restoreDevice puts the device's name-independent settings back in the
// host: MTU, MAC, its addresses and routes, then up if it was.
func restoreDevice(k *kernel, before *deviceBefore) error {
	h, err := k.hostNL()
	if err != nil {
		return err
	}
	dev, err := h.LinkByName(before.Name)
	if isNotFound(err) {
		k.warn(fmt.Sprintf("device %q is not in %s after moving it back", before.Name, k.hostLabel()))
		return nil
	}
	if err != nil {
		return fmt.Errorf("finding device %q in %s: %w", before.Name, k.hostLabel(), err)
	}
	var errs []error
	a := dev.Attrs()
	if before.MTU != 0 && a.MTU != before.MTU {
		errs = append(errs, h.LinkSetMTU(dev, before.MTU))
	}
	if hw, err := net.ParseMAC(before.MAC); err == nil && a.HardwareAddr.String() != before.MAC {
		errs = append(errs, h.LinkSetHardwareAddr(dev, hw))
	}
	if before.Up {
		errs = append(errs, h.LinkSetUp(dev))
	}
	for _, cidr := range before.Addrs {
		err := addAddr(h, dev, cidr)
		if !errors.Is(err, unix.EEXIST) {
			errs = append(errs, err)
		}
	}
	for _, ro := range before.Routes {
		err := addRoute(h, dev.Attrs().Index, ro)
		if !errors.Is(err, unix.EEXIST) {
			errs = append(errs, err)
		}
	}
	k.changed(sideHost)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("restoring device %q in %s: %w", before.Name, k.hostLabel(), err)
	}
	return nil
}
