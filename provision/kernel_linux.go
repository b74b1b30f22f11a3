package provision

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	xnetns "github.com/netns-daemon/netns-daemon/internal/netns"
)

// kernel is what objects work through: handles on the provisioned
// namespace and on the host namespace, opened lazily, and views of each
// (links, addresses, routes) read once and dropped after every change.
type kernel struct {
	n         names
	nsPath    string // the namespace's file: /run/netns/NAME, or Spec.NetnsFile
	ns, host  xnetns.Handle
	nsNL, hNL *netlink.Handle
	view      *view        // the namespace's, see nsView
	ahead     func() error // saves the state: a write ahead of a change
	warn      func(string)
	force     bool  // stop: a moved device may go to the initial namespace
	hostFail  error // the host namespace is known to be gone
}

// errNamespaceGone lets deletes tell "nothing left to undo" apart.
var errNamespaceGone = errors.New("namespace is gone")

// errHostGone means the host namespace named in the spec no longer exists.
var errHostGone = errors.New("host namespace is gone")

func newKernel(s *Spec, warn func(string)) *kernel {
	if warn == nil {
		warn = func(string) {}
	}
	path := s.NetnsFile
	if path == "" {
		path = NetnsPath(s.Name)
	}
	return &kernel{n: names{ns: s.Name, host: s.HostNetns}, nsPath: path, warn: warn}
}

// netns returns a handle on the provisioned namespace.
func (k *kernel) netns() (xnetns.Handle, error) {
	if !k.ns.IsOpen() {
		h, err := xnetns.OpenFile(k.nsPath)
		if err != nil {
			return h, fmt.Errorf("%w: %w", errNamespaceGone, err)
		}
		k.ns = h
	}
	return k.ns, nil
}

// hostns returns a handle on the namespace that plays "host".
func (k *kernel) hostns() (xnetns.Handle, error) {
	if k.hostFail != nil {
		return xnetns.Handle{}, k.hostFail
	}
	if !k.host.IsOpen() {
		var h xnetns.Handle
		var err error
		if k.n.host == "" {
			h, err = xnetns.Current()
		} else {
			h, err = xnetns.Open(NetnsPath(k.n.host))
		}
		if err != nil {
			return h, fmt.Errorf("opening %s: %w: %w", k.hostLabel(), errHostGone, err)
		}
		k.host = h
	}
	return k.host, nil
}

// nl returns a netlink handle inside the provisioned namespace.
func (k *kernel) nl() (*netlink.Handle, error) {
	if k.nsNL == nil {
		ns, err := k.netns()
		if err != nil {
			return nil, err
		}
		if k.nsNL, err = newHandle(ns); err != nil {
			return nil, err
		}
	}
	return k.nsNL, nil
}

// hostNL returns a netlink handle inside the host namespace.
func (k *kernel) hostNL() (*netlink.Handle, error) {
	if k.hNL == nil {
		ns, err := k.hostns()
		if err != nil {
			return nil, err
		}
		if k.hNL, err = newHandle(ns); err != nil {
			return nil, err
		}
	}
	return k.hNL, nil
}

func (k *kernel) side(side string) (*netlink.Handle, error) {
	if side == sideHost {
		return k.hostNL()
	}
	return k.nl()
}

