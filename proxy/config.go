package proxy

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// ErrInvalidConfig is wrapped by every error Load and Validate return for a
// config that cannot run; the command maps it to exit status 2.
var ErrInvalidConfig = errors.New("invalid config")

// Config is the TOML file. Keys are exactly those of issue 4; unknown keys
// are an error so a typo never silently changes behaviour.
type Config struct {
	Namespaces []string   `toml:"namespaces"`
	Defaults   Defaults   `toml:"defaults"`
	Log        LogConfig  `toml:"log"`
	Metrics    Metrics    `toml:"metrics"`
	Frontends  []Frontend `toml:"frontend"`
	Backends   []Backend  `toml:"backend"`
}

// Defaults holds process-wide timeouts and limits. Durations are Go duration
// strings ("5s", "1m"); empty means the default.
type Defaults struct {
	ConnectTimeout     string `toml:"connect_timeout"`
	ClientTimeout      string `toml:"client_timeout"`
	ServerTimeout      string `toml:"server_timeout"`
	ProxyHeaderTimeout string `toml:"proxy_header_timeout"`
	// MaxConnections limits each frontend, as HAProxy's maxconn in defaults.
	MaxConnections int    `toml:"max_connections"`
	Grace          string `toml:"grace"`
}

// LogConfig selects the slog handler.
type LogConfig struct {
	Format string `toml:"format"` // text | json
}

// Metrics is the optional Prometheus endpoint; Listen "" turns it off.
type Metrics struct {
	Listen    string `toml:"listen"`    // e.g. "127.0.0.1:9101"
	Namespace string `toml:"namespace"` // "" = the proxy's own
}

// Frontend is a set of listeners sharing a namespace and a backend.
type Frontend struct {
	Name        string   `toml:"name"`
	Bind        []string `toml:"bind"`
	Namespace   string   `toml:"namespace"`
	AcceptProxy bool     `toml:"accept_proxy"`
	// Transparent listens with IP_TRANSPARENT, for connections to other
	// addresses that an nft tproxy rule delivers; server address "*" is
	// then the connection's original destination.
	Transparent    bool     `toml:"transparent"`
	TrustedSources []string `toml:"trusted_sources"`
	Backend        string   `toml:"backend"`
}

// Backend is a group of servers and how to pick one.
type Backend struct {
	Name      string   `toml:"name"`
	Balance   string   `toml:"balance"`    // roundrobin | leastconn | source
	SendProxy string   `toml:"send_proxy"` // "" | v1 | v2
	Source    string   `toml:"source"`     // "" | client | an IP
	Servers   []Server `toml:"server"`
}

// Server is one destination. Address "*" or "*:PORT" takes the destination
// from the PROXY header; Namespace "*" is the client connection's namespace.
type Server struct {
	Name          string `toml:"name"`
	Address       string `toml:"address"`
	Namespace     string `toml:"namespace"`
	Check         bool   `toml:"check"`
	CheckInterval string `toml:"check_interval"`
}

// settings are the parsed, defaulted values Validate derives from Defaults.
type settings struct {
	connectTimeout, clientTimeout, serverTimeout time.Duration
	headerTimeout, grace                         time.Duration
	maxConns                                     int
}

// MaxConfigSize caps a config file: a real one is a few KiB, and the
// master reads it whole on every reload.
const MaxConfigSize = 1 << 20

// Load reads a config of at most MaxConfigSize bytes from r and validates it.
func Load(r io.Reader) (*Config, error) {
	text, err := io.ReadAll(io.LimitReader(r, MaxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	if len(text) > MaxConfigSize {
		return nil, fmt.Errorf("%w: larger than %d bytes (1 MiB)", ErrInvalidConfig, MaxConfigSize)
	}
	var c Config
	md, err := toml.Decode(string(text), &c)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("%w: unknown key %s", ErrInvalidConfig, strings.Join(keys, ", "))
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// LoadFile is Load on a file.
func LoadFile(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening config: %w", err)
	}
	defer f.Close()
	c, err := Load(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ValidNamespaceName reports whether name may name a file in /run/netns:
// 1 to 64 of [A-Za-z0-9._-], and not "." or "..".
func ValidNamespaceName(name string) bool {
	if len(name) == 0 || len(name) > 64 || name == "." || name == ".." {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// durationIn parses a duration, def if s is empty, and checks that it is
// within [lo, hi]: a timer of a nanosecond spins, one of years is a typo.
func durationIn(s string, def, lo, hi time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d < lo || d > hi {
		return 0, fmt.Errorf("must be between %v and %v", lo, hi)
	}
	return d, nil
}

// parseHostPort splits an address with a literal IP (or empty host) and a
// numeric port; names are refused so nothing ever resolves.
func parseHostPort(s string) (netip.AddrPort, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return netip.AddrPort{}, errors.New("missing port")
	}
	host, port := s[:i], s[i+1:]
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	} else if strings.Contains(host, ":") {
		return netip.AddrPort{}, errors.New("IPv6 address must be in brackets")
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad port %q", port)
	}
	if host == "" {
		return netip.AddrPortFrom(netip.Addr{}, uint16(p)), nil
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" {
		return netip.AddrPort{}, fmt.Errorf("bad IP address %q", host)
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(p)), nil
}

// normalBind is the socket a bind address makes. IPv4-mapped addresses
// are IPv4 (parseHostPort unmaps them), and every wildcard ("", 0.0.0.0,
// ::) is [::]: Go listens on each with the same dual-stack socket.
func normalBind(ap netip.AddrPort) netip.AddrPort {
	if a := ap.Addr(); !a.IsValid() || a.IsUnspecified() {
		return netip.AddrPortFrom(netip.IPv6Unspecified(), ap.Port())
	}
	return ap
}

// parsePrefix accepts a CIDR or a bare IP (a /32 or /128). An IPv4-mapped
// IPv6 prefix becomes the IPv4 one: peers are matched unmapped, so as
// written it would never match. One shorter than /96 would mix IPv4 and
// IPv6 and is refused.
func parsePrefix(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, err
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Zone() != "" {
		return netip.Prefix{}, errors.New("zone not allowed")
	}
	if p.Addr().Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, errors.New("IPv4-mapped prefix shorter than /96 mixes IPv4 and IPv6")
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}
