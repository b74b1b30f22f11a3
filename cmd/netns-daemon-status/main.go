// Command netns-daemon-status lists the namespaces netns-daemon-start
// provisioned, as the kernel shows them: interfaces, addresses, the default
// route and the processes inside. Exit status as LSB status actions: 0
// provisioned as specified, 1 a state file but the namespace is gone, half
// made or drifted from its spec (each missing or changed object listed),
// 3 not provisioned.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/netns-daemon/netns-daemon/internal/cli"
	"github.com/netns-daemon/netns-daemon/provision"
)

const name = "netns-daemon-status"

// LSB status exit codes.
const (
	exitDead         = 1 // a state file, but the namespace is gone or half-made
	exitNotProvision = 3
)

var args struct {
	JSON bool   `help:"Print the namespaces as JSON."`
	Name string `arg:"" optional:"" help:"Only this namespace; exit 3 if it is not provisioned."`
}

// entry is one namespace: the kernel's report, or why there is none.
type entry struct {
	*provision.Report
	Error string `json:"error,omitempty"`
}

func main() {
	cli.Parse(&args, name, "List the namespaces netns-daemon-start provisioned.")
	names := []string{args.Name}
	if args.Name == "" {
		var err error
		if names, err = provision.Names(); err != nil {
			cli.Fail(name, err)
		}
	} else {
		// The name becomes a path under /run/netns-daemon: a bad one is
		// bad input, and nothing is read for it.
		if err := provision.ValidName(args.Name); err != nil {
			cli.Fail(name, err)
		}
		st, err := provision.ReadState(args.Name)
		if err != nil {
			cli.Fail(name, err)
		}
		if st == nil {
			fmt.Fprintf(os.Stderr, "%s: %s: not provisioned\n", name, args.Name)
			os.Exit(exitNotProvision)
		}
	}
	entries := make([]entry, 0, len(names))
	code := cli.ExitOK
	for _, n := range names {
		rep, err := provision.Inspect(n)
		e := entry{Report: rep}
		if err != nil {
			e = entry{Report: &provision.Report{Name: n, Path: provision.NetnsPath(n)}, Error: err.Error()}
		}
		if err != nil || !rep.Complete || len(rep.Drift) > 0 {
			code = exitDead
		}
		entries = append(entries, e)
	}
	if args.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(entries)
	} else {
		table(os.Stdout, entries)
	}
	if args.Name != "" {
		os.Exit(code)
	}
}

// table prints one line per interface, the namespace's columns on its first.
func table(w io.Writer, entries []entry) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tINTERFACE\tADDRESSES\tDEFAULT ROUTE\tPIDS")
	for _, e := range entries {
		state := "ok"
		switch {
		case e.Error != "":
			state = "broken: " + e.Error
		case !e.Complete:
			state = "half-made"
		case len(e.Drift) > 0:
			var d []string
			for _, x := range e.Drift {
				d = append(d, x.Object+" "+x.What)
			}
			state = "drift: " + strings.Join(d, "; ")
		}
		def := []string{}
		for _, r := range e.Routes {
			if r.To == "default" {
				def = append(def, strings.TrimSpace("via "+r.Via+" dev "+r.Dev))
			}
		}
		pids := make([]string, len(e.PIDs))
		for i, p := range e.PIDs {
			pids[i] = fmt.Sprint(p)
		}
		first := []string{e.Name, state}
		rest := []string{dash(strings.Join(def, ", ")), dash(strings.Join(pids, ","))}
		ifaces := 0
		for _, ifc := range e.Interfaces {
			if ifc.Name == "lo" {
				continue
			}
			fmt.Fprintln(tw, strings.Join(append(append(first, ifc.Name, dash(strings.Join(ifc.Addresses, " "))), rest...), "\t"))
			first, rest = []string{"", ""}, []string{"", ""}
			ifaces++
		}
		if ifaces == 0 {
			fmt.Fprintln(tw, strings.Join(append(append(first, "lo", "-"), rest...), "\t"))
		}
	}
	tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
