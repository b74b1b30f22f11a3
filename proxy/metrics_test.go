package proxy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestMetrics scrapes the endpoint and checks that counters move as
// connections happen, and that a refused header is counted by reason.
func TestMetrics(t *testing.T) {
	echo := serveOn(t, listenLoopback(t), echoServer)
	r := startProxy(t, config("", "", addrLine(echo))+"\n[metrics]\nlisten = \"127.0.0.1:0\"\n")
	scrapeNow := func() map[string]int64 {
		t.Helper()
		c, err := net.DialTimeout("tcp", r.p.MetricsAddr().String(), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return scrapeConn(t, c)
	}
	before := scrapeNow()
	const n = 5
	for i := range n {
		msg := strings.Repeat("x", 100*(i+1))
		if got, err := roundTrip(t, dialTo(r.addr()), msg); err != nil || got != msg {
			t.Fatalf("echo %d: %q, %v", i, got, err)
		}
	}
	open := dialProxy(t, r) // one byte each way, still open
	var after map[string]int64
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		// Bytes are counted when a connection ends; wait for the last echo's.
		if after = scrapeNow(); after[`netns_proxy_frontend_bytes_in_total{frontend="in"}`] == 1500 {
			break
		}
	}
	for _, tt := range []struct {
		key  string
		want int64
	}{
		{`netns_proxy_frontend_connections_total{frontend="in"}`, n + 1},
		{`netns_proxy_frontend_connections{frontend="in"}`, 1},
		{`netns_proxy_frontend_bytes_in_total{frontend="in"}`, 1500},
		{`netns_proxy_frontend_bytes_out_total{frontend="in"}`, 1500},
		{`netns_proxy_backend_connections_total{backend="app"}`, n + 1},
		{`netns_proxy_server_connections_total{backend="app",server="s1"}`, n + 1},
		{`netns_proxy_server_connections{backend="app",server="s1"}`, 1},
		{`netns_proxy_server_connect_errors_total{backend="app",server="s1"}`, 0},
		{`netns_proxy_reloads_total`, 0},
	} {
		if got := after[tt.key] - before[tt.key]; got != tt.want {
			t.Errorf("%s moved by %d (now %d); want %d", tt.key, got, after[tt.key], tt.want)
		}
	}
	if got := after[`netns_proxy_server_up{backend="app",server="s1"}`]; got != 1 {
		t.Errorf("server_up %d; want 1", got)
	}
	open.Close()
}

// TestMetricsRefusals counts refusals by reason and connect errors.
func TestMetricsRefusals(t *testing.T) {
	dead := listenLoopback(t)
	deadAddr := dead.Addr().String()
	dead.Close() // nothing listens: connects fail
	r := startProxy(t, config("accept_proxy = true\ntrusted_sources = [\"10.0.0.0/8\"]", "", fmt.Sprintf("address = %q", deadAddr))+
		"\n[metrics]\nlisten = \"127.0.0.1:0\"\n")
	roundTrip(t, dialTo(r.addr()), "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n")
	r2 := startProxy(t, config("", "", fmt.Sprintf("address = %q", deadAddr))+"\n[metrics]\nlisten = \"127.0.0.1:0\"\n")
	roundTrip(t, dialTo(r2.addr()), "x")
	scrape := func(r *running, key string, want int64) {
		t.Helper()
		var got int64
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			c, err := net.Dial("tcp", r.p.MetricsAddr().String())
			if err != nil {
				t.Fatal(err)
			}
			if got = scrapeConn(t, c)[key]; got == want {
				return
			}
		}
		t.Errorf("%s = %d; want %d", key, got, want)
	}
	scrape(r, `netns_proxy_frontend_refused_total{frontend="in",reason="untrusted_source"}`, 1)
	scrape(r, `netns_proxy_frontend_refused_total{frontend="in",reason="unknown_namespace"}`, 0)
	scrape(r2, `netns_proxy_server_connect_errors_total{backend="app",server="s1"}`, 1)
	scrape(r2, `netns_proxy_backend_connect_errors_total{backend="app"}`, 1)
}

// scrapeConn sends a GET on c and parses the exposition into
// name{labels} -> value.
func scrapeConn(t *testing.T, c net.Conn) map[string]int64 {
	t.Helper()
	m, err := scrapeErr(c)
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	return m
}

// scrapeErr is scrapeConn that says what went wrong.
func scrapeErr(c net.Conn) (map[string]int64, error) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET /metrics HTTP/1.0\r\n\r\n"); err != nil {
		return nil, err
	}
	out := map[string]int64{}
	sc := bufio.NewScanner(c)
	body := false
	for sc.Scan() {
		line := sc.Text()
		if !body {
			body = line == ""
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		var v int64
		if _, err := fmt.Sscan(line[i+1:], &v); err != nil {
			return nil, fmt.Errorf("metrics line %q: %w", line, err)
		}
		out[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading after %d metrics: %w", len(out), err)
	}
	if len(out) == 0 {
		return nil, errors.New("empty scrape")
	}
	return out, nil
}

// TestMetricsBounds: the endpoint answers GET only and refuses a request
// header over its cap.
func TestMetricsBounds(t *testing.T) {
	echo := serveOn(t, listenLoopback(t), echoServer)
	r := startProxy(t, config("", "", addrLine(echo))+"\n[metrics]\nlisten = \"127.0.0.1:0\"\n")
	for _, tt := range []struct{ req, want string }{
		{"POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc", " 405 "},
		{"GET / HTTP/1.0\r\nX-Big: " + strings.Repeat("x", 2*metricsMaxHeader+4096) + "\r\n\r\n", " 431 "},
		{"GET / HTTP/1.0\r\n\r\n", " 200 "},
	} {
		c, err := net.Dial("tcp", r.p.MetricsAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, tt.req)
		got, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if !strings.Contains(got, tt.want) {
			t.Errorf("%.30q: got %q; want %q", tt.req, got, tt.want)
		}
	}
}
