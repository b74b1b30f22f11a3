package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/netns-daemon/netns-daemon/proxy/proxyproto"
)

type frontend struct {
	name        string
	ns          string
	acceptProxy bool
	transparent bool // accepted sockets' local address is the original destination
	trusted     []netip.Prefix
	backend     *backend
	sem         chan struct{} // max_connections; taken before Accept
	listeners   []*net.TCPListener
	stats       frontendStats
}

// session is one client connection, from accept to the log line.
type session struct {
	start    time.Time
	fe       *frontend
	client   *net.TCPConn
	server   *net.TCPConn // set under Proxy.mu
	peer     netip.AddrPort
	src, dst netip.AddrPort // the client's view, from the header if any
	ns       string         // the connection's namespace
	dstKnown bool           // dst is where the client was going: a PROXY header's, or tproxy's
	hdr      proxyproto.Header
	pending  []byte // read past the header; goes to the server first
	srv      *server
	connect  time.Duration
	relay    relay
}

// headerReaders are reused for PROXY header reads only: the buffer lives as
// long as the header read, not the connection.
var headerReaders = sync.Pool{New: func() any {
	return bufio.NewReaderSize(nil, 256)
}}

// acceptLoop takes a max_connections slot before each Accept, so a full
// frontend stops accepting and the kernel backlog pushes back.
func (p *Proxy) acceptLoop(ctx context.Context, fe *frontend, ln *net.TCPListener) {
	backoff := 5 * time.Millisecond
	for {
		select {
		case fe.sem <- struct{}{}:
		default:
			fe.stats.refused[refusedMaxConns].Add(1)
			select {
			case fe.sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
		c, err := ln.AcceptTCP()
		if err != nil {
			<-fe.sem
			if errors.Is(err, net.ErrClosed) {
				return
			}
			p.log.Warn("accepting", "frontend", fe.name, "err", err)
			time.Sleep(backoff) // EMFILE and friends: do not spin
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		p.conns.Add(1)
		go p.serve(fe, c)
	}
}

// serve sets a connection up (header, server, first bytes) and hands it to
// two fresh copy goroutines. It then ends, so the deep stack the set-up
// grew is freed while the connection lives: idle connections stay small.
func (p *Proxy) serve(fe *frontend, c *net.TCPConn) {
	s := &session{start: time.Now(), fe: fe, client: c, ns: fe.ns}
	fe.stats.current.Add(1)
	fe.stats.total.Add(1)
	p.track(s, true)
	s.peer = addrPort(c.RemoteAddr())
	s.src, s.dst = s.peer, addrPort(c.LocalAddr())
	s.dstKnown = fe.transparent
	if fe.acceptProxy {
		if kind, reason := p.readHeader(s); reason != "" {
			fe.stats.refused[kind].Add(1)
			c.Close()
			p.finish(s, "refused: "+reason, slog.LevelWarn)
			return
		}
	}
	srv, sc, err := p.connect(fe.backend, s)
	s.connect = time.Since(s.start)
	if err != nil {
		term := err.Error()
		if errors.Is(err, errLoop) {
			fe.stats.refused[refusedLoop].Add(1)
			term = "refused: " + term
		}
		c.Close()
		p.finish(s, term, slog.LevelWarn)
		return
	}
	s.srv = srv
	p.mu.Lock()
	s.server = sc
	p.mu.Unlock()
	if err := p.sendFirst(s, sc); err != nil {
		c.Close()
		sc.Close()
		p.finish(s, err.Error(), slog.LevelWarn)
		return
	}
	s.relay.start(c, sc, p.set.clientTimeout, p.set.serverTimeout, func(term string) {
		p.finish(s, term, slog.LevelInfo)
	})
}

// finish logs the connection and gives back what it held.
func (p *Proxy) finish(s *session, term string, level slog.Level) {
	if s.srv != nil {
		s.srv.active.Add(-1)
	}
	s.count()
	s.fe.stats.current.Add(-1)
	p.logSession(s, term, level)
	p.track(s, false)
	<-s.fe.sem
	p.conns.Done()
}

// readHeader reads the PROXY header under proxy_header_timeout, from
// trusted peers only, and applies it; it returns why it refused, or "".
func (p *Proxy) readHeader(s *session) (refusal, string) {
	if !trusted(s.fe.trusted, s.peer.Addr()) {
		return refusedUntrusted, "untrusted source for a PROXY header"
	}
	_ = s.client.SetReadDeadline(time.Now().Add(p.set.headerTimeout))
	br := headerReaders.Get().(*bufio.Reader)
	br.Reset(s.client)
	h, err := proxyproto.Read(br)
	if n := br.Buffered(); n > 0 && err == nil {
		s.pending, _ = br.Peek(n)
		s.pending = append([]byte(nil), s.pending...)
	}
	br.Reset(nil)
	headerReaders.Put(br)
	if err != nil {
		kind := refusedBadHeader
		if errors.Is(err, os.ErrDeadlineExceeded) {
			kind = refusedHeaderTimeout
		}
		return kind, fmt.Sprintf("reading PROXY header: %v", err)
	}
	_ = s.client.SetReadDeadline(time.Time{})
	s.hdr = h
	if h.Command == proxyproto.Proxy && h.Family != proxyproto.Unspec {
		s.src, s.dst = h.Src, h.Dst
		s.dstKnown = true
	}
	if name, ok := h.NetNS(); ok {
		// Only names known at start have an fd; anything else is refused,
		// never looked up on disk.
		if !p.allowed[name] {
			return refusedUnknownNS, fmt.Sprintf("namespace %q from PROXY header is not allowed", name)
		}
		s.ns = name
	}
	return 0, ""
}

func trusted(nets []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, n := range nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

func addrPort(a net.Addr) netip.AddrPort {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.AddrPort{}
	}
	ap := ta.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// sendFirst writes the PROXY header, if the backend sends one, and the
// bytes read past the incoming header, in one write.
func (p *Proxy) sendFirst(s *session, sc *net.TCPConn) error {
	v := s.fe.backend.sendProxy
	if v == 0 && len(s.pending) == 0 {
		return nil
	}
	var buf []byte
	if v != 0 {
		var err error
		if buf, err = s.outHeader().Append(make([]byte, 0, 256), v); err != nil {
			return fmt.Errorf("formatting PROXY header: %w", err)
		}
	}
	buf = append(buf, s.pending...)
	if _, err := sc.Write(buf); err != nil {
		return fmt.Errorf("writing PROXY header to server: %w", err)
	}
	return nil
}

// outHeader describes the client to the server: its addresses, the TLVs it
// came with (less NETNS and CRC32C, which we rewrite or would invalidate),
// and its namespace in a NETNS TLV when it has one.
func (s *session) outHeader() *proxyproto.Header {
	h := &proxyproto.Header{Command: proxyproto.Proxy, Family: proxyproto.TCP4, Src: s.src, Dst: s.dst}
	if !s.src.Addr().Is4() || !s.dst.Addr().Is4() {
		h.Family = proxyproto.TCP6
		h.Src = netip.AddrPortFrom(netip.AddrFrom16(s.src.Addr().As16()), s.src.Port())
		h.Dst = netip.AddrPortFrom(netip.AddrFrom16(s.dst.Addr().As16()), s.dst.Port())
	}
	for _, t := range s.hdr.TLVs {
		if t.Type != proxyproto.TypeNetNS && t.Type != proxyproto.TypeCRC32C {
			h.TLVs = append(h.TLVs, t)
		}
	}
	if s.ns != "" {
		h.TLVs = append(h.TLVs, proxyproto.TLV{Type: proxyproto.TypeNetNS, Value: []byte(s.ns)})
	}
	return h
}

// logSession writes the one line per connection, tcplog-like.
func (p *Proxy) logSession(s *session, term string, level slog.Level) {
	server := "-"
	if s.srv != nil {
		server = s.srv.name
	}
	p.log.LogAttrs(context.Background(), level, "connection",
		slog.String("client", s.src.String()),
		slog.String("client_ns", s.ns),
		slog.String("peer", s.peer.String()),
		slog.String("frontend", s.fe.name),
		slog.String("backend", s.fe.backend.name),
		slog.String("server", server),
		slog.Int64("bytes_in", s.relay.c2s.n+int64(len(s.pending))),
		slog.Int64("bytes_out", s.relay.s2c.n),
		slog.Duration("connect", s.connect),
		slog.Duration("total", time.Since(s.start)),
		slog.String("term", term),
	)
}
