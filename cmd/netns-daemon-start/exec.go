package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/netns-daemon/netns-daemon/internal/cli"
	"github.com/netns-daemon/netns-daemon/provision"
)

// exitNotFound is the status for a command that is not there, as shells use.
const exitNotFound = 127

// fail is cli.Fail, plus 127 for a command not found.
func fail(err error) {
	if errors.Is(err, provision.ErrCommandNotFound) {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(exitNotFound)
	}
	cli.Fail(name, err)
}

// proxyCommand is CMD for --proxy: the netns-proxy next to this binary,
// else the one in PATH.
func proxyCommand(config string) ([]string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "netns-proxy")
		if _, err := os.Stat(p); err == nil {
			return []string{p, "-c", config}, nil
		}
	}
	p, err := exec.LookPath("netns-proxy")
	if err != nil {
		return nil, fmt.Errorf("--proxy: netns-proxy is neither next to %s nor in PATH: %w", name, provision.ErrCommandNotFound)
	}
	return []string{p, "-c", config}, nil
}

// join execs the command in an existing namespace, provisioning nothing.
func join(f *flags) {
	if len(f.Command) == 0 {
		fail(fmt.Errorf("%w: --join needs a command: %s --join NAME -- CMD [ARGS]", provision.ErrInvalidSpec, name))
	}
	if err := provision.ValidName(f.Name); err != nil {
		fail(err)
	}
	if _, err := os.Stat(provision.NetnsPath(f.Name)); err != nil {
		fail(fmt.Errorf("%w: --join: namespace %q does not exist (%w)", provision.ErrInvalidSpec, f.Name, err))
	}
	spec := &provision.Spec{Name: f.Name}
	if st, err := provision.ReadState(f.Name); err == nil && st != nil {
		spec = st.Spec
	}
	cmd, err := provision.NewCommand(f.Name, f.Command, f.execSpec(provision.ExecSpec{}))
	if err != nil {
		fail(err)
	}
	cmd.SetNetnsEnv(spec)
	fail(cmd.Run(warn(f)))
}

// execInside replaces this process with cmd in spec's namespace. If that
// fails, a namespace this call made is removed again.
func execInside(f *flags, spec *provision.Spec, cmd *provision.Command, outcome provision.Outcome, opt provision.Options) {
	cmd.SetNetnsEnv(spec)
	err := cmd.Run(warn(f))
	if outcome != provision.Unchanged {
		if serr := provision.Stop(context.Background(), spec.Name, opt); serr != nil {
			err = fmt.Errorf("%w (rolling back: %w)", err, serr)
		}
	}
	fail(err)
}

func warn(f *flags) func(string) {
	return func(m string) {
		if !f.Quiet {
			fmt.Fprintln(os.Stderr, name+": warning: "+m)
		}
	}
}
