package provision

import (
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Inspect reads name's links, addresses and routes from the kernel.
func Inspect(name string) (*Report, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	st, err := ReadState(name)
	if err != nil {
		return nil, err
	}
	rep := &Report{Name: name, Path: NetnsPath(name), Complete: st != nil && st.Complete,
		Interfaces: []IfaceReport{}, Routes: []RouteReport{}, Drift: []Difference{}}
	if st != nil {
		rep.Drift = Drift(st)
	}
	k := newKernel(&Spec{Name: name}, nil)
	defer k.close()
	h, err := k.nl()
	if err != nil {
		return nil, err
	}
	links, err := retryDump(func() ([]netlink.Link, error) { return h.LinkList() })
	if err != nil {
		return nil, fmt.Errorf("listing links in namespace %q: %w", name, err)
	}
	names := map[int]string{}
	for _, l := range links {
		a := l.Attrs()
		names[a.Index] = a.Name
		ir := IfaceReport{Name: a.Name, Kind: l.Type(), Up: a.Flags&unix.IFF_UP != 0, MTU: a.MTU, Addresses: []string{}}
		if len(a.HardwareAddr) > 0 {
			ir.MAC = a.HardwareAddr.String()
		}
		addrs, err := retryDump(func() ([]netlink.Addr, error) { return h.AddrList(l, unix.AF_UNSPEC) })
		if err != nil {
			return nil, fmt.Errorf("listing addresses of %q in namespace %q: %w", a.Name, name, err)
		}
		for _, ad := range addrs {
			if ad.IP.IsLinkLocalUnicast() {
				continue
			}
			ir.Addresses = append(ir.Addresses, ad.IPNet.String())
		}
		rep.Interfaces = append(rep.Interfaces, ir)
	}
	routes, err := retryDump(func() ([]netlink.Route, error) { return h.RouteList(nil, unix.AF_UNSPEC) })
	if err != nil {
		return nil, fmt.Errorf("listing routes in namespace %q: %w", name, err)
	}
	for _, rt := range routes {
		if rt.Dst != nil && rt.Dst.IP.IsLinkLocalUnicast() || rt.Dst != nil && rt.Dst.IP.IsMulticast() {
			continue
		}
		rr := RouteReport{To: "default", Dev: names[rt.LinkIndex]}
		if rt.Dst != nil {
			if ones, _ := rt.Dst.Mask.Size(); ones > 0 {
				rr.To = rt.Dst.String()
			}
		}
		if rt.Gw != nil {
			rr.Via = rt.Gw.String()
		}
		rep.Routes = append(rep.Routes, rr)
	}
	if rep.PIDs, err = PIDsInside(name); err != nil {
		return nil, err
	}
	return rep, nil
}
