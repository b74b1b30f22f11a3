package proxy

import (
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
)

const minimal = `
[[frontend]]
name = "in"
bind = ["127.0.0.1:8080"]
backend = "app"
[[backend]]
name = "app"
[[backend.server]]
name = "s1"
address = "127.0.0.1:9090"
`

func TestLoadFull(t *testing.T) {
	c, err := Load(strings.NewReader(`
namespaces = ["blue", "red"]
[defaults]
connect_timeout = "5s"
client_timeout = "1m"
server_timeout = "1m"
proxy_header_timeout = "3s"
max_connections = 10000
grace = "30s"
[log]
format = "json"
[[frontend]]
name = "in"
bind = ["10.1.0.5:80", "[fd00::5]:80"]
namespace = "blue"
accept_proxy = true
trusted_sources = ["10.0.0.0/8", "fd00::1"]
backend = "app"
[[backend]]
name = "app"
balance = "leastconn"
send_proxy = "v2"
source = "10.2.0.1"
[[backend.server]]
name = "s1"
address = "10.2.0.7:8080"
namespace = "red"
check = true
check_interval = "2s"
[[backend.server]]
name = "s2"
address = "*:8080"
namespace = "*"
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Backends[0].Servers[1].Namespace; got != "*" {
		t.Errorf("server namespace %q; want %q", got, "*")
	}
	if got, want := strings.Join(c.AllowedNamespaces(), ","), "blue,red"; got != want {
		t.Errorf("allowed namespaces %q; want %q", got, want)
	}
}

func TestValidateErrors(t *testing.T) {
	tests := []struct {
		name, edit, want string
	}{
		{"unknown key", `bogus = 1`, `unknown key bogus`},
		{"unknown nested key", "[defaults]\nconect_timeout = \"1s\"", `unknown key defaults.conect_timeout`},
		{"bind without port", `frontend.0.bind = ["10.1.0.5"]`, `frontend[0] "in": bind "10.1.0.5": missing port`},
		{"bind host name", `frontend.0.bind = ["localhost:80"]`, `frontend[0] "in": bind "localhost:80": bad IP address "localhost"`},
		{"bind v6 no brackets", `frontend.0.bind = ["fd00::5:80"]`, `IPv6 address must be in brackets`},
		{"bad duration", "[defaults]\nconnect_timeout = \"5\"", `defaults.connect_timeout "5": time: missing unit in duration "5"`},
		{"negative duration", "[defaults]\ngrace = \"-1s\"", `defaults.grace "-1s": must be between 10ms and 24h0m0s`},
		{"check interval spins", `backend.0.server.0.check_interval = "1ns"`, `check_interval "1ns": must be between 50ms and 24h0m0s`},
		{"connect timeout tiny", "[defaults]\nconnect_timeout = \"1ns\"", `defaults.connect_timeout "1ns": must be between`},
		{"client timeout tiny", "[defaults]\nclient_timeout = \"1ms\"", `defaults.client_timeout "1ms": must be between 100ms`},
		{"server timeout huge", "[defaults]\nserver_timeout = \"48h\"", `defaults.server_timeout "48h": must be between`},
		{"header timeout zero", "[defaults]\nproxy_header_timeout = \"0s\"", `defaults.proxy_header_timeout "0s": must be between`},
		{"same bind twice", `frontend.0.bind = ["127.0.0.1:80", "127.0.0.1:80"]`, `frontend[0] "in": bind "127.0.0.1:80": same socket as frontend[0] "in": bind "127.0.0.1:80"`},
		{"leading zero port", `frontend.0.bind = ["127.0.0.1:80", "127.0.0.1:080"]`, `bind "127.0.0.1:080": same socket as frontend[0] "in": bind "127.0.0.1:80"`},
		{"mapped bind", `frontend.0.bind = ["127.0.0.1:80", "[::ffff:127.0.0.1]:80"]`, `bind "[::ffff:127.0.0.1]:80": same socket as`},
		{"wildcards are one", `frontend.0.bind = ["0.0.0.0:80", "[::]:80"]`, `bind "[::]:80": same socket as frontend[0] "in": bind "0.0.0.0:80"`},
		{"wildcard overlaps", `frontend.0.bind = [":80", "[fd00::1]:80"]`, `bind "[fd00::1]:80": overlaps frontend[0] "in": bind ":80"`},
		{"across frontends", "[[frontend]]\nname = \"two\"\nbind = [\"127.0.0.1:8080\"]\nbackend = \"app\"", `frontend[1] "two": bind "127.0.0.1:8080": same socket as frontend[0] "in": bind "127.0.0.1:8080"`},
		{"transparent too", "[[frontend]]\nname = \"two\"\nbind = [\"0.0.0.0:8080\"]\ntransparent = true\nbackend = \"app\"", `frontend[1] "two": bind "0.0.0.0:8080": overlaps frontend[0] "in"`},
		{"metrics on a frontend's port", "[metrics]\nlisten = \"[::]:8080\"", `metrics.listen "[::]:8080": overlaps frontend[0] "in": bind "127.0.0.1:8080"`},
		{"mapped trusted too wide", "frontend.0.accept_proxy = true\nfrontend.0.trusted_sources = [\"::ffff:0:0/64\"]", `trusted_sources "::ffff:0:0/64": not an IP or CIDR (IPv4-mapped prefix shorter than /96`},
		{"max connections", "[defaults]\nmax_connections = -1", `defaults.max_connections: -1 is not between`},
		{"log format", "[log]\nformat = \"xml\"", `log.format: "xml" is not text or json`},
		{"namespace name", `namespaces = ["../etc"]`, `namespaces[0]: "../etc" is not a valid namespace name`},
		{"frontend namespace star", `frontend.0.namespace = "*"`, `frontend[0] "in": namespace "*" is not a valid namespace name`},
		{"unknown backend", `frontend.0.backend = "nope"`, `frontend[0] "in": backend "nope" is not defined`},
		{"accept proxy untrusted", `frontend.0.accept_proxy = true`, `frontend[0] "in": accept_proxy needs trusted_sources`},
		{"trusted without accept", `frontend.0.trusted_sources = ["10.0.0.0/8"]`, `trusted_sources without accept_proxy`},
		{"bad trusted", "frontend.0.accept_proxy = true\nfrontend.0.trusted_sources = [\"10.0.0.0/33\"]", `trusted_sources "10.0.0.0/33": not an IP or CIDR`},
		{"star address needs header", `backend.0.server.0.address = "*:80"`, `takes server addresses from the PROXY header`},
		{"balance", `backend.0.balance = "random"`, `backend[0] "app": balance "random" is not roundrobin, leastconn or source`},
		{"send proxy", `backend.0.send_proxy = "v3"`, `send_proxy "v3"`},
		{"metrics listen", "[metrics]\nlisten = \"9101\"", `metrics.listen "9101": missing port`},
		{"metrics namespace alone", "[metrics]\nnamespace = \"blue\"", `metrics.namespace: set without metrics.listen`},
		{"source bad", `backend.0.source = "host"`, `source "host" is not`},
		{"server no port", `backend.0.server.0.address = "10.0.0.1"`, `backend[0] "app": server[0] "s1": address "10.0.0.1": missing port`},
		{"server port 0", `backend.0.server.0.address = "10.0.0.1:0"`, `port 0`},
		{"server namespace", `backend.0.server.0.namespace = "a/b"`, `namespace "a/b" is not "*" or a valid namespace name`},
		{"check interval", `backend.0.server.0.check_interval = "soon"`, `check_interval "soon": time: invalid duration`},
		{"check star", "backend.0.server.0.namespace = \"*\"\nbackend.0.server.0.check = true", `check needs a fixed address and namespace`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(strings.NewReader(applyEdit(tt.edit)))
			if err == nil {
				t.Fatalf("got no error; want %q", tt.want)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error %v does not wrap ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q; want it to contain %q", err, tt.want)
			}
		})
	}
}

// applyEdit turns "frontend.0.KEY = V" lines into a config derived from
// minimal; other lines are prepended (top-level keys) or appended.
func applyEdit(edit string) string {
	var top, front, back, server, tail []string
	for _, l := range strings.Split(edit, "\n") {
		switch {
		case strings.HasPrefix(l, "frontend.0."):
			front = append(front, strings.TrimPrefix(l, "frontend.0."))
		case strings.HasPrefix(l, "backend.0.server.0."):
			server = append(server, strings.TrimPrefix(l, "backend.0.server.0."))
		case strings.HasPrefix(l, "backend.0."):
			back = append(back, strings.TrimPrefix(l, "backend.0."))
		case strings.HasPrefix(l, "["):
			tail = append(tail, l)
		case len(tail) > 0:
			tail = append(tail, l)
		default:
			top = append(top, l)
		}
	}
	return strings.Join(top, "\n") + `
[[frontend]]
name = "in"
` + firstOr(front, "bind", `bind = ["127.0.0.1:8080"]`) + `
` + firstOr(front, "backend", `backend = "app"`) + `
` + strings.Join(front, "\n") + `
[[backend]]
name = "app"
` + strings.Join(back, "\n") + `
[[backend.server]]
name = "s1"
` + firstOr(server, "address", `address = "127.0.0.1:9090"`) + `
` + strings.Join(server, "\n") + "\n" + strings.Join(tail, "\n") + "\n"
}

// firstOr returns def unless lines set key (then the edit provides it).
func firstOr(lines []string, key, def string) string {
	for _, l := range lines {
		if strings.HasPrefix(l, key+" ") {
			return ""
		}
	}
	return def
}

// TestNotCollisions: what the kernel allows is allowed.
func TestNotCollisions(t *testing.T) {
	for _, edit := range []string{
		`frontend.0.bind = ["127.0.0.1:0", "127.0.0.1:0"]`, // the kernel picks two ports
		`frontend.0.bind = ["127.0.0.1:80", "127.0.0.2:80", "[::1]:80"]`,
		`frontend.0.bind = ["127.0.0.1:80", "127.0.0.1:81"]`,
		"[[frontend]]\nname = \"two\"\nnamespace = \"blue\"\nbind = [\"127.0.0.1:8080\"]\nbackend = \"app\"", // another namespace
	} {
		if _, err := Load(strings.NewReader(applyEdit(edit))); err != nil {
			t.Errorf("%s: %v", edit, err)
		}
	}
}

// TestMappedTrustedSource: an IPv4-mapped trusted source matches the IPv4
// peers it names, rather than nothing.
func TestMappedTrustedSource(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"::ffff:10.0.0.0/104", "10.0.0.0/8"},
		{"::ffff:192.0.2.7", "192.0.2.7/32"},
		{"10.1.2.3/8", "10.0.0.0/8"},
		{"fd00::1/64", "fd00::/64"},
	} {
		p, err := parsePrefix(tt.in)
		if err != nil || p.String() != tt.want {
			t.Errorf("parsePrefix(%q) = %v, %v; want %s", tt.in, p, err, tt.want)
		}
	}
	if !trusted([]netip.Prefix{mustPrefix(t, "::ffff:10.0.0.0/104")}, netip.MustParseAddr("10.9.8.7")) {
		t.Error("peer 10.9.8.7 not trusted by ::ffff:10.0.0.0/104")
	}
}

func mustPrefix(t *testing.T, s string) netip.Prefix {
	t.Helper()
	p, err := parsePrefix(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConfigTooLarge: a config over 1 MiB is refused, not read whole.
func TestConfigTooLarge(t *testing.T) {
	big := minimal + "# " + strings.Repeat("x", MaxConfigSize) + "\n"
	_, err := Load(strings.NewReader(big))
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "larger than 1048576 bytes") {
		t.Errorf("got %v; want a size error", err)
	}
	if _, err := Load(strings.NewReader(minimal + "# " + strings.Repeat("x", MaxConfigSize-len(minimal)-3) + "\n")); err != nil {
		t.Errorf("a config of exactly 1 MiB: %v", err)
	}
}

func TestValidateReportsAll(t *testing.T) {
	_, err := Load(strings.NewReader(applyEdit("frontend.0.bind = [\"x\"]\nbackend.0.balance = \"x\"")))
	if n := strings.Count(err.Error(), "\n") + 1; n != 2 {
		t.Errorf("got %d problems in %q; want 2", n, err)
	}
}

func TestMinimalDefaults(t *testing.T) {
	c, err := Load(strings.NewReader(minimal))
	if err != nil {
		t.Fatal(err)
	}
	s := c.settings(&validator{})
	if s.connectTimeout != defaultConnectTimeout || s.maxConns != defaultMaxConns || s.grace != defaultGrace {
		t.Errorf("defaults not applied: %+v", s)
	}
}

// TestExamples keeps every example config valid.
func TestExamples(t *testing.T) {
	files, _ := filepath.Glob("../examples/proxy/*.toml")
	if len(files) == 0 {
		t.Fatal("no example configs found")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := LoadFile(f); err != nil {
				t.Error(err)
			}
		})
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "missing.toml")); err == nil || errors.Is(err, ErrInvalidConfig) {
		t.Errorf("missing file: got %v; want a plain open error", err)
	}
}
