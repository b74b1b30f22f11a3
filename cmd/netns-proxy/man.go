//go:build manpage

package main

import "github.com/netns-daemon/netns-daemon/internal/manpage"

// go run -tags manpage ./cmd/netns-proxy > netns-proxy.8
func init() {
	manpage.Main("netns-proxy", &cli{}, manpage.Command{
		Section: "8",
		Description: []string{
			"Listeners and servers live in named network namespaces (see netns-proxy.toml(5)); a connection's namespace is its listener's unless a PROXY v2 header from a trusted source names another. The process started is a **master**: it keeps the PID and the listening sockets and runs the proxy in a worker. SIGHUP validates the config, starts a new worker on the same sockets and lets the old one drain (up to `grace`), so a reload loses no connection; a bad config is logged and the running one keeps serving. SIGTERM stops accepting and drains.",
			"Under systemd it is `Type=notify` (READY=1, RELOADING=1, STOPPING=1); netns-proxy.service runs it in the host's namespace, netns-proxy@.service in a namespace that netns-daemon-start(8) provisions.",
		},
		Sections: []manpage.Section{{
			Title: "Exit status",
			Items: []manpage.Item{
				{Term: "0", Text: "stopped cleanly, or `--check` found the config valid"},
				{Term: "1", Text: "a failure at run time"},
				{Term: "2", Text: "bad flags or config (the message names the key and the reason)"},
			},
		}, {
			Title: "Signals",
			Items: []manpage.Item{
				{Term: "SIGHUP", Text: "reload the config"},
				{Term: "SIGTERM, SIGINT", Text: "stop, letting connections drain up to `grace`"},
			},
		}},
		SeeAlso: []string{"netns-proxy.toml(5)", "netns-daemon-start(8)", "haproxy(1)"},
	})
}
