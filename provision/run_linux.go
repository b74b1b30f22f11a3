package provision

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// A step is one reversible change; cmd renders it as the equivalent
// ip/sysctl command: the dry-run, the log line and the state file's record.
type step struct {
	cmd  string
	do   func(*run) error
	undo func(*run) error // nil: nothing to undo, it goes with the namespace
}

// run is the context steps work in: the spec and lazily opened handles on
// the new namespace and the host namespace.
type run struct {
	spec  *Spec
	ns    netns.NsHandle
	host  netns.NsHandle
	nsNL  *netlink.Handle
	hstNL *netlink.Handle
	warn  func(string)
	links map[linkKey]netlink.Link // saves a lookup per step

	waitReap bool // on namespace delete, wait for the kernel to reap veths
}

type linkKey struct {
	h    *netlink.Handle
	name string
}

// link finds name through h, once.
func (r *run) link(h *netlink.Handle, name string) (netlink.Link, error) {
	if l, ok := r.links[linkKey{h, name}]; ok {
		return l, nil
	}
	l, err := h.LinkByName(name)
	if err != nil {
		return nil, err
	}
	r.links[linkKey{h, name}] = l
	return l, nil
}

// find returns the netlink handle that where picks and the link name in
// that namespace (label names it in errors).
func (r *run) find(where func(*run) (*netlink.Handle, error), label, name string) (*netlink.Handle, netlink.Link, error) {
	h, err := where(r)
	if err != nil {
		return nil, nil, err
	}
	l, err := r.link(h, name)
	if err != nil {
		return nil, nil, fmt.Errorf("finding %q in %s: %w", name, label, err)
	}
	return h, l, nil
}

// forgetLink drops a cached link that was renamed, moved or deleted.
func (r *run) forgetLink(h *netlink.Handle, name string) { delete(r.links, linkKey{h, name}) }

func newRun(spec *Spec, opt Options) *run {
	warn := func(m string) { opt.log("%s: warning: %s", spec.Name, m) }
	return &run{spec: spec, ns: netns.None(), host: netns.None(), warn: warn, links: map[linkKey]netlink.Link{}}
}

// errNamespaceGone lets undo steps tell "nothing left to undo" apart.
var errNamespaceGone = errors.New("namespace is gone")

// netns returns a handle on the provisioned namespace.
func (r *run) netns() (netns.NsHandle, error) {
	if !r.ns.IsOpen() {
		h, err := openNamed(r.spec.Name)
		if err != nil {
			return h, fmt.Errorf("%w: %w", errNamespaceGone, err)
		}
		r.ns = h
	}
	return r.ns, nil
}

// hostns returns a handle on the namespace that plays "host".
func (r *run) hostns() (netns.NsHandle, error) {
	if !r.host.IsOpen() {
		h, err := openNamed(r.spec.HostNetns)
		if err != nil {
			return h, err
		}
		r.host = h
	}
	return r.host, nil
}

// nl returns a netlink handle inside the provisioned namespace.
func (r *run) nl() (*netlink.Handle, error) {
	if r.nsNL == nil {
		ns, err := r.netns()
		if err != nil {
			return nil, err
		}
		if r.nsNL, err = newHandle(ns); err != nil {
			return nil, err
		}
	}
	return r.nsNL, nil
}

// hostNL returns a netlink handle inside the host namespace.
func (r *run) hostNL() (*netlink.Handle, error) {
	if r.hstNL == nil {
		ns, err := r.hostns()
		if err != nil {
			return nil, err
		}
		if r.hstNL, err = newHandle(ns); err != nil {
			return nil, err
		}
	}
	return r.hstNL, nil
}

// hostToNamespace returns what moving a link in needs: a netlink handle in
// the host namespace and the provisioned namespace.
func (r *run) hostToNamespace() (*netlink.Handle, netns.NsHandle, error) {
	h, err := r.hostNL()
	if err != nil {
		return nil, netns.None(), err
	}
	ns, err := r.netns()
	return h, ns, err
}

// forgetNamespace drops handles on the namespace, so it can be reaped.
func (r *run) forgetNamespace() {
	for k := range r.links {
		if k.h == r.nsNL {
			delete(r.links, k)
		}
	}
	if r.nsNL != nil {
		r.nsNL.Close()
		r.nsNL = nil
	}
	if r.ns.IsOpen() {
		r.ns.Close()
		r.ns = netns.None()
	}
}

func (r *run) close() {
	r.forgetNamespace()
	if r.hstNL != nil {
		r.hstNL.Close()
		r.hstNL = nil
	}
	if r.host.IsOpen() {
		r.host.Close()
		r.host = netns.None()
	}
}

// hostLabel names the host namespace in messages and commands.
func (r *run) hostLabel() string {
	if r.spec.HostNetns == "" {
		return "the host namespace"
	}
	return fmt.Sprintf("namespace %q", r.spec.HostNetns)
}