// newHandle opens a rtnetlink socket inside ns; only the socket's creation
// switches namespaces.
func newHandle(ns xnetns.Handle) (*netlink.Handle, error) {
	var h *netlink.Handle
	err := xnetns.Do(ns, func() error {
		var err error
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("opening netlink socket: %w", err)
	}
	return h, nil
}

// forgetNamespace drops handles on the namespace, so it can be reaped.
func (k *kernel) forgetNamespace() {
	if k.nsNL != nil {
		k.nsNL.Close()
		k.nsNL = nil
	}
	k.ns.Close()
	k.view = nil
}

func (k *kernel) close() {
	k.forgetNamespace()
	if k.hNL != nil {
		k.hNL.Close()
		k.hNL = nil
	}
	k.host.Close()
}

func (k *kernel) label(side string) string {
	if side == sideHost {
		return k.hostLabel()
	}
	return fmt.Sprintf("namespace %q", k.n.ns)
}

// hostLabel names the host namespace in messages.
func (k *kernel) hostLabel() string {
	if k.n.host == "" {
		return "the host namespace"
	}
	return fmt.Sprintf("namespace %q", k.n.host)
}

// view is one namespace's links, and its addresses and routes once asked
// for: each table is read in one dump, at most once between changes.
type view struct {
	byName  map[string]netlink.Link
	byIndex map[int]netlink.Link
	// Read through nsAddrs and nsRoutes only: nil / not ok until then.
	lazyAddrs  map[int][]netip.Prefix
	lazyRoutes []netlink.Route
	routesOK   bool
}

// nsView reads the namespace's links once, until changed drops it. Only
// the namespace side is ever dumped. Addresses and routes are read when
// first needed: a create after a change needs only the links.
func (k *kernel) nsView() (*view, error) {
	if k.view != nil {
		return k.view, nil
	}
	h, err := k.nl()
	if err != nil {
		return nil, err
	}
	links, err := retryDump(func() ([]netlink.Link, error) { return h.LinkList() })
	if err != nil {
		return nil, fmt.Errorf("listing links in %s: %w", k.label(sideNS), err)
	}
	v := &view{byName: map[string]netlink.Link{}, byIndex: map[int]netlink.Link{}}
	for _, l := range links {
		v.byName[l.Attrs().Name] = l
		v.byIndex[l.Attrs().Index] = l
	}
	k.view = v
	return v, nil
}

// nsAddrs returns the namespace's addresses by link index, read once
// until changed drops the view.
func (k *kernel) nsAddrs() (map[int][]netip.Prefix, error) {
	v, err := k.nsView()
	if err != nil || v.lazyAddrs != nil {
		return v.lazyAddrs, err
	}
	addrs, err := retryDump(func() ([]netlink.Addr, error) { return k.nsNL.AddrList(nil, unix.AF_UNSPEC) })
	if err != nil {
		return nil, fmt.Errorf("listing addresses in %s: %w", k.label(sideNS), err)
	}
	v.lazyAddrs = map[int][]netip.Prefix{}
	for _, a := range addrs {
		if p, ok := prefixOf(a); ok {
			v.lazyAddrs[a.LinkIndex] = append(v.lazyAddrs[a.LinkIndex], p)
		}
	}
	return v.lazyAddrs, nil
}

// nsRoutes returns the namespace's routes, read once until changed drops
// the view.
func (k *kernel) nsRoutes() ([]netlink.Route, error) {
	v, err := k.nsView()
	if err != nil || v.routesOK {
		return v.lazyRoutes, err
	}
	v.lazyRoutes, err = retryDump(func() ([]netlink.Route, error) { return k.nsNL.RouteList(nil, unix.AF_UNSPEC) })
	if err != nil {
		return nil, fmt.Errorf("listing routes in %s: %w", k.label(sideNS), err)
	}
	v.routesOK = true
	return v.lazyRoutes, nil
}

// Host-side lookups are targeted, never dumps: the host may hold thousands
// of links (one veth peer per namespace), and start stays flat in N.

// linkByName finds a link on side; nil if there is none.
func (k *kernel) linkByName(side, name string) (netlink.Link, error) {
	if side == sideNS {
		v, err := k.nsView()
		if err != nil {
			return nil, err
		}
		return v.byName[name], nil
	}
	h, err := k.hostNL()
	if err != nil {
		return nil, err
	}
	l, err := h.LinkByName(name)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("finding %q in %s: %w", name, k.hostLabel(), err)
	}
	return l, nil
}

// addrsOf lists l's addresses on side.
func (k *kernel) addrsOf(side string, l netlink.Link) ([]netip.Prefix, error) {
	if side == sideNS {
		addrs, err := k.nsAddrs()
		if err != nil {
			return nil, err
		}
		return addrs[l.Attrs().Index], nil
	}
	h, err := k.hostNL()
	if err != nil {
		return nil, err
	}
	addrs, err := retryDump(func() ([]netlink.Addr, error) { return h.AddrList(l, unix.AF_UNSPEC) })
	if err != nil {
		return nil, fmt.Errorf("listing addresses of %q in %s: %w", l.Attrs().Name, k.hostLabel(), err)
	}
	var out []netip.Prefix
	for _, a := range addrs {
		if p, ok := prefixOf(a); ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// routesOf lists the main-table routes through l on side.
func (k *kernel) routesOf(side string, l netlink.Link) ([]netlink.Route, error) {
	if side == sideNS {
		routes, err := k.nsRoutes()
		if err != nil {
			return nil, err
		}
		var out []netlink.Route
		for _, rt := range routes {
			if rt.LinkIndex == l.Attrs().Index {
				out = append(out, rt)
			}
		}
		return out, nil
	}
	h, err := k.hostNL()
	if err != nil {
		return nil, err
	}
	routes, err := retryDump(func() ([]netlink.Route, error) {
		return h.RouteListFiltered(unix.AF_UNSPEC, &netlink.Route{LinkIndex: l.Attrs().Index, Table: unix.RT_TABLE_MAIN},
			netlink.RT_FILTER_OIF|netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return nil, fmt.Errorf("listing routes of %q in %s: %w", l.Attrs().Name, k.hostLabel(), err)
	}
	return routes, nil
}

// changed drops the cached view after a change on side.
func (k *kernel) changed(side string) {
	if side == sideNS {
		k.view = nil
	}
}

func prefixOf(a netlink.Addr) (netip.Prefix, bool) {
	ip, ok := netip.AddrFromSlice(a.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := a.Mask.Size()
	return netip.PrefixFrom(ip.Unmap(), ones), true
}

// retryDump retries a netlink dump the kernel interrupted (the table
// changed while it was read).
func retryDump[T any](dump func() (T, error)) (T, error) {
	var v T
	var err error
	for range 5 {
		v, err = dump()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return v, err
		}
	}
	return v, err
}

func isNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf) || errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH)
}
