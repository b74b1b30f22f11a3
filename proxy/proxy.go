package proxy

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Proxy is a running configuration: namespaces opened, listeners bound.
type Proxy struct {
	set       settings
	log       *slog.Logger
	ns        *nsTable
	allowed   map[string]bool // namespaces a PROXY header may select
	frontends []*frontend
	backends  []*backend
	metrics   *net.TCPListener  // nil: no [metrics]
	own       []ownListener     // every listening socket, for refuseLoop
	ids       map[string]string // namespace name ("" = own) -> identity
	opts      Options

	ev *evGroup // the event loops, if any frontend is theirs

	mu       sync.Mutex
	sessions map[*session]struct{}
	conns    sync.WaitGroup
}

// NewLogger returns the slog logger for a log.format value.
func NewLogger(w io.Writer, format string) *slog.Logger {
	return slog.New(newLineHandler(w, format == "json"))
}

// Options carry what a master hands its worker; the zero value is a proxy
// that binds everything itself.
type Options struct {
	// Listeners are sockets bound by the master, by listener key; New takes
	// them over and binds only what is missing.
	Listeners map[string]*net.TCPListener
	// Generation counts the master's reloads, for the metrics.
	Generation uint64
	// Ready is called once every accept loop runs.
	Ready func()
}

// New opens every namespace the config names and binds every listener. It
// fails, closing what it opened, if a namespace is missing or a bind fails.
func New(cfg *Config, log *slog.Logger) (*Proxy, error) {
	return NewWithOptions(cfg, log, Options{})
}

// NewWithOptions is New with listeners (and more) from a master.
func NewWithOptions(cfg *Config, log *slog.Logger, opts Options) (*Proxy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Proxy{set: cfg.settings(&validator{}), log: log, allowed: map[string]bool{}, sessions: map[*session]struct{}{}, opts: opts}
	names := cfg.AllowedNamespaces()
	for _, n := range names {
		p.allowed[n] = true
	}
	if err := initRelay(); err != nil {
		return nil, err
	}
	ns, err := openNamespaces(names)
	if err != nil {
		return nil, err
	}
	p.ns = ns
	p.ids = map[string]string{}
	for _, n := range append(names, "") {
		if p.ids[n], err = ns.id(n); err != nil {
			p.Close()
			return nil, err
		}
	}
	specs, err := cfg.listenSpecs(ns)
	if err != nil {
		p.Close()
		return nil, err
	}
	raiseFileLimit(len(cfg.Frontends) * p.set.maxConns)
	byName := map[string]*backend{}
	for i := range cfg.Backends {
		b := newBackend(&cfg.Backends[i])
		p.backends = append(p.backends, b)
		byName[b.name] = b
	}
	byFE := map[string]*frontend{}
	for _, f := range cfg.Frontends {
		fe := &frontend{name: f.Name, ns: f.Namespace, acceptProxy: f.AcceptProxy, transparent: f.Transparent,
			backend: byName[f.Backend], sem: make(chan struct{}, p.set.maxConns)}
		for _, t := range f.TrustedSources {
			pfx, _ := parsePrefix(t) // validated
			fe.trusted = append(fe.trusted, pfx)
		}
		p.frontends = append(p.frontends, fe)
		byFE[fmt.Sprintf("frontend %q", f.Name)] = fe
	}
	for _, sp := range specs {
		ln := opts.Listeners[sp.key]
		delete(opts.Listeners, sp.key)
		if ln == nil {
			var err error
			if ln, err = sp.listen(p.ns); err != nil {
				p.Close()
				return nil, err
			}
		}
		// The bound address: port 0 in the config is the kernel's pick.
		p.own = append(p.own, ownListener{id: p.ids[sp.ns], addr: normalBind(addrPort(ln.Addr()))})
		if fe := byFE[sp.owner]; fe != nil {
			fe.listeners = append(fe.listeners, ln)
		} else {
			p.metrics = ln
		}
	}
	for _, ln := range opts.Listeners { // not in this config: not ours to serve
		ln.Close()
	}
	return p, nil
}

// MetricsAddr is the address of the metrics listener, or nil.
func (p *Proxy) MetricsAddr() net.Addr {
	if p.metrics == nil {
		return nil
	}
	return p.metrics.Addr()
}

