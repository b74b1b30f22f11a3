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
	spec, err := f.spec()
	if err != nil {
		cli.Fail(name, err)
	}
	if err := spec.Validate(); err != nil {
		cli.Fail(name, err)
	}
	if f.DryRun {
		for _, c := range provision.Plan(spec) {
			fmt.Println(c)
		}
		return
	}
	opt := provision.Options{}
	if !f.Quiet {
		opt.Log = func(m string) { fmt.Fprintln(os.Stderr, name+": "+m) }
	}
	began := time.Now()
	outcome, err := provision.Start(context.Background(), spec, opt)
	if err != nil {
		cli.Fail(name, err)
	}
	took := time.Since(began)
	switch {
	case f.JSON:
		rep, err := provision.Inspect(spec.Name)
		if err != nil {
			cli.Fail(name, err)
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
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
