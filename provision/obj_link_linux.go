package provision

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func (l linkObj) create(k *kernel, r *record) error {
	var err error
	switch l.Kind {
	case KindVeth:
		err = l.createVeth(k, r)
	case KindMacvlan:
		err = l.createMacvlan(k, r)
	case KindDevice:
		return moveIn(k, l, r)
	case KindExisting:
		return adopt(k, l, r)
	}
	if err != nil {
		return err
	}
	k.changed(sideNS)
	return setUp(k, sideNS, l.Name, r.Index)
}

func (l linkObj) attrs() netlink.LinkAttrs {
	la := netlink.NewLinkAttrs()
	la.Name = l.Name
	la.MTU = l.MTU
	if l.MAC != "" {
		la.HardwareAddr, _ = net.ParseMAC(l.MAC)
	}
	return la
}

// createVeth makes the pair with its inside end born in the namespace: no
// rename, no window in which the name is taken in the host.
func (l linkObj) createVeth(k *kernel, r *record) error {
	h, err := k.hostNL()
	if err != nil {
		return err
	}
	ns, err := k.netns()
	if err != nil {
		return err
	}
	la := netlink.NewLinkAttrs()
	la.Name, la.MTU = l.Peer, l.MTU
	v := &netlink.Veth{LinkAttrs: la, PeerName: l.Name, PeerNamespace: netlink.NsFd(ns.Fd()),
		PeerHardwareAddr: l.attrs().HardwareAddr}
	err = h.LinkAdd(v)
	if errors.Is(err, unix.EEXIST) && waitLinkGone(h, l.Peer, 2*time.Second) == nil {
		err = h.LinkAdd(v) // it was the peer of a namespace being reaped
	}
	if errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("creating veth %q in %s: name already taken", l.Peer, k.hostLabel())
	}
	if err != nil {
		return fmt.Errorf("creating veth %q in namespace %q (peer %q in %s): %w", l.Name, k.n.ns, l.Peer, k.hostLabel(), err)
	}
	k.changed(sideHost)
	r.PeerIndex = v.Index
	if err := l.recordIndex(k, r); err != nil {
		return err
	}
	if l.Bridge != "" {
		br, err := h.LinkByName(l.Bridge)
		if err == nil {
			err = h.LinkSetMasterByIndex(v, br.Attrs().Index)
		}
		if err != nil {
			return fmt.Errorf("enslaving %q to bridge %q in %s: %w", l.Peer, l.Bridge, k.hostLabel(), err)
		}
	}
	return setUp(k, sideHost, l.Peer, v.Index)
}

func (l linkObj) createMacvlan(k *kernel, r *record) error {
	ns, err := k.netns()
	if err != nil {
		return err
	}
	la := l.attrs()
	la.Namespace = netlink.NsFd(ns.Fd())
	if err := addMacvlan(k, la, l.Parent, l.Mode); err != nil {
		return fmt.Errorf("creating macvlan %q in namespace %q: %w", l.Name, k.n.ns, err)
	}
	return l.recordIndex(k, r)
}

func (l linkObj) recordIndex(k *kernel, r *record) error {
	h, err := k.nl()
	if err != nil {
		return err
	}
	in, err := h.LinkByName(l.Name)
	if err != nil {
		return fmt.Errorf("finding %q in namespace %q: %w", l.Name, k.n.ns, err)
	}
	r.Index = in.Attrs().Index
	return nil
}

// addMacvlan creates a macvlan on parent, a link of the host namespace, in
// the namespace la.Namespace names (nil: the host namespace).
func addMacvlan(k *kernel, la netlink.LinkAttrs, parent, mode string) error {
	h, err := k.hostNL()
	if err != nil {
		return err
	}
	p, err := h.LinkByName(parent)
	if err != nil {
		return fmt.Errorf("finding parent %q in %s: %w", parent, k.hostLabel(), err)
	}
	la.ParentIndex = p.Attrs().Index
	return h.LinkAdd(&netlink.Macvlan{LinkAttrs: la, Mode: netlinkMacvlanModes[mode]})
}

var netlinkMacvlanModes = map[string]netlink.MacvlanMode{
	"bridge": netlink.MACVLAN_MODE_BRIDGE, "private": netlink.MACVLAN_MODE_PRIVATE,
	"vepa": netlink.MACVLAN_MODE_VEPA, "passthru": netlink.MACVLAN_MODE_PASSTHRU,
}

// setUp sets link name (ifindex index, 0 if not known) up on side; with
// the index known that is one netlink round trip, not two.
func setUp(k *kernel, side, name string, index int) error {
	h, err := k.side(side)
	if err != nil {
		return err
	}
	err = h.LinkSetUp(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: name, Index: index}})
	if err != nil {
		return fmt.Errorf("setting %q up in %s: %w", name, k.label(side), err)
	}
	k.changed(side)
	return nil
}

