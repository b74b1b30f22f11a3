package proxy

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Defaults applied when a key is left out.
const (
	defaultConnectTimeout = 5 * time.Second
	defaultIdleTimeout    = time.Minute
	defaultHeaderTimeout  = 3 * time.Second
	defaultMaxConns       = 10000
	defaultGrace          = 30 * time.Second
	defaultCheckInterval  = 2 * time.Second
)

// Bounds of every timer: below them a timer spins or refuses everything
// (check_interval = "1ns" kept a worker at 100% CPU), above them it is a
// typo.
const (
	minTimeout       = 10 * time.Millisecond  // connect, header, grace
	minIdleTimeout   = 100 * time.Millisecond // client_timeout, server_timeout
	minCheckInterval = 50 * time.Millisecond
	maxTimer         = 24 * time.Hour
)

// ConfigError names the offending key and says what is wrong with it.
type ConfigError struct {
	Key    string // e.g. `frontend[0] "in": bind "10.1.0.5"`
	Reason string
}

func (e *ConfigError) Error() string { return e.Key + ": " + e.Reason }

// Is makes every ConfigError match ErrInvalidConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// validator collects every problem, as haproxy -c does, not just the first.
type validator struct{ errs []error }

func (v *validator) addf(key, format string, args ...any) {
	v.errs = append(v.errs, &ConfigError{Key: key, Reason: fmt.Sprintf(format, args...)})
}

// Validate checks everything Run relies on, before anything touches the
// system. The error joins one ConfigError per problem.
func (c *Config) Validate() error {
	var v validator
	c.settings(&v)
	switch c.Log.Format {
	case "", "text", "json":
	default:
		v.addf("log.format", "%q is not text or json", c.Log.Format)
	}
	for i, n := range c.Namespaces {
		if !ValidNamespaceName(n) {
			v.addf(fmt.Sprintf("namespaces[%d]", i), "%q is not a valid namespace name", n)
		}
	}
	backends := map[string]*Backend{}
	for i := range c.Backends {
		b := &c.Backends[i]
		key := fmt.Sprintf("backend[%d] %q", i, b.Name)
		if b.Name == "" {
			v.addf(key, "missing name")
		} else if backends[b.Name] != nil {
			v.addf(key, "duplicate backend name")
		}
		backends[b.Name] = b
		v.backend(key, b)
	}
	binds := bindSet{}
	names := map[string]bool{}
	for i := range c.Frontends {
		f := &c.Frontends[i]
		key := fmt.Sprintf("frontend[%d] %q", i, f.Name)
		if f.Name == "" {
			v.addf(key, "missing name")
		} else if names[f.Name] {
			v.addf(key, "duplicate frontend name")
		}
		names[f.Name] = true
		v.frontend(key, f, backends[f.Backend], binds)
	}
	if m := c.Metrics; m.Listen != "" {
		mkey := fmt.Sprintf("metrics.listen %q", m.Listen)
		if ap, err := parseHostPort(m.Listen); err != nil {
			v.addf(mkey, "%v", err)
		} else {
			binds.add(&v, mkey, m.Namespace, ap)
		}
	} else if m.Namespace != "" {
		v.addf("metrics.namespace", "set without metrics.listen")
	}
	if n := c.Metrics.Namespace; n != "" && !ValidNamespaceName(n) {
		v.addf("metrics.namespace", "%q is not a valid namespace name", n)
	}
	if len(c.Frontends) == 0 {
		v.addf("frontend", "no frontend configured")
	}
	return errors.Join(v.errs...)
}

func (v *validator) frontend(key string, f *Frontend, b *Backend, binds bindSet) {
	if len(f.Bind) == 0 {
		v.addf(key, "bind: no address")
	}
	for _, a := range f.Bind {
		bkey := fmt.Sprintf("%s: bind %q", key, a)
		if ap, err := parseHostPort(a); err != nil {
			v.addf(bkey, "%v", err)
		} else {
			binds.add(v, bkey, f.Namespace, ap)
		}
	}
	if f.Namespace != "" && !ValidNamespaceName(f.Namespace) {
		v.addf(key, "namespace %q is not a valid namespace name", f.Namespace)
	}
	for _, s := range f.TrustedSources {
		if _, err := parsePrefix(s); err != nil {
			v.addf(fmt.Sprintf("%s: trusted_sources %q", key, s), "not an IP or CIDR (%v)", err)
		}
	}
	if f.AcceptProxy && len(f.TrustedSources) == 0 {
		v.addf(key, "accept_proxy needs trusted_sources (use \"0.0.0.0/0\" and \"::/0\" to trust everyone)")
	}
	if !f.AcceptProxy && len(f.TrustedSources) > 0 {
		v.addf(key, "trusted_sources without accept_proxy has no effect")
	}
	switch {
	case f.Backend == "":
		v.addf(key, "missing backend")
	case b == nil:
		v.addf(key, "backend %q is not defined", f.Backend)
	case !f.AcceptProxy && !f.Transparent && b.needsHeader():
		v.addf(key, "backend %q takes server addresses from the PROXY header or the original destination (address \"*\") but accept_proxy and transparent are off", f.Backend)
	}
}

