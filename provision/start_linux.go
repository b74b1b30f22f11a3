package provision

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// Options tune Start and Stop.
type Options struct {
	// Log gets one line per step; nil discards.
	Log func(msg string)
	// Timeout is how long stop lets processes in the namespace exit after
	// SIGTERM before SIGKILL.
	Timeout time.Duration
	// Wait makes stop wait until the kernel has reaped the namespace's
	// veths (tens of milliseconds), so their host-side names are free.
	// Start waits for them itself when it needs a name that is going.
	Wait bool
	// beforeStep, for tests, runs before step i; an error fails the step.
	beforeStep func(i int, cmd string) error
}

func (o *Options) log(format string, a ...any) {
	if o.Log != nil {
		o.Log(fmt.Sprintf(format, a...))
	}
}

// Start provisions spec. On any failure every finished step is undone.
func Start(ctx context.Context, spec *Spec, opt Options) (Outcome, error) {
	spec.Normalize()
	if err := spec.Validate(); err != nil {
		return Created, err
	}
	l, err := lockName(spec.Name)
	if err != nil {
		return Created, err
	}
	defer l.unlock(false)
	outcome := Created
	old, err := ReadState(spec.Name)
	if err != nil {
		return outcome, err
	}
	if old != nil {
		if old.Complete && bytes.Equal(old.Spec.Canonical(), spec.Canonical()) && exists(NetnsPath(spec.Name)) {
			opt.log("%s: already provisioned with this spec", spec.Name)
			return Unchanged, nil
		}
		if old.Complete {
			opt.log("%s: spec changed: re-provisioning", spec.Name)
			outcome = Reprovision
		} else {
			opt.log("%s: cleaning up a half-made namespace first", spec.Name)
		}
		if err := stopLocked(ctx, old, opt); err != nil {
			return outcome, err
		}
	} else if exists(NetnsPath(spec.Name)) {
		return outcome, fmt.Errorf("namespace %q exists and was not made by netns-daemon-start (no %s): remove it or pick another name",
			spec.Name, statePath(spec.Name))
	}
	return outcome, apply(spec, opt)
}

func apply(spec *Spec, opt Options) error {
	steps := buildPlan(spec)
	st := &State{Version: 1, Spec: spec, Begun: -1, PID: os.Getpid(), Steps: make([]string, len(steps))}
	for i, s := range steps {
		st.Steps[i] = s.cmd
	}
	r := newRun(spec, opt)
	defer r.close()
	for i, s := range steps {
		// Write ahead only what stop must undo: steps without an undo go
		// with the namespace, whose own step is always recorded.
		var err error
		if s.undo != nil {
			st.Begun = i
			err = st.save()
		}
		if err == nil && opt.beforeStep != nil {
			err = opt.beforeStep(i, s.cmd)
		}
		if err == nil {
			opt.log("%s: [%d/%d] %s", spec.Name, i+1, len(steps), s.cmd)
			err = s.do(r)
		}
		if err != nil {
			if uerr := undo(r, steps[:i+1], opt); uerr != nil {
				return fmt.Errorf("%w (rolling back also failed, state kept in %s: %v)", err, statePath(spec.Name), uerr)
			}
			if rerr := removeState(spec.Name); rerr != nil {
				return errors.Join(err, rerr)
			}
			return err
		}
	}
	st.Begun = len(steps) - 1
	st.Complete = true
	return st.save()
}

// undo reverses steps, last first, tolerating what is already gone; it goes
// on past errors so that one stuck step does not leave the rest behind.
func undo(r *run, steps []step, opt Options) error {
	var errs []error
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i].undo == nil {
			continue
		}
		opt.log("%s: undo %s", r.spec.Name, steps[i].cmd)
		if err := steps[i].undo(r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Stop removes what start made for name, as its state file records. A name
// that was never started, or is already stopped, is not an error.
func Stop(ctx context.Context, name string, opt Options) error {
	if err := ValidName(name); err != nil {
		return err
	}
	l, err := lockName(name)
	if err != nil {
		return err
	}
	st, err := ReadState(name)
	if err != nil || st == nil {
		l.unlock(err == nil)
		return err
	}
	err = stopLocked(ctx, st, opt)
	l.unlock(err == nil)
	return err
}

func stopLocked(ctx context.Context, st *State, opt Options) error {
	spec := st.Spec
	spec.Normalize()
	if err := killInside(ctx, spec.Name, opt); err != nil {
		return err
	}
	steps := buildPlan(spec)
	n := min(st.Begun+1, len(steps))
	r := newRun(spec, opt)
	r.waitReap = opt.Wait
	defer r.close()
	if err := undo(r, steps[:n], opt); err != nil {
		return fmt.Errorf("stopping %q: %w", spec.Name, err)
	}
	return removeState(spec.Name)
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
