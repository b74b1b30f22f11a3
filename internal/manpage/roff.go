// Package manpage writes man pages: a command's from its kong model, so
// the OPTIONS section never drifts from --help, and a file format's from a
// piece of the README (Markdown).
package manpage

import (
	"fmt"
	"io"
	"regexp"
	"strings"
)

// roff holds a page being written; the first write error sticks.
type roff struct {
	w   io.Writer
	err error
}

func (r *roff) line(format string, a ...any) {
	if r.err == nil {
		_, r.err = fmt.Fprintf(r.w, format+"\n", a...)
	}
}

// text writes running text, one input line per output line, guarded so no
// line can start a request.
func (r *roff) text(s string) {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			l = `\&` + l
		}
		r.line("%s", l)
	}
}

// header starts a page: .TH, then NAME.
func (r *roff) header(name, section, version, manual, summary string) {
	r.line(`.TH %s %s "" "netns-daemon %s" "%s"`, quote(strings.ToUpper(name)), section, escape(version), manual)
	r.line(".SH NAME")
	r.line(`%s \- %s`, escape(name), inline(summary))
}

// seeAlso writes SEE ALSO from "page(section)" references.
func (r *roff) seeAlso(refs []string) {
	if len(refs) == 0 {
		return
	}
	r.line(".SH SEE ALSO")
	out := make([]string, len(refs))
	for i, s := range refs {
		page, sec, _ := strings.Cut(strings.TrimSuffix(s, ")"), "(")
		out[i] = `\fB` + escape(page) + `\fR(` + sec + `)`
	}
	r.line("%s", strings.Join(out, ",\n"))
}

// escape makes plain text safe for roff: backslashes, and hyphens as \-
// so they stay ASCII minus signs in options and paths.
func escape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	return strings.ReplaceAll(s, "-", `\-`)
}

func quote(s string) string { return `"` + strings.ReplaceAll(escape(s), `"`, `\(dq`) + `"` }

var (
	codeRe = regexp.MustCompile("`([^`]+)`")
	boldRe = regexp.MustCompile(`\*\*([^*]+)\*\*`)
	emRe   = regexp.MustCompile(`\*([^*\s][^*]*)\*`)
	linkRe = regexp.MustCompile(`\[([^\]]+)\]\(([^)]+)\)`)
)

// inline escapes s and turns Markdown's `code` and **bold** into bold,
// *emphasis* into italics, and [text](url) into its text.
func inline(s string) string {
	s = linkRe.ReplaceAllString(s, "$1")
	s = escape(s)
	s = codeRe.ReplaceAllString(s, `\fB$1\fR`)
	s = boldRe.ReplaceAllString(s, `\fB$1\fR`)
	return emRe.ReplaceAllString(s, `\fI$1\fR`)
}
