package manpage

import (
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

type testCLI struct {
	Config string   `short:"c" placeholder:"FILE" help:"TOML spec."`
	Kind   string   `enum:",veth,macvlan" default:"" help:"veth or macvlan."`
	Addr   []string `placeholder:"CIDR" help:"An address."`
	Quiet  bool     `short:"q" help:"Errors only."`
	Secret bool     `hidden:"" help:"Not shown."`
	Name   string   `arg:"" help:"Namespace name."`
}

// TestCommandPage checks what man shows for a kong model: every visible
// flag with its placeholder (enum values, repeatable), the positional in
// SYNOPSIS and ARGUMENTS, hyphens as \-, no hidden flag.
func TestCommandPage(t *testing.T) {
	k, err := kong.New(&testCLI{}, kong.Name("nd-test"), kong.Description("Do a thing."))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	page := Command{Section: "8", Description: []string{"Uses `-c FILE`.\n.no request"}, SeeAlso: []string{"nd-other(8)"}}
	if err := page.Write(&b, k, "1.0"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		`.TH "ND\-TEST" 8 "" "netns-daemon 1.0" "System Administration"`,
		`nd\-test \- do a thing`,
		`\fBnd\-test\fR [\fIOPTIONS\fR] \fINAME\fR`,
		`\fB\-c\fR, \fB\-\-config\fR=\fIFILE\fR`,
		`\fB\-\-kind\fR=\fIveth|macvlan\fR`,
		`\fB\-\-addr\fR=\fICIDR,...\fR`,
		"An address. May be repeated.",
		`\fB\-q\fR, \fB\-\-quiet\fR` + "\n",
		`Uses \fB\-c FILE\fR.`,
		`\&.no request`,
		`\fBnd\-other\fR(8)`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q; got\n%s", want, out)
		}
	}
	if strings.Contains(out, "secret") {
		t.Errorf("page shows the hidden flag:\n%s", out)
	}
}

const md = "# Top\n\n## Config\n\nA `key` file; **bold** and *em*.\n\n" +
	"```toml\nname = \"x\" # -1\n```\n\n### Sub\n\n- one\n  two\n- three\n\n" +
	"| code | meaning |\n|---|---|\n| 0 | done |\n| 2 | bad input |\n\n## Config more\n\nkept\n\n## Other\n\ndropped\n"

// TestFormatPage checks the Markdown the README's references use.
func TestFormatPage(t *testing.T) {
	sec := Extract(md, "Config", "Config")
	if !strings.Contains(sec, "kept") || strings.Contains(sec, "dropped") || strings.Contains(sec, "# Top") {
		t.Fatalf("Extract: got %q", sec)
	}
	var b strings.Builder
	if err := (Format{Name: "x.toml", Summary: "spec", Markdown: sec}).Write(&b, "1.0"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		".SH DESCRIPTION\n.PP\nA \\fBkey\\fR file; \\fBbold\\fR and \\fIem\\fR.\n",
		".nf\nname = \"x\" # \\-1\n.fi\n",
		".SS \"Sub\"\n",
		".IP \\(bu 2\none two\n",
		".TP\n\\fB0\\fR\ndone\n",
		".TP\n\\fB2\\fR\nbad input\n",
		".SH \"CONFIG MORE\"\n.PP\nkept\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q; got\n%s", want, out)
		}
	}
	if strings.Contains(out, "code") {
		t.Errorf("the table's header row is shown:\n%s", out)
	}
}
