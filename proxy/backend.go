package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/netns-daemon/netns-daemon/proxy/proxyproto"
)

// Health check thresholds, as HAProxy's defaults.
const (
	rise = 2
	fall = 3
)

type balance uint8

const (
	roundRobin balance = iota
	leastConn
	sourceHash
)

type backend struct {
	name      string
	balance   balance
	sendProxy proxyproto.Version // 0: none
	source    netip.Addr         // invalid: the kernel picks
	fromCli   bool               // source = "client": IP_TRANSPARENT, bind to the client's address
	servers   []*server
	rr        atomic.Uint32
}

type server struct {
	name     string
	addr     serverAddr
	ns       string // "", a name, or "*" for the client's
	check    bool
	interval time.Duration
	down     atomic.Bool // servers start up, as in HAProxy
	active   atomic.Int64
	stats    serverStats
}

func newBackend(b *Backend) *backend {
	be := &backend{name: b.Name}
	switch b.Balance {
	case "leastconn":
		be.balance = leastConn
	case "source":
		be.balance = sourceHash
	}
	switch b.SendProxy {
	case "v1":
		be.sendProxy = 1
	case "v2":
		be.sendProxy = 2
	}
	switch b.Source {
	case "":
	case "client":
		be.fromCli = true
	default:
		a, _ := netip.ParseAddr(b.Source) // validated
		be.source = a.Unmap()
	}
	for _, s := range b.Servers {
		addr, _ := parseServerAddr(s.Address)
		iv, _ := durationIn(s.CheckInterval, defaultCheckInterval, minCheckInterval, maxTimer) // validated
		be.servers = append(be.servers, &server{name: s.Name, addr: addr, ns: s.Namespace, check: s.Check, interval: iv})
	}
	return be
}

// start picks where the search for a server begins; connect walks the ring
// from there, skipping servers that are down or failed.
func (b *backend) start(client netip.Addr) int {
	n := len(b.servers)
	switch b.balance {
	case leastConn:
		off := int(b.rr.Add(1))
		best, bestN := -1, int64(0)
		for i := range n {
			j := (off + i) % n
			s := b.servers[j]
			if s.down.Load() {
				continue
			}
			if a := s.active.Load(); best < 0 || a < bestN {
				best, bestN = j, a
			}
		}
		return max(best, 0)
	case sourceHash:
		h := uint32(2166136261) // FNV-1a
		for _, c := range client.Unmap().As16() {
			h = (h ^ uint32(c)) * 16777619
		}
		return int(h % uint32(n))
	}
	return int((b.rr.Add(1) - 1) % uint32(n))
}

// errNoServer: every server is down or failed to connect.
var errNoServer = errors.New("no server available")

// connect dials the first server that answers, from start on. The returned
// server's active count is already raised.
func (p *Proxy) connect(b *backend, sess *session) (*server, *net.TCPConn, error) {
	var errs []error
	n := len(b.servers)
	first := b.start(sess.src.Addr())
	for i := range n {
		s := b.servers[(first+i)%n]
		if s.down.Load() {
			continue
		}
		dst, ns := s.addr.addr, s.ns
		if s.addr.fromHeader {
			if !sess.dstKnown {
				// LOCAL or UNKNOWN (e.g. a health check) on a listener that
				// is not transparent: the only destination would be our
				// own listener.
				errs = append(errs, fmt.Errorf("server %q: address \"*\" but the PROXY header carries no destination", s.name))
				continue
			}
			port := dst.Port()
			if port == 0 {
				port = sess.dst.Port()
			}
			dst = netip.AddrPortFrom(sess.dst.Addr().Unmap(), port)
		}
		if ns == "*" {
			ns = sess.ns
		}
		if s.addr.fromHeader {
			if err := p.refuseLoop(ns, dst); err != nil {
				// A hostile or mistaken header: no other server either.
				return nil, nil, fmt.Errorf("server %q: %w", s.name, err)
			}
		}
		src := b.source
		if b.fromCli {
			src = sess.src.Addr()
		}
		s.active.Add(1)
		c, err := p.ns.dialIn(context.Background(), ns, dst, src, b.fromCli, p.set.connectTimeout)
		if err == nil {
			s.stats.total.Add(1)
			return s, c, nil
		}
		s.active.Add(-1)
		s.stats.connectErrors.Add(1)
		errs = append(errs, fmt.Errorf("server %q: %w", s.name, err))
		if errors.Is(err, errThreadStuck) {
			break
		}
	}
	if len(errs) == 0 {
		return nil, nil, errNoServer
	}
	return nil, nil, fmt.Errorf("%w: %w", errNoServer, errors.Join(errs...))
}

// checkLoop runs a server's health checks until the proxy stops: a TCP
// connect from the server's namespace every interval; fall failures in a
// row take it out, rise successes bring it back.
func (p *Proxy) checkLoop(ctx context.Context, b *backend, s *server) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	good, bad := 0, 0
	for {
		err := p.checkOnce(s)
		if errors.Is(err, errThreadStuck) {
			go p.checkLoop(ctx, b, s) // this goroutine's thread is lost
			return
		}
		if err == nil {
			good, bad = good+1, 0
			if s.down.Load() && good >= rise {
				s.down.Store(false)
				p.log.Info("server up", "backend", b.name, "server", s.name)
			}
		} else {
			good, bad = 0, bad+1
			if !s.down.Load() && bad >= fall {
				s.down.Store(true)
				p.log.Warn("server down", "backend", b.name, "server", s.name, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *Proxy) checkOnce(s *server) error {
	c, err := p.ns.dialIn(context.Background(), s.ns, s.addr.addr, netip.Addr{}, false, min(p.set.connectTimeout, s.interval))
	if err != nil {
		return err
	}
	return c.Close()
}
