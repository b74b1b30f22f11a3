package provision

import (
	"context"
	"errors"
	"fmt"
	"time"

	xnetns "github.com/netns-daemon/netns-daemon/internal/netns"
	"github.com/netns-daemon/netns-daemon/internal/safefile"
)

// kobject is an object with its kernel side: create records the identity
// of what it made in r (setting r.Done once the kernel has it); remove
// deletes only what still matches r; observe says how the kernel differs
// from the object ("" when it does not).
type kobject interface {
	object
	create(k *kernel, r *record) error
	remove(k *kernel, r *record) error
	observe(k *kernel, r *record) string
}

// writeAhead reports whether o must be in the state file before it is
// made: anything stop would not otherwise find (the namespace takes what
// is inside it along, so that needs no write of its own).
func writeAhead(o object) bool { return o.owner() == "" }

// engine runs one start or stop of one namespace.
type engine struct {
	st  *State
	dir *safefile.Dir // StateDir
	k   *kernel
	opt Options
}

func newEngine(st *State, d *safefile.Dir, opt Options) *engine {
	e := &engine{st: st, dir: d, opt: opt}
	e.k = newKernel(st.Spec, func(m string) { opt.log("%s: warning: %s", st.Spec.Name, m) })
	e.k.force = opt.Force
	e.k.ahead = e.save
	return e
}

func (e *engine) save() error { return e.st.save(e.dir) }

func (e *engine) close() { e.k.close() }

// make creates o as a new record. A create that fails and made nothing
// registers no undo: it never deletes what was there before.
func (e *engine) make(o object) error {
	r := newRecord(o)
	e.st.Records = append(e.st.Records, r)
	if writeAhead(o) {
		if err := e.save(); err != nil {
			return err
		}
	}
	if e.opt.beforeCreate != nil {
		if err := e.opt.beforeCreate(o.key()); err != nil {
			e.drop(r)
			return err
		}
	}
	err := o.(kobject).create(e.k, r)
	if err != nil && !r.Done && r.NS == nil && r.Index == 0 && r.PeerIndex == 0 {
		e.drop(r)
		return err
	}
	r.Done = true
	return err
}

func (e *engine) drop(r *record) {
	for i, x := range e.st.Records {
		if x == r {
			e.st.Records = append(e.st.Records[:i], e.st.Records[i+1:]...)
			return
		}
	}
}

// unmake deletes the records' objects, last first, skipping what goes
// with an owner that is deleted too; it goes on past errors so that one
// stuck object does not leave the rest behind. Deleted records leave the
// state.
func (e *engine) unmake(recs []*record) error {
	going := map[string]bool{}
	for _, r := range recs {
		// A namespace that was there before stays, so what start made
		// inside it goes one by one.
		going[r.key()] = !r.Existed
	}
	var errs []error
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if !going[r.obj.owner()] {
			if e.opt.beforeRemove != nil {
				e.opt.beforeRemove(r.key())
			}
			e.opt.log("%s: removing: %s", e.st.Spec.Name, r.undoCommand(e.k.n))
			if err := r.obj.(kobject).remove(e.k, r); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		e.drop(r)
	}
	return errors.Join(errs...)
}

// create provisions a namespace that does not exist, rolling back what it
// made on any failure.
func (e *engine) create() error {
	if err := e.preflight(); err != nil {
		return err
	}
	objs := desired(e.st.Spec)
	for i, o := range objs {
		e.opt.log("%s: [%d/%d] %s", e.st.Spec.Name, i+1, len(objs), o.render(e.k.n))
		if err := e.make(o); err != nil {
			return e.rollback(err, e.st.Records)
		}
	}
	e.st.Complete = true
	return e.save()
}

