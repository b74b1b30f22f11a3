package cni

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"

	xnetns "github.com/netns-daemon/netns-daemon/internal/netns"
	"github.com/netns-daemon/netns-daemon/provision"
)

// hasLink reports whether the namespace has a link called name.
func hasLink(ns xnetns.Handle, name string) (bool, error) {
	h, err := netlink.NewHandleAt(vnetns.NsHandle(ns.Fd()))
	if err != nil {
		return false, types.NewError(types.ErrInternal, "opening netlink in CNI_NETNS: "+err.Error(), "")
	}
	defer h.Close()
	_, err = h.LinkByName(name)
	var nf netlink.LinkNotFoundError
	switch {
	case errors.As(err, &nf):
		return false, nil
	case err != nil:
		return false, types.NewError(types.ErrInternal, fmt.Sprintf("finding %q in CNI_NETNS: %v", name, err), "")
	}
	return true, nil
}

// cmdGC removes the attachments of this network that the runtime no
// longer lists, on the host side (their namespaces are gone or not ours
// to enter), and releases their IPAM addresses.
func cmdGC(args *skel.CmdArgs) error {
	c, err := ParseConfig(args.StdinData)
	if err != nil {
		return err
	}
	valid := map[attachment]bool{}
	for _, v := range c.ValidAttachments {
		valid[attachment{Network: c.Name, ContainerID: v.ContainerID, IfName: v.IfName}] = true
	}
	recs, err := records(c.Name)
	if err != nil {
		return withCode(err)
	}
	ctx := context.Background()
	var errs []error
	for _, a := range recs {
		if valid[a] {
			continue
		}
		err := provision.StopDetached(ctx, a.name(), provision.Options{})
		if err == nil && c.IPAM.Type != "" {
			err = releaseIPAM(ctx, c, args, a)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("container %q, interface %q: %w", a.ContainerID, a.IfName, err))
			continue
		}
		removeRecord(a)
	}
	return withCode(errors.Join(errs...))
}

// releaseIPAM sends the IPAM plugin a DEL for one collected attachment, at
// the last version without GC (an IPAM plugin of an older release refuses
// a config of a version it does not know; DEL means the same in both).
func releaseIPAM(ctx context.Context, c *NetConf, args *skel.CmdArgs, a attachment) error {
	path, err := invoke.FindInPath(c.IPAM.Type, filepath.SplitList(args.Path))
	if err != nil {
		return err
	}
	var conf map[string]any
	if err := json.Unmarshal(args.StdinData, &conf); err != nil {
		return err
	}
	conf["cniVersion"] = "1.0.0"
	delete(conf, "cni.dev/valid-attachments")
	b, _ := json.Marshal(conf)
	return invoke.ExecPluginWithoutResult(ctx, path, b,
		&invoke.Args{Command: "DEL", ContainerID: a.ContainerID, IfName: a.IfName, Path: args.Path}, nil)
}

// errPluginNotAvailable is STATUS's "cannot service ADD" (spec 1.1.0; the
// library release we use names no constant for it).
const errPluginNotAvailable uint = 50

// cmdStatus says whether ADD can work: the state directory, the IPAM
// plugin and a macvlan's parent are there.
func cmdStatus(args *skel.CmdArgs) error {
	c, err := ParseConfig(args.StdinData)
	if err != nil {
		return err
	}
	d, err := stateDir()
	if err != nil {
		return types.NewError(errPluginNotAvailable, err.Error(), "")
	}
	d.Close()
	if c.IPAM.Type != "" {
		if _, err := invoke.FindInPath(c.IPAM.Type, filepath.SplitList(args.Path)); err != nil {
			return types.NewError(errPluginNotAvailable, fmt.Sprintf("ipam.type = %q: %v", c.IPAM.Type, err), "")
		}
	}
	if c.Kind == provision.KindMacvlan {
		if _, err := net.InterfaceByName(c.Parent); err != nil {
			return types.NewError(errPluginNotAvailable, fmt.Sprintf("parent = %q: %v", c.Parent, err), "")
		}
	}
	return nil
}

// checkPrev compares the kernel with what prevResult says of the
// interface: its MAC and its addresses.
func checkPrev(ns xnetns.Handle, prev *current.Result, ifname string) error {
	idx := chainedIface(prev, ifname)
	if idx < 0 {
		return nil // nothing listed to compare
	}
	h, err := netlink.NewHandleAt(vnetns.NsHandle(ns.Fd()))
	if err != nil {
		return err
	}
	defer h.Close()
	l, err := h.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("prevResult lists %q: %w", ifname, err)
	}
	if want := prev.Interfaces[idx].Mac; want != "" && !strings.EqualFold(l.Attrs().HardwareAddr.String(), want) {
		return fmt.Errorf("%q has mac %s; prevResult says %s", ifname, l.Attrs().HardwareAddr, want)
	}
	addrs, err := h.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		return err
	}
	for _, ip := range prev.IPs {
		if ip.Interface == nil || *ip.Interface != idx {
			continue
		}
		if !slices.ContainsFunc(addrs, func(a netlink.Addr) bool { return a.IPNet.String() == ip.Address.String() }) {
			return fmt.Errorf("%q lacks %s, which prevResult lists", ifname, ip.Address.String())
		}
	}
	return nil
}
