package provision

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// adopt finds a link made by someone else: its identity is recorded and
// it is marked as existed, so stop leaves it in place.
func adopt(k *kernel, l linkObj, r *record) error {
	v, err := k.nsView()
	if err != nil {
		return err
	}
	in := v.byName[l.Name]
	if in == nil {
		return fmt.Errorf("finding %q in namespace %q: it was to be made by an earlier plugin: %w", l.Name, k.n.ns, netlink.LinkNotFoundError{})
	}
	r.Index, r.Existed = in.Attrs().Index, true
	return nil
}

// defaultRoutes lists the main-table default routes through the link.
func defaultRoutes(k *kernel, dev string, index int) ([]routeObj, netlink.Link, error) {
	v, err := k.nsView()
	if err != nil {
		return nil, nil, err
	}
	l := findLink(v, index, dev)
	if l == nil {
		return nil, nil, nil
	}
	routes, err := k.nsRoutes()
	if err != nil {
		return nil, nil, err
	}
	var out []routeObj
	for _, rt := range routes {
		if rt.LinkIndex != l.Attrs().Index || rt.Table != unix.RT_TABLE_MAIN || rt.Dst != nil && !isDefault(rt) {
			continue
		}
		if ro, ok := routeFromKernel(rt, dev); ok {
			ro.Side, ro.Of = sideNS, linkObj{Name: dev}.key()
			out = append(out, ro)
		}
	}
	return out, l, nil
}

func isDefault(rt netlink.Route) bool {
	ones, _ := rt.Dst.Mask.Size()
	return ones == 0
}

func (k *kernel) linkIndex(dev string) int {
	v, err := k.nsView()
	if err != nil || v.byName[dev] == nil {
		return 0
	}
	return v.byName[dev].Attrs().Index
}

// create records the default routes through the link (written ahead, so
// a killed start still puts them back) and deletes them.
func (u unrouteObj) create(k *kernel, r *record) error {
	routes, l, err := defaultRoutes(k, u.Dev, k.linkIndex(u.Dev))
	if err != nil {
		return err
	}
	if l == nil {
		return fmt.Errorf("removing default routes through %q in namespace %q: %w", u.Dev, k.n.ns, netlink.LinkNotFoundError{})
	}
	r.Removed, r.Index = routes, l.Attrs().Index
	if len(routes) == 0 {
		return nil
	}
	if err := k.ahead(); err != nil {
		return err
	}
	h, _ := k.nl()
	for _, ro := range routes {
		if err := h.RouteDel(ro.netlink(l.Attrs().Index)); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("removing default route via %s dev %s in namespace %q: %w", ro.Via, u.Dev, k.n.ns, err)
		}
	}
	k.changed(sideNS)
	return nil
}

// remove puts back the routes create removed, if the link is still the one
// it was.
func (u unrouteObj) remove(k *kernel, r *record) error {
	v, err := k.nsView()
	if gone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	l := findLink(v, r.Index, u.Dev)
	if l == nil {
		return nil
	}
	h, _ := k.nl()
	for _, ro := range r.Removed {
		if err := addRoute(h, l.Attrs().Index, ro); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("putting back default route via %s dev %s in namespace %q: %w", ro.Via, u.Dev, k.n.ns, err)
		}
	}
	k.changed(sideNS)
	return nil
}

func (u unrouteObj) observe(k *kernel, r *record) string {
	routes, l, err := defaultRoutes(k, u.Dev, r.Index)
	switch {
	case err != nil:
		return err.Error()
	case l == nil:
		return fmt.Sprintf("link %q missing", u.Dev)
	case len(routes) > 0:
		return fmt.Sprintf("default route via %s dev %s is back", routes[0].Via, u.Dev)
	}
	return ""
}