// Addrs returns the bound addresses of a frontend's listeners.
func (p *Proxy) Addrs(frontend string) []net.Addr {
	var out []net.Addr
	for _, fe := range p.frontends {
		if fe.name == frontend {
			for _, ln := range fe.listeners {
				out = append(out, ln.Addr())
			}
		}
	}
	return out
}

// Close closes the listeners and namespace fds; use it only for a Proxy
// that will not Serve.
func (p *Proxy) Close() {
	p.closeListeners()
	p.ns.close()
}

func (p *Proxy) closeListeners() {
	if p.metrics != nil {
		p.metrics.Close()
	}
	for _, fe := range p.frontends {
		for _, ln := range fe.listeners {
			ln.Close()
		}
	}
}

// Serve accepts and relays until ctx is done, then stops accepting, lets
// connections drain for up to grace, closes the rest and returns nil.
func (p *Proxy) Serve(ctx context.Context) error {
	defer p.ns.close()
	run, stop := context.WithCancel(context.Background())
	defer stop()
	for _, b := range p.backends {
		for _, s := range b.servers {
			if s.check {
				go p.checkLoop(run, b, s)
			}
		}
	}
	go giveBackMemory(run)
	var evFE []*frontend
	for _, fe := range p.frontends {
		if evOK(fe) {
			evFE = append(evFE, fe)
		}
	}
	if len(evFE) > 0 {
		g, err := p.newEvGroup(evFE)
		if err != nil {
			p.closeListeners()
			return err
		}
		p.mu.Lock() // for readers on other goroutines (tests)
		p.ev = g
		p.mu.Unlock()
		g.start()
		defer g.stop() // after the drain: no connection is left
	}
	var loops sync.WaitGroup
	for _, fe := range p.frontends {
		if evOK(fe) {
			continue
		}
		for _, ln := range fe.listeners {
			loops.Go(func() { p.acceptLoop(ctx, fe, ln) })
		}
	}
	var ms *metricsServer
	if p.metrics != nil {
		ms = p.newMetricsServer(p.metrics)
		go p.serveMetrics(ms)
	}
	p.log.Info("started", "frontends", len(p.frontends), "backends", len(p.backends), "generation", p.opts.Generation)
	if p.opts.Ready != nil {
		p.opts.Ready()
	}
	<-ctx.Done()
	scrapes := make(chan struct{})
	go func() { // in step with the connections' drain, not after it
		if ms != nil {
			ms.drain(p.set.grace)
		}
		close(scrapes)
	}()
	p.closeListeners()
	if p.ev != nil {
		p.ev.stopAccepting()
	}
	loops.Wait()
	drained := make(chan struct{})
	go func() { p.conns.Wait(); <-scrapes; close(drained) }()
	p.log.Info("stopping", "connections", p.active(), "grace", p.set.grace)
	select {
	case <-drained:
	case <-time.After(p.set.grace):
		n := p.closeAll()
		p.log.Warn("grace over, closed connections", "connections", n)
		<-drained
	}
	p.log.Info("stopped")
	return nil
}

// Run is New then Serve.
func Run(ctx context.Context, cfg *Config, log *slog.Logger) error {
	p, err := New(cfg, log)
	if err != nil {
		return err
	}
	return p.Serve(ctx)
}

func (p *Proxy) track(s *session, add bool) {
	p.mu.Lock()
	if add {
		p.sessions[s] = struct{}{}
	} else {
		delete(p.sessions, s)
	}
	p.mu.Unlock()
}

func (p *Proxy) active() int {
	n := 0
	if p.ev != nil {
		n = int(p.ev.active.Load())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return n + len(p.sessions)
}

// closeAll ends every connection, marking it "shutdown" unless it already
// has a reason.
func (p *Proxy) closeAll() int {
	n := 0
	if p.ev != nil {
		n = p.ev.closeConns()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for s := range p.sessions {
		s.relay.mu.Lock()
		if s.relay.term == "" {
			s.relay.term = "shutdown"
		}
		s.relay.mu.Unlock()
		s.client.Close()
		if s.server != nil {
			s.server.Close()
			s.relay.wakeParked()
		}
	}
	return n + len(p.sessions)
}
