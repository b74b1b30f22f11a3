//go:build manpage

package main

import "github.com/netns-daemon/netns-daemon/internal/manpage"

// go run -tags manpage ./cmd/netns-daemon-stop > netns-daemon-stop.8
func init() {
	manpage.Main(name, &args, manpage.Command{
		Section: "8",
		Description: []string{
			"Reads `/run/netns-daemon/NAME.json` and acts only on what still matches the identity start recorded: if `/run/netns/NAME` is not the namespace start made (another one under the name, a symlink), it signals and deletes nothing, keeps the state and exits 1. Otherwise it sends SIGTERM to the processes still in the namespace and SIGKILL after `--timeout`; moves moved-in devices back exactly as they were (name, MTU, MAC, up, host addresses and routes; with the host namespace gone it refuses unless `--force`); deletes host-side shims and routes; removes the `/etc/netns/NAME` files that still hold what start wrote; unmounts and removes the namespace. Veth peers and macvlans go with the namespace; the kernel reaps them within tens of milliseconds (`--wait` waits for it).",
			"Stopping a name that is not provisioned succeeds. Put the name after `--` when it may start with `-`.",
		},
		Sections: []manpage.Section{{
			Title: "Exit status",
			Items: []manpage.Item{
				{Term: "0", Text: "removed, or nothing to remove"},
				{Term: "1", Text: "a step failed, or what is there is not what start made (state kept)"},
				{Term: "2", Text: "bad input"},
			},
		}},
		SeeAlso: []string{"netns-daemon-start(8)", "netns-daemon-status(8)", "netns-daemon.toml(5)"},
	})
}
