package provision

import (
	"context"
	"errors"
	"fmt"

	"github.com/netns-daemon/netns-daemon/internal/safefile"
)

// StopDetached removes what start made for name on the host side only,
// for when the namespace it provisioned is gone or can no longer be
// reached by its recorded path: a CNI DEL with an empty CNI_NETNS
// (containerd sends that) or with /proc/PID/ns/net of a reused PID.
// Nothing inside any namespace is touched; a veth's host side is deleted
// if it is still the link start made (name and ifindex), and with it its
// addresses and routes; shims go as in Stop. Like Stop, a name that was
// never started is not an error.
func StopDetached(ctx context.Context, name string, opt Options) error {
	return withState(name, func(st *State, d *safefile.Dir, err error) error {
		if err != nil || st == nil {
			return err
		}
		e := newEngine(st, d, opt)
		defer e.close()
		e.k.nsPath = "" // unreachable: every inside object is "gone"
		var errs []error
		for _, r := range st.Records {
			if lo, ok := r.obj.(linkObj); ok && lo.Kind == KindVeth && r.PeerIndex != 0 {
				errs = append(errs, e.deletePeer(lo, r))
			}
		}
		errs = append(errs, e.unmake(append([]*record(nil), st.Records...)))
		if err := errors.Join(errs...); err != nil {
			return errors.Join(fmt.Errorf("stopping %q (host side only): %w", name, err), e.save())
		}
		return removeState(d, name)
	})
}

// deletePeer deletes a veth's host side, which takes the inside end along.
func (e *engine) deletePeer(lo linkObj, r *record) error {
	k := e.k
	peer, err := k.linkByName(sideHost, lo.Peer)
	if gone(err) || err == nil && sameLink(peer, r.PeerIndex) == nil {
		return nil
	}
	if err != nil {
		return err
	}
	e.opt.log("%s: removing: %s", e.st.Spec.Name, ipn(k.n.host, "link del %s", lo.Peer))
	h, _ := k.hostNL()
	if err := h.LinkDel(peer); err != nil && !isNotFound(err) {
		return fmt.Errorf("deleting veth %q in %s: %w", lo.Peer, k.hostLabel(), err)
	}
	return nil
}
