package proxy

import (
	"bufio"
	"fmt"
	"strings"
	"sync/atomic"
)

// Metrics are hand-written Prometheus text exposition: a few dozen lines
// against client_golang's registry, descriptors and its dependency tree.
// Counters live in the objects they count and are bumped with atomic adds;
// a scrape walks the objects, so the connection path takes no lock or map.

// refusal is why a frontend refused (or held back) a connection.
type refusal uint8

const (
	refusedUnknownNS refusal = iota
	refusedUntrusted
	refusedHeaderTimeout
	refusedBadHeader
	refusedMaxConns // accept loop found every max_connections slot taken
	refusedLoop     // the destination was one of our own listeners
	nRefusals
)

var refusalNames = [nRefusals]string{"unknown_namespace", "untrusted_source", "header_timeout", "bad_header", "max_connections", "loop"}

type frontendStats struct {
	current, total    atomic.Int64
	bytesIn, bytesOut atomic.Int64
	refused           [nRefusals]atomic.Int64
}

type serverStats struct {
	total, connectErrors atomic.Int64
	bytesIn, bytesOut    atomic.Int64
}

// count adds a finished connection's bytes; the relay's counters are
// final once it has called done.
func (s *session) count() {
	in, out := s.relay.c2s.n+int64(len(s.pending)), s.relay.s2c.n
	s.fe.stats.bytesIn.Add(in)
	s.fe.stats.bytesOut.Add(out)
	if s.srv != nil {
		s.srv.stats.bytesIn.Add(in)
		s.srv.stats.bytesOut.Add(out)
	}
}

// writeMetrics renders every counter; backends are the sums of their
// servers.
func (p *Proxy) writeMetrics(w *bufio.Writer) {
	m := metricWriter{w: w}
	m.head("netns_proxy_reloads_total", "counter", "Reloads of the master before this worker started.")
	m.val("", int64(p.opts.Generation))
	m.head("netns_proxy_frontend_connections", "gauge", "Open client connections.")
	for _, fe := range p.frontends {
		m.val(label("frontend", fe.name), fe.stats.current.Load())
	}
	for _, c := range []struct {
		name, help string
		get        func(*frontendStats) int64
	}{
		{"connections_total", "Accepted client connections.", func(s *frontendStats) int64 { return s.total.Load() }},
		{"bytes_in_total", "Bytes from clients, counted when a connection ends.", func(s *frontendStats) int64 { return s.bytesIn.Load() }},
		{"bytes_out_total", "Bytes to clients, counted when a connection ends.", func(s *frontendStats) int64 { return s.bytesOut.Load() }},
	} {
		m.head("netns_proxy_frontend_"+c.name, "counter", c.help)
		for _, fe := range p.frontends {
			m.val(label("frontend", fe.name), c.get(&fe.stats))
		}
	}
	m.head("netns_proxy_frontend_refused_total", "counter", "Connections refused, or waits for a max_connections slot, by reason.")
	for _, fe := range p.frontends {
		for r := range nRefusals {
			m.val(label("frontend", fe.name)+","+label("reason", refusalNames[r]), fe.stats.refused[r].Load())
		}
	}
	p.writeServerMetrics(&m)
}

func (p *Proxy) writeServerMetrics(m *metricWriter) {
	for _, c := range []struct {
		name, typ, help string
		get             func(*server) int64
	}{
		{"connections", "gauge", "Open server connections.", func(s *server) int64 { return s.active.Load() }},
		{"connections_total", "counter", "Server connections made.", func(s *server) int64 { return s.stats.total.Load() }},
		{"connect_errors_total", "counter", "Failed connects.", func(s *server) int64 { return s.stats.connectErrors.Load() }},
		{"bytes_in_total", "counter", "Bytes sent to servers, counted when a connection ends.", func(s *server) int64 { return s.stats.bytesIn.Load() }},
		{"bytes_out_total", "counter", "Bytes received from servers, counted when a connection ends.", func(s *server) int64 { return s.stats.bytesOut.Load() }},
	} {
		m.head("netns_proxy_backend_"+c.name, c.typ, c.help)
		for _, b := range p.backends {
			var sum int64
			for _, s := range b.servers {
				sum += c.get(s)
			}
			m.val(label("backend", b.name), sum)
		}
		m.head("netns_proxy_server_"+c.name, c.typ, c.help)
		for _, b := range p.backends {
			for _, s := range b.servers {
				m.val(label("backend", b.name)+","+label("server", s.name), c.get(s))
			}
		}
	}
	m.head("netns_proxy_server_up", "gauge", "1 if the server is up (health checks pass or are off).")
	for _, b := range p.backends {
		for _, s := range b.servers {
			up := int64(1)
			if s.down.Load() {
				up = 0
			}
			m.val(label("backend", b.name)+","+label("server", s.name), up)
		}
	}
}

type metricWriter struct {
	w    *bufio.Writer
	name string
}

func (m *metricWriter) head(name, typ, help string) {
	m.name = name
	fmt.Fprintf(m.w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

func (m *metricWriter) val(labels string, v int64) {
	if labels == "" {
		fmt.Fprintf(m.w, "%s %d\n", m.name, v)
		return
	}
	fmt.Fprintf(m.w, "%s{%s} %d\n", m.name, labels, v)
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func label(k, v string) string { return k + `="` + labelEscaper.Replace(v) + `"` }
