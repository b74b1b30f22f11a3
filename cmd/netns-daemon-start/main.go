// Command netns-daemon-start provisions a network namespace for a daemon:
// inbound and outbound interfaces, addresses, the default route on the
// outbound side only, rp_filter, sysctls and /etc/netns files.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/netns-daemon/netns-daemon/internal/cli"
	"github.com/netns-daemon/netns-daemon/provision"
)

const name = "netns-daemon-start"

func main() {
	var f flags
	cli.Parse(&f, name, "Provision the network namespace NAME (hook mode), or provision it and exec CMD inside.")
	if len(f.Command) > 0 && f.Command[0] == "--" {
		f.Command = f.Command[1:] // kong passes the separator through
	}
	if f.Proxy != "" {
		if len(f.Command) > 0 {
			fail(fmt.Errorf("%w: --proxy and a command: give one", provision.ErrInvalidSpec))
		}
		var err error
		if f.Command, err = proxyCommand(f.Proxy); err != nil {
			fail(err)
		}
	}
	if f.Join {
		join(&f)
	}
	spec, err := f.spec()
	if err != nil {
		fail(err)
	}
	spec.Normalize()
	if err := spec.Validate(); err != nil {
		fail(err)
	}
	if f.DryRun {
		plan, err := provision.DryRun(spec)
		if err != nil {
			fail(err)
		}
		for _, c := range plan {
			fmt.Println(c)
		}
		return
	}
	opt := provision.Options{Recreate: f.Recreate}
	if !f.Quiet {
		opt.Log = func(m string) { fmt.Fprintln(os.Stderr, name+": "+m) }
	}
	// Exec mode checks its command before anything is provisioned.
	var cmd *provision.Command
	if len(f.Command) > 0 {
		if cmd, err = provision.NewCommand(spec.Name, f.Command, f.execSpec(spec.Exec)); err != nil {
			fail(err)
		}
	}
	began := time.Now()
	outcome, err := provision.Start(context.Background(), spec, opt)
	if err != nil {
		fail(err)
	}
	took := time.Since(began)
	switch {
	case cmd != nil:
		if !f.Quiet {
			fmt.Fprintf(os.Stderr, "%s: %s: %s in %s; exec %s\n", name, spec.Name, outcome, took.Round(10*time.Microsecond), cmd.Path)
		}
		execInside(&f, spec, cmd, outcome, opt)
	case f.JSON:
		rep, err := provision.Inspect(spec.Name)
		if err != nil {
			fail(err)
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	case !f.Quiet:
		fmt.Printf("%s: %s %s in %s: %s\n", spec.Name, outcome, provision.NetnsPath(spec.Name), took.Round(10*time.Microsecond), summary(spec))
	}
}

// summary is the one-line picture of the namespace.
func summary(s *provision.Spec) string {
	var parts []string
	for _, ifc := range s.Ifaces() {
		p := ifc.Name + " " + strings.Join(ifc.Addresses, ",")
		if ifc.Kind == provision.KindVeth && len(ifc.PeerAddresses) > 0 {
			p += " (peer " + ifc.Peer + " " + strings.Join(ifc.PeerAddresses, ",") + ")"
		} else if ifc.Kind != provision.KindVeth {
			p += " (" + ifc.Kind + " " + ifc.Parent + ")"
		}
		for _, gw := range []string{ifc.Gateway, ifc.Gateway6} {
			if gw != "" {
				p += " default via " + gw
			}
		}
		parts = append(parts, strings.TrimSpace(p))
	}
	if len(parts) == 0 {
		return "loopback only"
	}
	return strings.Join(parts, "; ")
}
