package cni

import (
	"fmt"
	"net/netip"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"

	xnetns "github.com/netns-daemon/netns-daemon/internal/netns"
	"github.com/netns-daemon/netns-daemon/provision"
)

// result is what ADD made as the kernel reports it: the interfaces with
// their MACs (runtimes refuse a sandbox interface without one), the
// addresses with the index of their interface, routes and DNS. In chained
// mode it is the earlier result, amended.
func (c *NetConf) result(spec *provision.Spec, ns xnetns.Handle, ipam, prev *current.Result) (*current.Result, error) {
	ifc := spec.Ifaces()[0]
	h, err := netlink.NewHandleAt(vnetns.NsHandle(ns.Fd()))
	if err != nil {
		return nil, err
	}
	defer h.Close()
	in, err := h.LinkByName(ifc.Name)
	if err != nil {
		return nil, err
	}
	res := &current.Result{CNIVersion: current.ImplementedSpecVersion}
	idx := -1
	if prev != nil {
		res.Interfaces, res.IPs, res.Routes, res.DNS = prev.Interfaces, prev.IPs, prev.Routes, prev.DNS
		idx = chainedIface(prev, ifc.Name)
	}
	if idx < 0 {
		if ifc.Kind == provision.KindVeth {
			peer, err := netlink.LinkByName(ifc.Peer)
			if err != nil {
				return nil, fmt.Errorf("finding peer %q: %w", ifc.Peer, err)
			}
			res.Interfaces = append(res.Interfaces, &current.Interface{Name: ifc.Peer, Mac: peer.Attrs().HardwareAddr.String(), Mtu: peer.Attrs().MTU})
		}
		res.Interfaces = append(res.Interfaces, &current.Interface{Name: ifc.Name, Sandbox: spec.NetnsFile})
		idx = len(res.Interfaces) - 1
	}
	me := res.Interfaces[idx]
	me.Mac, me.Mtu = in.Attrs().HardwareAddr.String(), in.Attrs().MTU
	for _, a := range ifc.Addresses {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			continue
		}
		ip := &current.IPConfig{Interface: current.Int(idx), Address: ipNet(p)}
		if gw := map[bool]string{true: ifc.Gateway, false: ifc.Gateway6}[p.Addr().Is4()]; gw != "" {
			ip.Gateway = netip.MustParseAddr(gw).AsSlice()
		}
		res.IPs = append(res.IPs, ip)
	}
	if c.Role == RoleInbound { // never a default route, whoever listed one
		var keep []*types.Route
		for _, r := range res.Routes {
			if ones, _ := r.Dst.Mask.Size(); ones != 0 {
				keep = append(keep, r)
			}
		}
		res.Routes = keep
	}
	res.Routes = append(res.Routes, routesOf(ifc)...)
	if d := c.dnsOf(ipam); !d.IsEmpty() {
		res.DNS = d
	}
	return res, nil
}