// rollback deletes what this run made (recs) after err.
func (e *engine) rollback(err error, recs []*record) error {
	recs = append([]*record(nil), recs...)
	if uerr := e.unmake(recs); uerr != nil {
		return errors.Join(fmt.Errorf("%w (rolling back also failed, state kept in %s: %w)", err, statePath(e.st.Spec.Name), uerr), e.save())
	}
	if len(e.st.Records) == 0 {
		if rerr := removeState(e.dir, e.st.Spec.Name); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	return errors.Join(err, e.save())
}

// preflight checks what only the kernel can tell before anything is made:
// the names start would take in the host namespace are free, the links it
// needs there exist, no file of the operator's would be overwritten.
func (e *engine) preflight() error {
	k := e.k
	if _, err := k.hostns(); err != nil {
		return err
	}
	if e.st.Spec.HostNetns != "" {
		e.st.Host = k.host.ID()
	}
	if err := replyTableFree(k, e.st.Spec); err != nil {
		return err
	}
	for _, o := range desired(e.st.Spec) {
		var taken, needed []string
		switch o := o.(type) {
		case linkObj:
			switch o.Kind {
			case KindExisting: // inside the namespace: found by create
			case KindVeth:
				taken = []string{o.Peer}
				if o.Bridge != "" {
					needed = []string{o.Bridge}
				}
			default:
				needed = []string{o.Parent}
			}
		case shimObj:
			taken = []string{o.Name}
		case hostSysctlObj:
			if o.Of == "" { // the masquerade interface
				needed = []string{o.Dev}
			}
		case fileObj:
			if d, err := etcDir(k); err == nil {
				_, err := d.ReadFile(o.Name, maxEtcFile)
				d.Close()
				if err == nil || !isNotExist(err) {
					return fmt.Errorf("%w: %s exists and was not written by netns-daemon-start: remove it or drop [dns]", ErrInvalidSpec, o.path(k))
				}
			}
		}
		for _, n := range taken {
			if l, err := k.linkByName(sideHost, n); err != nil || l != nil && waitLinkGone(k.hNL, n, 2*time.Second) != nil {
				return fmt.Errorf("%q is already taken in %s: pick another name (peer = ...)", n, k.hostLabel())
			}
		}
		for _, n := range needed {
			if l, err := k.linkByName(sideHost, n); err != nil || l == nil {
				return fmt.Errorf("finding %q in %s: no such link", n, k.hostLabel())
			}
		}
	}
	return nil
}

// Start provisions spec: creates the namespace, or brings a provisioned one
// to the spec in place (repairing drift), never recreating it unless
// opt.Recreate asks. On a failure what this run made is undone.
func Start(ctx context.Context, spec *Spec, opt Options) (Outcome, error) {
	spec.Normalize()
	if err := spec.Validate(); err != nil {
		return Created, err
	}
	l, err := lockName(spec.Name)
	if err != nil {
		return Created, err
	}
	defer func() { l.unlock(!hasState(l.d, spec.Name)) }() // a failed start leaves no lock file either
	old, err := readState(l.d, spec.Name)
	if err != nil {
		return Created, err
	}
	if old == nil {
		if spec.NetnsFile == "" && exists(NetnsPath(spec.Name)) {
			return Created, fmt.Errorf("namespace %q exists and was not made by netns-daemon-start (no %s): remove it or pick another name",
				spec.Name, statePath(spec.Name))
		}
		return Created, fresh(spec, l.d, opt)
	}
	e := newEngine(old, l.d, opt)
	nsErr := nsObj{}.check(e.k, nsRecord(old))
	e.close()
	switch {
	case errors.Is(nsErr, errNamespaceGone) || errors.Is(nsErr, errPlaceholder):
		opt.log("%s: the namespace is gone: cleaning up what is left and making it again", spec.Name)
	case nsErr != nil:
		return Created, fmt.Errorf("namespace %q: %w: state kept in %s", spec.Name, nsErr, statePath(spec.Name))
	case opt.Recreate:
		opt.log("%s: recreating the namespace", spec.Name)
	default:
		return reconcile(old, spec, l.d, opt)
	}
	if err := stopLocked(ctx, old, l.d, opt); err != nil {
		return Created, err
	}
	return Reprovision, fresh(spec, l.d, opt)
}

func fresh(spec *Spec, d *safefile.Dir, opt Options) error {
	e := newEngine(&State{Format: stateFormat, Spec: spec}, d, opt)
	defer e.close()
	return e.create()
}

func nsRecord(st *State) *record {
	for _, r := range st.Records {
		if r.Kind == "netns" {
			return r
		}
	}
	return &record{Kind: "netns", obj: nsObj{}}
}

// Stop removes what start made for name, as its state file records. A name
// that was never started, or is already stopped, is not an error.
func Stop(ctx context.Context, name string, opt Options) error {
	return withState(name, func(st *State, d *safefile.Dir, err error) error {
		switch {
		case errors.Is(err, ErrCorruptState) && opt.Force:
			return forceClean(ctx, name, d, opt)
		case err != nil || st == nil:
			return err
		}
		return stopLocked(ctx, st, d, opt)
	})
}

// withState runs stop's fn under name's lock with its state as read (nil:
// none, or err); the lock file goes when fn succeeds.
func withState(name string, fn func(*State, *safefile.Dir, error) error) error {
	if err := ValidName(name); err != nil {
		return err
	}
	l, err := lockName(name)
	if err != nil {
		return err
	}
	st, err := readState(l.d, name)
	err = fn(st, l.d, err)
	l.unlock(err == nil)
	return err
}

// stopLocked acts only on what still matches its identity: if
// /run/netns/NAME is not the namespace start made, it signals nothing,
// deletes nothing and keeps the state.
func stopLocked(ctx context.Context, st *State, d *safefile.Dir, opt Options) error {
	e := newEngine(st, d, opt)
	defer e.close()
	nsr := nsRecord(st)
	err := nsObj{}.check(e.k, nsr)
	switch {
	case errors.Is(err, errNamespaceGone), errors.Is(err, errPlaceholder):
	case err != nil:
		return fmt.Errorf("stopping %q: %w: nothing was signalled or deleted; state kept in %s", st.Spec.Name, err, statePath(st.Spec.Name))
	case nsr.Existed: // a container's: its processes are not ours to end
	case nsr.NS != nil:
		if err := killInside(ctx, st.Spec.Name, *nsr.NS, opt); err != nil {
			return err
		}
	default: // format 1: the namespace at the path is taken as start's
		id, _ := xnetns.StatPath(NetnsPath(st.Spec.Name))
		if err := killInside(ctx, st.Spec.Name, id, opt); err != nil {
			return err
		}
	}
	if err := e.checkHost(); err != nil {
		return err
	}
	peers := vethPeers(st)
	if err := e.unmake(append([]*record(nil), st.Records...)); err != nil {
		return errors.Join(fmt.Errorf("stopping %q: %w", st.Spec.Name, err), e.save())
	}
	if opt.Wait {
		e.reapPeers(peers)
	}
	return removeState(d, st.Spec.Name)
}

// checkHost refuses to stop when the host namespace is gone (or is another
// one now) and a device would have nowhere to go back to.
func (e *engine) checkHost() error {
	if e.st.Spec.HostNetns == "" {
		return nil
	}
	h, err := e.k.hostns()
	if err == nil && !e.st.Host.IsZero() && h.ID() != e.st.Host {
		e.k.host.Close()
		e.k.host = xnetns.Handle{}
		err = fmt.Errorf("%s is another namespace than at start: %w", e.k.hostLabel(), errHostGone)
		e.k.hostFail = err
	}
	if err == nil || e.opt.Force {
		return nil
	}
	for _, r := range e.st.Records {
		if l, ok := r.obj.(linkObj); ok && l.Kind == KindDevice {
			return fmt.Errorf("stopping %q: device %q: %w; state kept: bring the host namespace back, or stop with --force to move the device to the initial namespace",
				e.st.Spec.Name, l.Parent, err)
		}
	}
	return nil
}
