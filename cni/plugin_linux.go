package cni

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/version"

	xnetns "github.com/netns-daemon/netns-daemon/internal/netns"
	"github.com/netns-daemon/netns-daemon/provision"
)

// Codes of this plugin's own errors (the spec leaves 100 and up to
// plugins).
const (
	ErrIfaceExists    uint = 100 // CNI_IFNAME is in the container already
	ErrAttachmentTwin uint = 101 // ADD again for a live attachment
)

// Main runs the plugin: the one call of cmd/netns-daemon-cni.
func Main() {
	provision.StateDir = StateDir
	skel.PluginMainFuncs(skel.CNIFuncs{Add: cmdAdd, Del: cmdDel, Check: cmdCheck, GC: cmdGC, Status: cmdStatus},
		version.All, "netns-daemon-cni: the netns-daemon interface table as a CNI plugin")
}

func cmdAdd(args *skel.CmdArgs) error {
	c, err := ParseConfig(args.StdinData)
	if err != nil {
		return err
	}
	ctx := context.Background()
	a := attachment{Network: c.Name, ContainerID: args.ContainerID, IfName: args.IfName}
	ns, err := openNetns(args.Netns)
	if err != nil {
		return err
	}
	defer ns.Close()
	if self, err := xnetns.Current(); err == nil {
		same := self.ID() == ns.ID()
		self.Close()
		if same { // skel would say so only after ADD: the host would be its own container
			return types.NewError(types.ErrInvalidNetNS, fmt.Sprintf("CNI_NETNS = %q is the plugin's own namespace", args.Netns), "")
		}
	}
	prev, err := c.prevResult()
	if err != nil {
		return types.NewError(types.ErrDecodingFailure, "converting prevResult: "+err.Error(), "")
	}
	chained := chainedIface(prev, a.IfName) >= 0
	if has, err := hasLink(ns, a.IfName); err != nil {
		return err
	} else if has != chained {
		if chained {
			return types.NewError(types.ErrUnknownContainer, fmt.Sprintf("CNI_IFNAME %q: prevResult lists it but it is not in %s", a.IfName, args.Netns), "")
		}
		return types.NewError(ErrIfaceExists, fmt.Sprintf("CNI_IFNAME %q exists in %s already: pick another interface name", a.IfName, args.Netns), "")
	}
	if err := claim(ctx, a, ns.ID()); err != nil {
		return err
	}
	var ipam *current.Result
	// undo releases the IPAM lease and the record after a failure; the
	// CNI error keeps its code and says what undoing could not do.
	undo := func(err error) error {
		var te *types.Error
		if !errors.As(withCode(err), &te) {
			return err
		}
		if ipam != nil {
			if derr := invoke.DelegateDel(ctx, c.IPAM.Type, args.StdinData, nil); derr != nil {
				te.Msg += fmt.Sprintf(" (releasing the IPAM address also failed: %v)", derr)
			}
		}
		removeRecord(a)
		return te
	}
	if c.IPAM.Type != "" {
		r, err := invoke.DelegateAdd(ctx, c.IPAM.Type, args.StdinData, nil)
		if err == nil {
			ipam, err = current.NewResultFromResult(r)
		}
		if err != nil {
			return undo(fmt.Errorf("IPAM plugin %q: %w", c.IPAM.Type, err))
		}
	}
	spec, err := c.buildSpec(a, args.Netns, ipam, prev, chained)
	if err != nil {
		return undo(err)
	}
	if k := spec.Ifaces()[0].Kind; (k == "" || k == provision.KindVeth) && c.Peer == "" {
		spec.Ifaces()[0].Peer = freePeer(a)
	}
	if _, err := provision.Start(ctx, spec, provision.Options{}); err != nil {
		return undo(err)
	}
	res, err := c.result(spec, ns, ipam, prev)
	if err != nil {
		err = fmt.Errorf("reading back %q: %w", a.IfName, err)
		if serr := provision.Stop(ctx, spec.Name, provision.Options{}); serr != nil {
			err = fmt.Errorf("%w (undoing also failed: %w)", err, serr)
		}
		return undo(err)
	}
	return types.PrintResult(res, c.CNIVersion)
}

// openNetns opens CNI_NETNS: a bind mount or containerd's /proc/PID/ns/net.
func openNetns(path string) (xnetns.Handle, error) {
	h, err := xnetns.OpenFile(path)
	if err != nil {
		return h, types.NewError(types.ErrInvalidEnvironmentVariables, fmt.Sprintf("CNI_NETNS = %q: %v", path, err), "")
	}
	return h, nil
}

