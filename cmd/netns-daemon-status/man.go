//go:build manpage

package main

import "github.com/netns-daemon/netns-daemon/internal/manpage"

// go run -tags manpage ./cmd/netns-daemon-status > netns-daemon-status.8
func init() {
	manpage.Main(name, &args, manpage.Command{
		Section: "8",
		Description: []string{
			"For each namespace (or only NAME): its interfaces, addresses and routes as the kernel reports them, and the processes inside, and every object start made that the kernel no longer has as made (drift, with the command that repairs it; netns-daemon-start(8) with the same spec repairs it). `--json` prints the same as JSON.",
		},
		Sections: []manpage.Section{{
			Title: "Exit status",
			Items: []manpage.Item{
				{Term: "0", Text: "listed; NAME is provisioned as its spec says"},
				{Term: "1", Text: "NAME: state exists but the namespace is gone, half made or drifted (LSB: dead, state exists), or could not be inspected"},
				{Term: "3", Text: "NAME is not provisioned (as LSB status)"},
			},
		}},
		SeeAlso: []string{"netns-daemon-start(8)", "netns-daemon-stop(8)"},
	})
}
