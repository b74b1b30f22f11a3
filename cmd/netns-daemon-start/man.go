//go:build manpage

package main

import "github.com/netns-daemon/netns-daemon/internal/manpage"

// go run -tags manpage ./cmd/netns-daemon-start > netns-daemon-start.8
func init() {
	manpage.Main(name, &flags{}, manpage.Command{
		Section: "8",
		Description: []string{
			"**Hook mode** (no CMD): provision the namespace NAME from the flags and the TOML spec (`-c FILE`, see netns-daemon.toml(5); flags override it) and exit. Inbound and outbound interfaces (veth, macvlan or a moved device), addresses, the default route on the outbound side only, rp_filter, sysctls and `/etc/netns/NAME/` files. Everything is validated before anything is touched; a failure undoes what this run made, and nothing that existed before is ever deleted. Starting a name already provisioned changes it in place to the spec (only the difference; the namespace and the daemon in it stay) and repairs drift; `--recreate` makes it anew; `--dry-run` prints the plan, or the difference.",
			"**Exec mode** (`NAME -- CMD [ARGS]`): provision, then enter the namespace, bind `/etc/netns/NAME/*` over `/etc` for CMD alone (as `ip netns exec` does) and exec CMD, which keeps this process's PID (for systemd's `$MAINPID` and pidfiles). `--join` enters an existing namespace without provisioning. `--proxy FILE` runs the bundled netns-proxy(8) as CMD.",
			"Put the namespace name after `--` when it may start with `-`: `netns-daemon-start -c FILE -- NAME`.",
		},
		Sections: []manpage.Section{{
			Title: "Exit status",
			Items: []manpage.Item{
				{Term: "0", Text: "provisioned, changed in place, or already as the spec says"},
				{Term: "1", Text: "a step failed (what this run made was undone), or a name start would take is in use"},
				{Term: "2", Text: "bad input (flags, spec, names); nothing was touched"},
				{Term: "127", Text: "exec mode: CMD was not found"},
			},
		}, {
			Title: "Files",
			Items: []manpage.Item{
				{Term: "/etc/netns-daemon/NAME.toml", Text: "the spec the packaged units read"},
				{Term: "/run/netns/NAME", Text: "the namespace (a bind mount of its nsfs file, as `ip netns` makes it)"},
				{Term: "/run/netns-daemon/NAME.json", Text: "what was made, for netns-daemon-stop(8)"},
				{Term: "/etc/netns/NAME/", Text: "resolv.conf and hosts from the spec's `[dns]`"},
			},
		}},
		SeeAlso: []string{"netns-daemon-stop(8)", "netns-daemon-status(8)", "netns-daemon.toml(5)", "netns-proxy(8)", "ip-netns(8)", "systemd.exec(5)"},
	})
}
