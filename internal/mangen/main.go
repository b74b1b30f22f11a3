// Command mangen writes the file-format man pages netns-daemon.toml(5)
// and netns-proxy.toml(5) from the README's configuration references into
// DIR (make man; the commands' pages come from `go run -tags manpage`).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/netns-daemon/netns-daemon/internal/manpage"
)

func main() {
	out := flag.String("o", ".", "output directory")
	readme := flag.String("readme", "README.md", "the README to read")
	version := flag.String("version", "", "version for the page footer")
	flag.Parse()
	b, err := os.ReadFile(*readme)
	if err != nil {
		fail(err)
	}
	md := string(b)
	pages := []manpage.Format{{
		Name:     "netns-daemon.toml",
		Summary:  "namespace spec for netns-daemon-start",
		Markdown: manpage.Extract(md, "Configuration reference", ""),
		SeeAlso:  []string{"netns-daemon-start(8)", "netns-daemon-stop(8)", "netns-daemon-status(8)", "netns-proxy.toml(5)"},
	}, {
		Name:     "netns-proxy.toml",
		Summary:  "configuration of netns-proxy",
		Markdown: manpage.Extract(md, "netns-proxy", "netns-proxy"),
		SeeAlso:  []string{"netns-proxy(8)", "netns-daemon.toml(5)", "netns-daemon-start(8)"},
	}}
	for _, p := range pages {
		if p.Markdown == "" {
			fail(fmt.Errorf("%s: no such section in %s", p.Name, *readme))
		}
		f, err := os.Create(filepath.Join(*out, p.Name+".5"))
		if err != nil {
			fail(err)
		}
		if err := p.Write(f, *version); err != nil {
			fail(fmt.Errorf("writing %s: %w", f.Name(), err))
		}
		if err := f.Close(); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "mangen:", err)
	os.Exit(1)
}
