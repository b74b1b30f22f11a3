package manpage

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/alecthomas/kong"
)

// Item is a term and its description (EXIT STATUS, FILES …).
type Item struct{ Term, Text string }

// Section is an extra section after OPTIONS.
type Section struct {
	Title string
	Text  []string // paragraphs, Markdown inline syntax
	Items []Item
}

// Command is a command's page; NAME, SYNOPSIS, ARGUMENTS and OPTIONS come
// from its kong model.
type Command struct {
	Section     string // "8"
	Description []string
	Sections    []Section
	SeeAlso     []string // "netns-daemon-stop(8)"
}

// Main writes the page of command name, whose flags struct is cli, to
// stdout and exits. The commands call it from an init() built only with
// the "manpage" tag; the description comes from the command's own --help
// (this executable run again, with Main returning at once), so that text
// too is the one the command prints.
func Main(name string, cli any, page Command) {
	if os.Getenv(helpEnv) == "1" {
		return
	}
	desc, err := ownHelp()
	var k *kong.Kong
	if err == nil {
		k, err = kong.New(cli, kong.Name(name), kong.Description(desc))
	}
	if err == nil {
		err = page.Write(os.Stdout, k, os.Getenv("NETNS_DAEMON_VERSION"))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: writing the man page: %v\n", name, err)
		os.Exit(1)
	}
	os.Exit(0)
}

const helpEnv = "NETNS_DAEMON_MANPAGE_HELP"

// ownHelp returns the description paragraph of this executable's --help
// (kong prints "Usage: …", a blank line, the description, a blank line).
func ownHelp() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(self, "--help")
	cmd.Env = append(os.Environ(), helpEnv+"=1")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("running %s --help: %w", self, err)
	}
	paras := strings.Split(string(out), "\n\n")
	if len(paras) < 2 || !strings.HasPrefix(paras[0], "Usage:") {
		return "", fmt.Errorf("%s --help: no description in %q", self, out)
	}
	return strings.Join(strings.Fields(paras[1]), " "), nil
}

// Write renders the page for the parser k.
func (p Command) Write(w io.Writer, k *kong.Kong, version string) error {
	r := &roff{w: w}
	app := k.Model
	r.header(app.Name, p.Section, version, "System Administration", strings.TrimSuffix(firstLower(app.Help), "."))
	r.line(".SH SYNOPSIS")
	syn := []string{`\fB` + escape(app.Name) + `\fR`, `[\fIOPTIONS\fR]`}
	for _, a := range app.Positional {
		s := `\fI` + escape(argName(a)) + `\fR`
		if !a.Required {
			s = "[" + s + "]"
		}
		syn = append(syn, s)
	}
	r.line("%s", strings.Join(syn, " "))
	r.line(".SH DESCRIPTION")
	r.text(inline(app.Help))
	for _, d := range p.Description {
		r.line(".PP")
		r.text(inline(d))
	}
	if len(app.Positional) > 0 {
		r.line(".SH ARGUMENTS")
		for _, a := range app.Positional {
			r.line(".TP")
			r.line(`\fI%s\fR`, escape(argName(a)))
			r.text(inline(a.Help))
		}
	}
	r.line(".SH OPTIONS")
	for _, f := range app.Flags {
		if f.Hidden {
			continue
		}
		r.line(".TP")
		r.line("%s", flagTerm(f))
		r.text(inline(flagHelp(f)))
	}
	for _, s := range p.Sections {
		r.line(".SH %s", escape(strings.ToUpper(s.Title)))
		for i, t := range s.Text {
			if i > 0 {
				r.line(".PP")
			}
			r.text(inline(t))
		}
		for _, it := range s.Items {
			r.line(".TP")
			r.line(`\fB%s\fR`, escape(it.Term))
			r.text(inline(it.Text))
		}
	}
	r.seeAlso(p.SeeAlso)
	return r.err
}

func argName(a *kong.Positional) string {
	if a.Tag != nil && a.Tag.PlaceHolder != "" {
		return a.Tag.PlaceHolder
	}
	return strings.ToUpper(a.Name)
}

// flagTerm is "-c, --config=FILE" in roff, as --help shows it.
func flagTerm(f *kong.Flag) string {
	s := `\fB\-\-` + escape(f.Name) + `\fR`
	if f.Short != 0 {
		s = `\fB\-` + escape(string(f.Short)) + `\fR, ` + s
	}
	switch {
	case f.Enum != "":
		var vals []string
		for _, v := range f.EnumSlice() {
			if v != "" {
				vals = append(vals, escape(v))
			}
		}
		s += `=\fI` + strings.Join(vals, "|") + `\fR`
	case !f.IsBool() && !f.IsCounter():
		s += `=\fI` + escape(f.FormatPlaceHolder()) + `\fR`
	}
	return s
}

func flagHelp(f *kong.Flag) string {
	h := f.Help
	if f.HasDefault && f.Default != "" {
		h += fmt.Sprintf(" Default: `%s`.", f.Default)
	}
	if f.IsCumulative() {
		h += " May be repeated."
	}
	return h
}

func firstLower(s string) string {
	if s == "" || (len(s) > 1 && s[1] >= 'A' && s[1] <= 'Z') {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
