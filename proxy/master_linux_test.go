package proxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/netns-daemon/netns-daemon/internal/bintest"
)

func TestMain(m *testing.M) { bintest.Main(m) }

// master is a netns-proxy master started from the built binary.
type master struct {
	cmd     *exec.Cmd
	cfg     string
	log     *syncBuf
	scanned chan struct{}
}

// startMaster runs netns-proxy -c cfg (JSON logs), waits for its first
// worker and stops it (and checks that no worker outlives it) when the
// test ends.
func startMaster(t *testing.T, cfgText string, env ...string) *master {
	t.Helper()
	m := &master{cfg: filepath.Join(t.TempDir(), "proxy.toml"), log: &syncBuf{}, scanned: make(chan struct{})}
	m.write(t, cfgText)
	m.cmd = exec.Command(filepath.Join(bintest.Dir(t), "netns-proxy"), "-c", m.cfg, "--log-format", "json")
	m.cmd.Stderr = m.log
	// A worker that outlived the master would hold the log pipe and make
	// Wait block forever; bound it so the test reports it instead.
	m.cmd.WaitDelay = 5 * time.Second
	m.cmd.Env = append(os.Environ(), env...)
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		m.stop(t)
		if t.Failed() {
			t.Logf("proxy log:\n%s", m.log)
		}
	})
	m.log.waitLog(t, `"msg":"worker ready"`)
	return m
}

func (m *master) write(t *testing.T, cfgText string) {
	t.Helper()
	if err := os.WriteFile(m.cfg, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
}

// reload sends SIGHUP and waits for the log line that says how it went.
func (m *master) reload(t *testing.T, want string) {
	t.Helper()
	n := strings.Count(m.log.String(), want)
	m.cmd.Process.Signal(syscall.SIGHUP)
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if strings.Count(m.log.String(), want) > n {
			return
		}
	}
	t.Fatalf("no %q after SIGHUP", want)
}

var workerPID = regexp.MustCompile(`"msg":"worker ready".*?"pid":(\d+)`)

// stop sends SIGTERM, waits, and checks that every worker is gone.
func (m *master) stop(t *testing.T) {
	if m.cmd.ProcessState != nil {
		return
	}
	m.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- m.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("master exit: %v", err)
		}
	case <-time.After(20 * time.Second):
		m.cmd.Process.Kill()
		<-done
		t.Error("master did not stop in 20s")
	}
	for _, sub := range workerPID.FindAllStringSubmatch(m.log.String(), -1) {
		if _, err := os.Stat("/proc/" + sub[1]); err == nil {
			t.Errorf("worker %s still running after the master stopped", sub[1])
			var pid int
			fmt.Sscan(sub[1], &pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// loadResult counts what clients saw.
type loadResult struct {
	ok, connectFailed, broken atomic.Int64
	firstErr                  atomic.Value
	done                      chan struct{} // closed when every client has stopped
}

func (r *loadResult) fail(n *atomic.Int64, err error) {
	n.Add(1)
	r.firstErr.CompareAndSwap(nil, err.Error())
}

// runLoad runs clients until stop is closed: each connects, sends a
// random payload, half-closes and checks that the echo is complete.
func runLoad(tbl *nsTable, ns string, dst netip.AddrPort, clients int, stop <-chan struct{}) *loadResult {
	res := &loadResult{done: make(chan struct{})}
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			buf := make([]byte, 32<<10)
			for {
				select {
				case <-stop:
					return
				default:
				}
				payload := buf[:1+rng.IntN(len(buf)-1)]
				for j := range payload {
					payload[j] = byte(rng.Uint32())
				}
				c, err := tbl.dialIn(context.Background(), ns, dst, netip.Addr{}, false, 5*time.Second)
				if err != nil {
					res.fail(&res.connectFailed, err)
					continue
				}
				if err := echoOnce(c, payload); err != nil {
					res.fail(&res.broken, err)
					continue
				}
				res.ok.Add(1)
			}
		})
	}
	go func() { wg.Wait(); close(res.done) }()
	return res
}

func echoOnce(c *net.TCPConn, payload []byte) error {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	errc := make(chan error, 1)
	go func() {
		_, err := c.Write(payload)
		if err == nil {
			err = c.CloseWrite()
		}
		errc <- err
	}()
	got, err := io.ReadAll(c)
	if werr := <-errc; werr != nil {
		return fmt.Errorf("writing: %w", werr)
	}
	if err != nil {
		return fmt.Errorf("reading after %d bytes: %w", len(got), err)
	}
	if !bytes.Equal(got, payload) {
		return fmt.Errorf("echo: got %d bytes; want %d (same bytes: %v)", len(got), len(payload), bytes.HasPrefix(payload, got))
	}
	return nil
}

// reloadConfig is one frontend in ns on port, an echo server and metrics.
func reloadConfig(ns, server string, metrics string, ports ...int) string {
	var binds []string
	for _, p := range ports {
		binds = append(binds, fmt.Sprintf("%q", fmt.Sprintf("127.0.0.1:%d", p)))
	}
	s := fmt.Sprintf("[defaults]\ngrace = \"10s\"\n[[frontend]]\nname = \"in\"\nnamespace = %q\nbind = [%s]\nbackend = \"app\"\n"+
		"[[backend]]\nname = \"app\"\n[[backend.server]]\nname = \"echo\"\nnamespace = %q\naddress = %q\n", ns, strings.Join(binds, ", "), ns, server)
	if metrics != "" {
		s += fmt.Sprintf("[metrics]\nnamespace = %q\nlisten = %q\n", ns, metrics)
	}
	return s
}

