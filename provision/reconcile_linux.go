package provision

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/netns-daemon/netns-daemon/internal/safefile"
)

// reconcile brings a provisioned namespace to spec in place: it applies
// the difference between what start made and what spec asks for, then
// repairs what the kernel no longer has. The namespace itself stays, and
// with it the processes inside and their connections.
func reconcile(st *State, spec *Spec, d *safefile.Dir, opt Options) (Outcome, error) {
	prev := st.Spec
	st.Spec = spec
	e := newEngine(st, d, opt)
	defer e.close()
	if spec.HostNetns != prev.HostNetns {
		return Created, fmt.Errorf("%w: host_netns = %q: namespace %q was made with host_netns = %q; stop it first or start with --recreate",
			ErrInvalidSpec, spec.HostNetns, spec.Name, prev.HostNetns)
	}
	n, err := e.apply(diff(objectsOf(st.Records), desired(spec)))
	if err == nil {
		var r int
		r, err = e.repair()
		n += r
	}
	if err != nil {
		return Created, errors.Join(err, e.save()) // what was done is recorded
	}
	st.Complete = true
	st.Records = ordered(st.Records, desired(spec))
	if err := e.save(); err != nil {
		return Created, err
	}
	if n == 0 {
		opt.log("%s: already provisioned with this spec", spec.Name)
		return Unchanged, nil
	}
	return Changed, nil
}

func objectsOf(recs []*record) []object {
	out := make([]object, len(recs))
	for i, r := range recs {
		out[i] = r.obj
	}
	return out
}

// apply carries out changes: deletes first (with what they take along),
// then adds and in-place sets in the spec's order.
func (e *engine) apply(changes []change) (int, error) {
	byKey := map[string]*record{}
	for _, r := range e.st.Records {
		byKey[r.key()] = r
	}
	going := map[string]bool{}
	for _, c := range changes {
		if c.op == "del" {
			going[c.obj.key()] = true
		}
	}
	if err := e.unmake(e.withOwned(going)); err != nil {
		return 0, err
	}
	for _, c := range changes {
		switch c.op {
		case "add":
			e.opt.log("%s: adding: %s", e.st.Spec.Name, c.obj.render(e.k.n))
			if err := e.make(c.obj); err != nil {
				return 0, err
			}
		case "set":
			e.opt.log("%s: changing: %s", e.st.Spec.Name, c.obj.render(e.k.n))
			if err := e.set(byKey[c.obj.key()], c.obj, c.was); err != nil {
				return 0, err
			}
		}
	}
	return len(changes), nil
}

// withOwned is the records of going and every record that goes with
// them, in state order (unmake deletes them last first).
func (e *engine) withOwned(going map[string]bool) []*record {
	var out []*record
	for _, x := range e.st.Records {
		if going[x.key()] || going[x.obj.owner()] {
			going[x.key()] = true
			out = append(out, x)
		}
	}
	return out
}

// set changes an object in place and records it.
func (e *engine) set(r *record, o, was object) error {
	switch o := o.(type) {
	case sysctlObj:
		if err := o.create(e.k, r); err != nil {
			return err
		}
	case fileObj:
		if err := o.update(e.k, was.(fileObj)); err != nil {
			return err
		}
	case nftObj:
		if err := o.replace(e.k, r); err != nil {
			return err
		}
	}
	*r = *newRecordLike(r, o)
	return nil
}

func newRecordLike(r *record, o object) *record {
	n := newRecord(o)
	n.Done, n.NS, n.Index, n.PeerIndex, n.Prior, n.Existed, n.Device, n.Token = r.Done, r.NS, r.Index, r.PeerIndex, r.Prior, r.Existed, r.Device, r.Token
	return n
}

// repair observes every recorded object and makes again what the kernel
// lost (a veth deleted by hand, an address or route removed). A file the
// operator changed is reported, never overwritten.
func (e *engine) repair() (int, error) {
	n := 0
	for i := 0; i < len(e.st.Records); i++ {
		r := e.st.Records[i]
		what := r.obj.(kobject).observe(e.k, r)
		if what == "" {
			continue
		}
		if r.Kind == "file" && what == "changed" {
			e.k.warn(fmt.Sprintf("%s changed since start wrote it: left as it is", r.obj.(fileObj).path(e.k)))
			continue
		}
		e.opt.log("%s: repairing %s (%s): %s", e.st.Spec.Name, r.key(), what, r.obj.render(e.k.n))
		if what != "missing" && r.Kind != "sysctl" {
			if err := r.obj.(kobject).remove(e.k, r); err != nil {
				return n, err
			}
		}
		fresh := newRecord(r.obj)
		if r.Kind == "sysctl" {
			fresh.Prior = r.Prior
		}
		e.st.Records[i] = fresh
		if err := r.obj.(kobject).create(e.k, fresh); err != nil {
			return n, fmt.Errorf("repairing %s: %w", r.key(), err)
		}
		fresh.Done = true
		n++
	}
	return n, nil
}

// ordered puts records in the order of the spec's objects.
func ordered(recs []*record, want []object) []*record {
	byKey := map[string]*record{}
	for _, r := range recs {
		byKey[r.key()] = r
	}
	out := make([]*record, 0, len(recs))
	for _, w := range want {
		if r := byKey[w.key()]; r != nil {
			out = append(out, r)
			delete(byKey, w.key())
		}
	}
	for _, r := range recs { // not asked for, but still there (a failed delete)
		if byKey[r.key()] != nil {
			out = append(out, r)
		}
	}
	return out
}

// vethPeers lists the host sides of the veths start made, by identity.
func vethPeers(st *State) []record {
	var out []record
	for _, r := range st.Records {
		if l, ok := r.obj.(linkObj); ok && l.Kind == KindVeth {
			out = append(out, *r)
		}
	}
	return out
}

// reapPeers waits for the kernel to take the host-side veth peers away with
// the namespace, and deletes any that stay (something else holds the
// namespace open) — only if still the peer start made.
func (e *engine) reapPeers(peers []record) {
	h, err := e.k.hostNL()
	if err != nil {
		return
	}
	for _, p := range peers {
		name := p.obj.(linkObj).Peer
		if l := sameLink(waitLinkGone(h, name, 2*time.Second), p.PeerIndex); l != nil {
			_ = h.LinkDel(l)
		}
	}
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