// freePeer is the first derived host-side name nothing in the host
// namespace has; the engine checks again before it makes the veth.
func freePeer(a attachment) string {
	for n := range 4 {
		if _, err := net.InterfaceByName(a.peer(n)); err != nil {
			return a.peer(n)
		}
	}
	return a.peer(0) // the engine then says it is taken
}

// withCode maps an engine error to a CNI error: bad input is code 7 (with
// the engine's role prefix dropped: a plugin object has flat keys), the
// rest internal.
func withCode(err error) error {
	var e *types.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e):
		return e
	case errors.Is(err, provision.ErrInvalidSpec):
		msg := strings.NewReplacer("inbound.", "", "outbound.", "", provision.ErrInvalidSpec.Error()+": ", "").Replace(err.Error())
		return types.NewError(types.ErrInvalidNetworkConfig, msg, "")
	}
	return types.NewError(types.ErrInternal, err.Error(), "")
}

func cmdDel(args *skel.CmdArgs) error {
	c, err := ParseConfig(args.StdinData)
	if err != nil {
		return err
	}
	ctx := context.Background()
	a := attachment{Network: c.Name, ContainerID: args.ContainerID, IfName: args.IfName}
	if err := release(ctx, a, args.Netns); err != nil {
		return withCode(err)
	}
	if c.IPAM.Type != "" {
		if err := invoke.DelegateDel(ctx, c.IPAM.Type, args.StdinData, nil); err != nil {
			return withCode(fmt.Errorf("IPAM plugin %q: %w", c.IPAM.Type, err))
		}
	}
	removeRecord(a)
	return nil
}

// release removes what ADD made for a: through the namespace when
// netnsPath still names the one ADD provisioned, else on the host side
// only (an empty CNI_NETNS, a namespace gone, a PID reused).
func release(ctx context.Context, a attachment, netnsPath string) error {
	st, err := provision.ReadState(a.name())
	if err != nil || st == nil {
		return err
	}
	if id := recordedNS(st); id != nil && netnsPath != "" {
		if h, err := xnetns.OpenFile(netnsPath); err == nil {
			same := h.ID() == *id
			h.Close()
			if same && netnsPath == st.Spec.NetnsFile {
				return provision.Stop(ctx, a.name(), provision.Options{})
			}
		}
	}
	return provision.StopDetached(ctx, a.name(), provision.Options{})
}

func recordedNS(st *provision.State) *xnetns.ID {
	for _, r := range st.Records {
		if r.Kind == "netns" {
			return r.NS
		}
	}
	return nil
}

func cmdCheck(args *skel.CmdArgs) error {
	c, err := ParseConfig(args.StdinData)
	if err != nil {
		return err
	}
	a := attachment{Network: c.Name, ContainerID: args.ContainerID, IfName: args.IfName}
	st, err := provision.ReadState(a.name())
	if err != nil {
		return withCode(err)
	}
	if st == nil {
		return types.NewError(types.ErrUnknownContainer, fmt.Sprintf("container %q, interface %q: not attached to network %q", a.ContainerID, a.IfName, a.Network), "")
	}
	ns, err := openNetns(args.Netns)
	if err != nil {
		return err
	}
	defer ns.Close()
	if r := recordedNS(st); r == nil || *r != ns.ID() {
		return types.NewError(types.ErrUnknownContainer, fmt.Sprintf("CNI_NETNS = %q is not the namespace ADD provisioned", args.Netns), "")
	}
	if d := c.differs(st.Spec); len(d) > 0 {
		return types.NewError(types.ErrInvalidNetworkConfig, fmt.Sprintf("the config differs from what ADD provisioned: %s", strings.Join(d, "; ")), "")
	}
	prev, err := c.prevResult()
	if err == nil {
		err = checkPrev(ns, prev, a.IfName)
	}
	if err != nil {
		return types.NewError(types.ErrInternal, "checking prevResult: "+err.Error(), "")
	}
	if d := provision.Drift(st); len(d) > 0 {
		var lines []string
		for _, x := range d {
			lines = append(lines, x.Object+": "+x.What)
		}
		return types.NewError(types.ErrInternal, fmt.Sprintf("%q differs from what ADD made: %s", a.IfName, strings.Join(lines, "; ")), "")
	}
	if c.IPAM.Type != "" {
		if err := invoke.DelegateCheck(context.Background(), c.IPAM.Type, args.StdinData, nil); err != nil {
			return withCode(fmt.Errorf("IPAM plugin %q: %w", c.IPAM.Type, err))
		}
	}
	return nil
}