// TestReloadUnderLoad reloads the real master again and again while
// clients hammer it: not one connect may fail, not one echo may be short.
func TestReloadUnderLoad(t *testing.T) {
	skipUnlessRoot(t)
	if testing.Short() {
		t.Skip("runs a load for seconds")
	}
	const clients, reloads, span = 200, 20, 10 * time.Second
	ns := newTestNS(t)
	tbl := testNS(t, ns)
	echo := serveOn(t, listenInNS(t, tbl, ns, "127.0.0.1:0"), echoServer)
	m := startMaster(t, reloadConfig(ns, echo.addr(), "127.0.0.1:9101", 8080))

	stop := make(chan struct{})
	res := runLoad(tbl, ns, netip.MustParseAddrPort("127.0.0.1:8080"), clients, stop)
	start := time.Now()
	for i := range reloads {
		time.Sleep(time.Until(start.Add(span * time.Duration(i+1) / (reloads + 1))))
		// Every other reload changes the config, every other one does not.
		m.write(t, strings.Replace(reloadConfig(ns, echo.addr(), "127.0.0.1:9101", 8080), `"10s"`, fmt.Sprintf(`"%ds"`, 10+i%2), 1))
		m.reload(t, `"msg":"reloaded"`)
	}
	time.Sleep(time.Until(start.Add(span)))
	close(stop)
	<-res.done
	t.Logf("%d clients, %d reloads in %v: %d echoes ok, %d failed connects, %d broken streams",
		clients, reloads, span, res.ok.Load(), res.connectFailed.Load(), res.broken.Load())
	if res.connectFailed.Load() != 0 || res.broken.Load() != 0 {
		t.Errorf("failed connects %d, broken streams %d; want 0 and 0 (first: %v)", res.connectFailed.Load(), res.broken.Load(), res.firstErr.Load())
	}
	if res.ok.Load() < int64(clients) {
		t.Errorf("only %d echoes; the load did not run", res.ok.Load())
	}
	if got := scrape(t, tbl, ns, "127.0.0.1:9101")["netns_proxy_reloads_total"]; got != reloads {
		t.Errorf("netns_proxy_reloads_total %d; want %d", got, reloads)
	}
}

// TestReloadListeners: a broken config keeps the old one serving; a
// listener the new config drops stops accepting, one it adds starts.
func TestReloadListeners(t *testing.T) {
	skipUnlessRoot(t)
	ns := newTestNS(t)
	tbl := testNS(t, ns)
	echo := serveOn(t, listenInNS(t, tbl, ns, "127.0.0.1:0"), echoServer)
	m := startMaster(t, reloadConfig(ns, echo.addr(), "", 8081))
	works := func(port int) error {
		c, err := tbl.dialIn(context.Background(), ns, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)), netip.Addr{}, false, 2*time.Second)
		if err != nil {
			return err
		}
		return echoOnce(c, []byte("ping"))
	}
	if err := works(8081); err != nil {
		t.Fatalf("before reload: %v", err)
	}

	m.write(t, reloadConfig(ns, echo.addr(), "", 8081)+"bogus = 1\n")
	m.reload(t, `"msg":"reload failed; the running config keeps serving"`)
	if err := works(8081); err != nil {
		t.Errorf("after a broken reload: %v", err)
	}
	if !strings.Contains(m.log.String(), "unknown key backend.server.bogus") {
		t.Error("the failed reload does not say why")
	}

	m.write(t, reloadConfig(ns, echo.addr(), "", 8082))
	m.reload(t, `"msg":"reloaded"`)
	if err := works(8082); err != nil {
		t.Errorf("added listener: %v", err)
	}
	// The old worker may still be draining; its listener is closed at once.
	if err := works(8081); err == nil {
		t.Error("removed listener still accepts")
	}
}

// scrape reads the metrics endpoint in ns into name{labels} -> value.
func scrape(t *testing.T, tbl *nsTable, ns, addr string) map[string]int64 {
	t.Helper()
	c, err := tbl.dialIn(context.Background(), ns, netip.MustParseAddrPort(addr), netip.Addr{}, false, 2*time.Second)
	if err != nil {
		t.Fatalf("scraping metrics: %v", err)
	}
	return scrapeConn(t, c)
}

// TestNotify listens where systemd would ($NOTIFY_SOCKET) and checks the
// master's messages through start, reload and stop.
func TestNotify(t *testing.T) {
	skipUnlessRoot(t)
	ns := newTestNS(t)
	tbl := testNS(t, ns)
	echo := serveOn(t, listenInNS(t, tbl, ns, "127.0.0.1:0"), echoServer)
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	next := func() string {
		t.Helper()
		conn.SetReadDeadline(time.Now().Add(15 * time.Second))
		b := make([]byte, 512)
		n, err := conn.Read(b)
		if err != nil {
			t.Fatalf("reading sd_notify: %v", err)
		}
		return string(b[:n])
	}
	m := startMaster(t, reloadConfig(ns, echo.addr(), "", 8083), "NOTIFY_SOCKET="+sock)
	if got, want := next(), fmt.Sprintf("READY=1\nMAINPID=%d", m.cmd.Process.Pid); got != want {
		t.Errorf("got %q; want %q", got, want)
	}
	m.cmd.Process.Signal(syscall.SIGHUP)
	if got := next(); !regexp.MustCompile(`^RELOADING=1\nMONOTONIC_USEC=\d+$`).MatchString(got) {
		t.Errorf("got %q; want RELOADING=1 and MONOTONIC_USEC", got)
	}
	if got := next(); !strings.HasPrefix(got, "READY=1") {
		t.Errorf("after reload got %q; want READY=1", got)
	}
	m.stop(t)
	if got := next(); got != "STOPPING=1" {
		t.Errorf("got %q; want STOPPING=1", got)
	}
}
