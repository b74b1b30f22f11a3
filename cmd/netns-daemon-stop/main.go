// Command netns-daemon-stop removes what netns-daemon-start made for NAME,
// as its state file records: processes inside get SIGTERM (then SIGKILL),
// moved-in devices go back, host-side links and routes go, the namespace
// goes. Stopping a name that is not provisioned is not an error.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/netns-daemon/netns-daemon/internal/cli"
	"github.com/netns-daemon/netns-daemon/provision"
)

const name = "netns-daemon-stop"

var args struct {
	Timeout time.Duration `default:"10s" help:"How long processes inside get between SIGTERM and SIGKILL."`
	Wait    bool          `help:"Wait until the kernel has reaped the namespace's veths, so their names are free."`
	Force   bool          `help:"If the host namespace is gone, move devices to the initial namespace instead of refusing; if the state file is unreadable, remove what the kernel shows by our naming and identity rules."`
	Quiet   bool          `short:"q" help:"Errors only."`
	Name    string        `arg:"" help:"Namespace name."`
}

func main() {
	cli.Parse(&args, name, "Remove what netns-daemon-start made for NAME.")
	opt := provision.Options{Timeout: args.Timeout, Wait: args.Wait, Force: args.Force}
	if !args.Quiet {
		opt.Log = func(m string) { fmt.Fprintln(os.Stderr, name+": "+m) }
	}
	if err := provision.Stop(context.Background(), args.Name, opt); err != nil {
		cli.Fail(name, err)
	}
}