func (v *validator) backend(key string, b *Backend) {
	switch b.Balance {
	case "", "roundrobin", "leastconn", "source":
	default:
		v.addf(key, "balance %q is not roundrobin, leastconn or source", b.Balance)
	}
	switch b.SendProxy {
	case "", "v1", "v2":
	default:
		v.addf(key, "send_proxy %q is not \"\", v1 or v2", b.SendProxy)
	}
	switch b.Source {
	case "", "client":
	default:
		if a, err := netip.ParseAddr(b.Source); err != nil || a.Zone() != "" {
			v.addf(key, "source %q is not \"\", \"client\" or an IP address", b.Source)
		}
	}
	if len(b.Servers) == 0 {
		v.addf(key, "no server")
	}
	seen := map[string]bool{}
	for j := range b.Servers {
		s := &b.Servers[j]
		skey := fmt.Sprintf("%s: server[%d] %q", key, j, s.Name)
		if s.Name == "" {
			v.addf(skey, "missing name")
		} else if seen[s.Name] {
			v.addf(skey, "duplicate server name")
		}
		seen[s.Name] = true
		dst, err := parseServerAddr(s.Address)
		if err != nil {
			v.addf(fmt.Sprintf("%s: address %q", skey, s.Address), "%v", err)
		}
		if s.Namespace != "" && s.Namespace != "*" && !ValidNamespaceName(s.Namespace) {
			v.addf(skey, "namespace %q is not \"*\" or a valid namespace name", s.Namespace)
		}
		if _, err := durationIn(s.CheckInterval, defaultCheckInterval, minCheckInterval, maxTimer); err != nil {
			v.addf(fmt.Sprintf("%s: check_interval %q", skey, s.CheckInterval), "%v", err)
		}
		if s.Check && (dst.fromHeader || s.Namespace == "*") {
			v.addf(skey, "check needs a fixed address and namespace")
		}
	}
}

// bindSet finds binds the kernel would refuse: by namespace name and port,
// the normalised address of every bind so far and the key that made it.
type bindSet map[string]map[uint16][]boundAt

type boundAt struct {
	addr netip.Addr
	key  string
}

// add records a bind, reporting one that is the same socket as an earlier
// one or overlaps it (a wildcard and a specific address on one port: the
// second bind fails with EADDRINUSE). Port 0 (the kernel picks) never
// collides.
func (bs bindSet) add(v *validator, key, ns string, ap netip.AddrPort) {
	if ap.Port() == 0 {
		return
	}
	ap = normalBind(ap)
	if bs[ns] == nil {
		bs[ns] = map[uint16][]boundAt{}
	}
	for _, o := range bs[ns][ap.Port()] {
		switch {
		case o.addr == ap.Addr():
			v.addf(key, "same socket as %s", o.key)
		case o.addr.IsUnspecified() || ap.Addr().IsUnspecified():
			v.addf(key, "overlaps %s (a wildcard takes the port on every address)", o.key)
		}
	}
	bs[ns][ap.Port()] = append(bs[ns][ap.Port()], boundAt{ap.Addr(), key})
}

// serverAddr is a parsed server address; fromHeader means "*"/"*:PORT".
type serverAddr struct {
	addr       netip.AddrPort // port only, when fromHeader with a port
	fromHeader bool
}

func parseServerAddr(s string) (serverAddr, error) {
	if s == "*" {
		return serverAddr{fromHeader: true}, nil
	}
	if port, ok := strings.CutPrefix(s, "*:"); ok {
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil || p == 0 {
			return serverAddr{}, fmt.Errorf("bad port %q", port)
		}
		return serverAddr{addr: netip.AddrPortFrom(netip.Addr{}, uint16(p)), fromHeader: true}, nil
	}
	ap, err := parseHostPort(s)
	if err != nil {
		return serverAddr{}, err
	}
	if !ap.Addr().IsValid() {
		return serverAddr{}, errors.New("missing IP address")
	}
	if ap.Port() == 0 {
		return serverAddr{}, errors.New("port 0")
	}
	return serverAddr{addr: ap}, nil
}

func (b *Backend) needsHeader() bool {
	for _, s := range b.Servers {
		if a, err := parseServerAddr(s.Address); err == nil && a.fromHeader {
			return true
		}
	}
	return false
}

// settings parses Defaults, reporting problems to v.
func (c *Config) settings(v *validator) settings {
	d := &c.Defaults
	var s settings
	for _, x := range []struct {
		key     string
		val     string
		def, lo time.Duration
		dst     *time.Duration
	}{
		{"connect_timeout", d.ConnectTimeout, defaultConnectTimeout, minTimeout, &s.connectTimeout},
		{"client_timeout", d.ClientTimeout, defaultIdleTimeout, minIdleTimeout, &s.clientTimeout},
		{"server_timeout", d.ServerTimeout, defaultIdleTimeout, minIdleTimeout, &s.serverTimeout},
		{"proxy_header_timeout", d.ProxyHeaderTimeout, defaultHeaderTimeout, minTimeout, &s.headerTimeout},
		{"grace", d.Grace, defaultGrace, minTimeout, &s.grace},
	} {
		dur, err := durationIn(x.val, x.def, x.lo, maxTimer)
		if err != nil {
			v.addf(fmt.Sprintf("defaults.%s %q", x.key, x.val), "%v", err)
		}
		*x.dst = dur
	}
	s.maxConns = d.MaxConnections
	switch {
	case s.maxConns == 0:
		s.maxConns = defaultMaxConns
	case s.maxConns < 0 || s.maxConns > 1<<20:
		v.addf("defaults.max_connections", "%d is not between 1 and %d", d.MaxConnections, 1<<20)
	}
	return s
}

// AllowedNamespaces is every namespace name a PROXY header may select: the
// allow-list plus every namespace used elsewhere in the config.
func (c *Config) AllowedNamespaces() []string {
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		if n != "" && n != "*" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, n := range c.Namespaces {
		add(n)
	}
	for _, f := range c.Frontends {
		add(f.Namespace)
	}
	add(c.Metrics.Namespace)
	for _, b := range c.Backends {
		for _, s := range b.Servers {
			add(s.Namespace)
		}
	}
	return out
}
