package proxy

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// The metrics endpoint is bounded so that no amount of metrics traffic
// takes descriptors or memory from the frontends: a scrape is one small
// GET, so a few connections, a short read and a small header do.
const (
	metricsMaxConns     = 16
	metricsReadTimeout  = 5 * time.Second // the whole request
	metricsWriteTimeout = 10 * time.Second
	metricsIdleTimeout  = 30 * time.Second // between keep-alive requests
	metricsMaxHeader    = 4 << 10
)

// metricsServer answers scrapes on a listener it shares with the master
// and the next worker.
type metricsServer struct {
	srv    *http.Server
	ln     *cappedListener
	served chan struct{} // closed when Serve has returned: no more accepts
}

func (p *Proxy) newMetricsServer(ln net.Listener) *metricsServer {
	ms := &metricsServer{
		ln:     &cappedListener{Listener: ln, slots: make(chan struct{}, metricsMaxConns)},
		served: make(chan struct{}),
	}
	ms.srv = &http.Server{
		ReadHeaderTimeout: metricsReadTimeout,
		ReadTimeout:       metricsReadTimeout,
		WriteTimeout:      metricsWriteTimeout,
		IdleTimeout:       metricsIdleTimeout,
		MaxHeaderBytes:    metricsMaxHeader,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET, HEAD")
				http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
				return
			}
			w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
			bw := bufio.NewWriter(w)
			p.writeMetrics(bw)
			bw.Flush()
		}),
	}
	return ms
}

// serveMetrics answers scrapes until drain.
func (p *Proxy) serveMetrics(ms *metricsServer) {
	defer close(ms.served)
	if err := ms.srv.Serve(ms.ln); err != nil && !errors.Is(err, net.ErrClosed) && err != http.ErrServerClosed {
		p.log.Warn("serving metrics", "err", err)
	}
}

// drain stops accepting (queued connections go to the next worker),
// turns keep-alive off so every connection closes after its response,
// answers the requests already on their way and waits for them, for up to
// max; then it closes what is left. http.Server.Shutdown would not do:
// it answers nothing to a request whose headers finish arriving after it
// began.
func (ms *metricsServer) drain(max time.Duration) {
	ms.srv.SetKeepAlivesEnabled(false) // also closes idle keep-alive connections
	ms.ln.Close()
	<-ms.served
	done := make(chan struct{})
	go func() { ms.ln.open.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(max):
	}
	ms.srv.Close()
}

// cappedListener holds at most cap(slots) connections; one over the cap is
// closed at once rather than left waiting, so it costs nothing while the
// peer holds it.
type cappedListener struct {
	net.Listener
	slots chan struct{}
	open  sync.WaitGroup // Add only in Accept, before Serve returns
}

func (l *cappedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			l.open.Add(1)
			return &slotConn{Conn: c, l: l}, nil
		default:
			c.Close()
		}
	}
}

// slotConn gives its slot back on the first Close.
type slotConn struct {
	net.Conn
	once sync.Once
	l    *cappedListener
}

func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		<-c.l.slots
		c.l.open.Done()
	})
	return err
}

// CloseWrite keeps http.Server's careful close (FIN, a pause, then close)
// for errors it answers, so the peer reads the answer rather than a RST.
func (c *slotConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
