package manpage

import (
	"io"
	"strings"
)

// Format is a file format's page (section 5) made from Markdown: the text
// under the first "##" heading becomes DESCRIPTION, later "##" headings
// sections and "###" headings subsections. Paragraphs, fenced code,
// "- " lists and tables (as tagged paragraphs) are understood.
type Format struct {
	Name, Summary string
	Markdown      string
	SeeAlso       []string
}

// Write renders the page.
func (p Format) Write(w io.Writer, version string) error {
	r := &roff{w: w}
	r.header(p.Name, "5", version, "File Formats", p.Summary)
	lines := strings.Split(p.Markdown, "\n")
	var para []string
	flush := func() {
		if len(para) > 0 {
			r.line(".PP")
			r.text(inline(strings.Join(para, " ")))
			para = nil
		}
	}
	first := true
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "## "):
			flush()
			if first {
				r.line(".SH DESCRIPTION")
				first = false
			} else {
				r.line(".SH %s", quote(strings.ToUpper(l[3:])))
			}
		case strings.HasPrefix(l, "### "):
			flush()
			r.line(".SS %s", quote(l[4:]))
		case strings.HasPrefix(t, "```"):
			flush()
			r.line(".PP")
			r.line(".RS 4")
			r.line(".nf")
			for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), "```"); i++ {
				r.text(escape(lines[i]))
			}
			r.line(".fi")
			r.line(".RE")
		case strings.HasPrefix(l, "- "):
			flush()
			item := []string{l[2:]}
			for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "  ") && strings.TrimSpace(lines[i+1]) != "" {
				i++
				item = append(item, strings.TrimSpace(lines[i]))
			}
			r.line(`.IP \(bu 2`)
			r.text(inline(strings.Join(item, " ")))
		case strings.HasPrefix(t, "|"):
			flush()
			// Header and rule first, then one tagged paragraph per row.
			for i+1 < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i+1]), "|") {
				i++
				cells := strings.Split(strings.Trim(strings.TrimSpace(lines[i]), "|"), "|")
				if strings.Trim(strings.Join(cells, ""), "-: ") == "" {
					continue
				}
				for j := range cells {
					cells[j] = strings.TrimSpace(cells[j])
				}
				r.line(".TP")
				r.line("%s", inline("**"+strings.Trim(cells[0], "`*")+"**"))
				for j := 1; j < len(cells); j++ {
					cells[j] = inline(cells[j])
				}
				r.text(strings.Join(cells[1:], ` \(em `))
			}
		case t == "":
			flush()
		default:
			para = append(para, t)
		}
	}
	flush()
	r.seeAlso(p.SeeAlso)
	return r.err
}

// Extract returns the README's text from the "## "+from heading up to the
// next "## " heading that does not start with prefix keep ("" = any).
func Extract(md, from, keep string) string {
	lines := strings.Split(md, "\n")
	var out []string
	in := false
	for _, l := range lines {
		if strings.HasPrefix(l, "## ") {
			h := l[3:]
			switch {
			case h == from:
				in = true
			case in && (keep == "" || !strings.HasPrefix(h, keep)):
				return strings.Join(out, "\n")
			}
		}
		if in {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
