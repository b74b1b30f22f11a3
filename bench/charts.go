//go:build linux

package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Charts of section 2, written next to the report as SVG, each the
// medians of this run (gonum/plot: the rendering of bars, axes and
// legends is its job, not the harness's).
var proxyCharts = []struct{ file, title string }{
	{"BENCHMARKS-proxy-rps.svg", "requests per second"},
	{"BENCHMARKS-proxy-p99.svg", "p99 latency"},
	{"BENCHMARKS-proxy-throughput.svg", "throughput"},
	{"BENCHMARKS-proxy-idle-rss.svg", "RSS per idle connection"},
}

// chartsMD links the charts from the report.
func chartsMD(b *strings.Builder) {
	b.WriteString("Charts (this run's medians):")
	for i, c := range proxyCharts {
		sep := ","
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(b, "%s [%s](%s)", sep, c.title, c.file)
	}
	b.WriteString(".\n\n")
}

type barGroup struct {
	name string
	vals []float64 // one per path; 0: not measured
}

// writeCharts renders the proxy charts into dir.
func (r *report) writeCharts(dir string) error {
	x := r.proxy
	if x == nil || x.err != "" {
		return nil
	}
	var names, labels []string
	for _, p := range append(append([]*path(nil), x.paths...), x.cross...) {
		names = append(names, p.name)
		labels = append(labels, strings.Replace(p.name, ", namespace crossing", "\n(crossing)", 1))
	}
	med := func(key string, get func(*measure) series) []float64 {
		out := make([]float64, len(names))
		for i, n := range names {
			if s := get(r.get(key, n)); len(s) > 0 {
				out[i] = s.median()
			}
		}
		return out
	}
	val := func(m *measure) series { return m.val }
	p99 := func(m *measure) series { return m.p99 }
	var idleNames []string
	var idleKiB []float64
	for _, i := range x.idle {
		per := make(series, 0, len(i.rss))
		for k := range i.rss {
			per = append(per, (i.rss[k]-i.base[k])/float64(x.idleConns))
		}
		if len(per) > 0 {
			idleNames = append(idleNames, i.name)
			idleKiB = append(idleKiB, per.median())
		}
	}
	charts := []struct {
		y      string
		labels []string
		groups []barGroup
	}{
		{"requests/s", labels, []barGroup{{"Connection: close", med("close", val)}, {"keep-alive", med("keep", val)}}},
		{"p99 (ms)", labels, []barGroup{{"Connection: close", med("close", p99)}, {"keep-alive", med("keep", p99)}}},
		{"Gbit/s", labels, []barGroup{{"1 stream", med("s1", val)}, {"4 streams", med("s4", val)}}},
		{fmt.Sprintf("KiB per connection (%d idle)", x.idleConns), idleNames, []barGroup{{"RSS", idleKiB}}},
	}
	var errs []error
	for i, c := range charts {
		if err := barChart(filepath.Join(dir, proxyCharts[i].file), proxyCharts[i].title, c.y, c.labels, c.groups); err != nil {
			errs = append(errs, fmt.Errorf("chart %s: %w", proxyCharts[i].file, err))
		}
	}
	return errors.Join(errs...)
}

func barChart(file, title, ylabel string, labels []string, groups []barGroup) error {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.Y.Min = 0
	w := vg.Points(14)
	for i, g := range groups {
		bars, err := plotter.NewBarChart(plotter.Values(g.vals), w)
		if err != nil {
			return err
		}
		bars.LineStyle.Width = 0
		bars.Color = plotutil.Color(i)
		bars.Offset = w * vg.Length(2*i-len(groups)+1) / 2
		p.Add(bars)
		if len(groups) > 1 {
			p.Legend.Add(g.name, bars)
		}
	}
	p.Legend.Top = true
	p.NominalX(labels...)
	return p.Save(9*vg.Inch, 4*vg.Inch, file)
}