// remove deletes the link inside if it is still the one start made (same
// ifindex and name). The veth's host side goes with it.
func (l linkObj) remove(k *kernel, r *record) error {
	if l.Kind == KindDevice {
		return moveBack(k, l, r)
	}
	if r.Existed {
		return nil // an earlier plugin's: not ours to delete
	}
	v, err := k.nsView()
	if errors.Is(err, errNamespaceGone) {
		return nil
	}
	if err != nil {
		return err
	}
	in := findLink(v, r.Index, l.Name)
	if in == nil {
		if other := v.byName[l.Name]; other != nil {
			k.warn(fmt.Sprintf("%q in namespace %q is not the link start made (ifindex %d, made %d): left alone",
				l.Name, k.n.ns, other.Attrs().Index, r.Index))
		}
		return nil
	}
	h, _ := k.nl()
	if err := h.LinkDel(in); err != nil && !isNotFound(err) {
		return fmt.Errorf("deleting %s %q in namespace %q: %w", l.Kind, l.Name, k.n.ns, err)
	}
	k.changed(sideNS)
	k.changed(sideHost)
	return nil
}

// findLink returns the link with index (when known) and name, or nil: a
// link whose index no longer matches is someone else's.
func findLink(v *view, index int, name string) netlink.Link { return sameLink(v.byName[name], index) }

func sameLink(l netlink.Link, index int) netlink.Link {
	if l == nil || index != 0 && l.Attrs().Index != index {
		return nil
	}
	return l
}

func (l linkObj) observe(k *kernel, r *record) string {
	v, err := k.nsView()
	if err != nil {
		return err.Error()
	}
	in := findLink(v, r.Index, l.Name)
	if in == nil {
		return "missing"
	}
	a := in.Attrs()
	switch {
	case l.Kind != KindDevice && l.Kind != KindExisting && in.Type() != l.Kind:
		return fmt.Sprintf("kind %s; want %s", in.Type(), l.Kind)
	case l.MTU != 0 && a.MTU != l.MTU:
		return fmt.Sprintf("mtu %d; want %d", a.MTU, l.MTU)
	case l.MAC != "" && a.HardwareAddr.String() != l.MAC:
		return fmt.Sprintf("mac %s; want %s", a.HardwareAddr, l.MAC)
	case a.Flags&net.FlagUp == 0:
		return "down"
	}
	if l.Kind == KindVeth {
		peer, err := k.linkByName(sideHost, l.Peer)
		switch {
		case err != nil:
			return err.Error()
		case peer == nil || r.PeerIndex != 0 && peer.Attrs().Index != r.PeerIndex:
			return fmt.Sprintf("peer %q missing in %s", l.Peer, k.hostLabel())
		case peer.Attrs().Flags&net.FlagUp == 0:
			return fmt.Sprintf("peer %q down", l.Peer)
		}
	}
	return ""
}

// waitLinkGone polls until name is gone, for at most d; it returns the link
// if it is still there.
func waitLinkGone(h *netlink.Handle, name string, d time.Duration) netlink.Link {
	deadline := time.Now().Add(d)
	for wait := 100 * time.Microsecond; ; wait = min(2*wait, 20*time.Millisecond) {
		l, err := h.LinkByName(name)
		if err != nil || time.Now().After(deadline) {
			return l
		}
		time.Sleep(wait)
	}
}

// create makes the hairpin shim under an ifindex chosen here and recorded
// (written ahead) before the link exists: stop then deletes exactly that
// link, never another that took the name.
func (s shimObj) create(k *kernel, r *record) error {
	h, err := k.hostNL()
	if err != nil {
		return err
	}
	la := netlink.NewLinkAttrs()
	la.Name = s.Name
	for range 3 {
		if r.Index, err = freeIndex(h); err != nil {
			return err
		}
		la.Index = r.Index
		if err = k.ahead(); err != nil {
			return err
		}
		err = addMacvlan(k, la, s.Parent, "bridge")
		if !errors.Is(err, unix.EEXIST) {
			break
		}
		if taken, _ := k.linkByName(sideHost, s.Name); taken != nil {
			err = errors.New("name already taken")
			break
		}
	}
	if err != nil {
		r.Index = 0
		return fmt.Errorf("creating hairpin macvlan %q in %s: %w", s.Name, k.hostLabel(), err)
	}
	r.Done = true
	return setUp(k, sideHost, s.Name, r.Index)
}

func (s shimObj) remove(k *kernel, r *record) error {
	l, err := k.linkByName(sideHost, s.Name)
	if gone(err) {
		return nil // the host namespace went, and the shim with it
	}
	if err != nil {
		return err
	}
	if sameLink(l, r.Index) == nil {
		if l != nil {
			k.warn(fmt.Sprintf("%q in %s is not the shim start made (ifindex %d, made %d): left alone",
				s.Name, k.hostLabel(), l.Attrs().Index, r.Index))
		}
		return nil
	}
	h, _ := k.hostNL()
	if err := h.LinkDel(l); err != nil && !isNotFound(err) {
		return fmt.Errorf("deleting hairpin macvlan %q in %s: %w", s.Name, k.hostLabel(), err)
	}
	return nil
}

func (s shimObj) observe(k *kernel, r *record) string {
	l, err := k.linkByName(sideHost, s.Name)
	switch {
	case err != nil:
		return err.Error()
	case sameLink(l, r.Index) == nil:
		return "missing"
	case l.Attrs().Flags&net.FlagUp == 0:
		return "down"
	}
	return ""
}

// freeIndex picks an ifindex nothing in the host namespace uses, far above
// the kernel's own sequential ones.
func freeIndex(h *netlink.Handle) (int, error) {
	for range 16 {
		i := 1<<20 + int(randUint32()%(1<<30))
		if _, err := h.LinkByIndex(i); isNotFound(err) {
			return i, nil
		}
	}
	return 0, errors.New("no free ifindex found")
}
