package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Environment of the flood helper (this test binary run again): the
// descriptor limit (20,000 here) is per process, so 20,000 client ends
// take two.
const (
	envFloodNS   = "NETNS_PROXY_TEST_FLOOD_NS"
	envFloodAddr = "NETNS_PROXY_TEST_FLOOD_ADDR"
	envFloodN    = "NETNS_PROXY_TEST_FLOOD_N"
)

// TestMetricsFloodSparesFrontends: 20,000 idle connections to the metrics
// endpoint used to take every descriptor of the worker (accept4: too many
// open files on every frontend). With its own small cap, the worker holds
// a handful of them, the frontend keeps accepting while they are open,
// and scrapes work again once they are gone.
func TestMetricsFloodSparesFrontends(t *testing.T) {
	skipUnlessRoot(t)
	if testing.Short() {
		t.Skip("opens 20,000 connections")
	}
	const helpers, each = 2, 10000
	ns, tbl, echo := echoNS(t)
	m := startMaster(t, reloadConfig(ns, echo.addr(), "127.0.0.1:9102", 8093))
	worker := workerPID.FindStringSubmatch(m.log.String())[1]
	var stops []func()
	made := 0
	for range helpers {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFloodHelper$")
		cmd.Env = append(os.Environ(), envFloodNS+"="+ns, envFloodAddr+"=127.0.0.1:9102", envFloodN+"="+strconv.Itoa(each))
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stop := sync.OnceFunc(func() { stdin.Close(); cmd.Wait() })
		stops = append(stops, stop)
		t.Cleanup(stop)
		var n int
		if _, err := fmt.Fscanf(bufio.NewReader(stdout), "open %d\n", &n); err != nil {
			t.Fatalf("flood helper: %v", err)
		}
		made += n
	}
	t.Logf("%d idle connections to metrics open", made)
	if made < helpers*each*9/10 {
		t.Fatalf("only %d of %d flood connections made: the test shows nothing", made, helpers*each)
	}
	fds, _ := filepath.Glob("/proc/" + worker + "/fd/*")
	t.Logf("the worker holds %d descriptors", len(fds))
	if len(fds) > metricsMaxConns+100 {
		t.Errorf("the worker holds %d descriptors during the flood; want about %d for metrics and a few more", len(fds), metricsMaxConns)
	}
	for i := range 5 {
		if err := echoWorks(tbl, ns, 8093); err != nil {
			t.Fatalf("frontend during the flood, try %d: %v", i, err)
		}
	}
	for _, stop := range stops {
		stop()
	}
	var got map[string]int64
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var c net.Conn
		if c, err = tbl.dialIn(context.Background(), ns, netip.MustParseAddrPort("127.0.0.1:9102"), netip.Addr{}, false, 2*time.Second); err == nil {
			if got, err = scrapeErr(c); err == nil {
				break
			}
		}
	}
	if n := got[`netns_proxy_frontend_connections_total{frontend="in"}`]; n != 5 {
		t.Errorf("scrape after the flood: %d frontend connections counted (%v); want 5", n, err)
	}
}

// TestFloodHelper is the flood's client side, run by the test above as a
// separate process: it opens the connections, says how many, and holds
// them until its stdin closes.
func TestFloodHelper(t *testing.T) {
	ns := os.Getenv(envFloodNS)
	if ns == "" {
		t.Skip("run by TestMetricsFloodSparesFrontends")
	}
	n, _ := strconv.Atoi(os.Getenv(envFloodN))
	dst := netip.MustParseAddrPort(os.Getenv(envFloodAddr))
	tbl := testNS(t, ns)
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range n / 8 {
				if c, err := tbl.dialIn(context.Background(), ns, dst, netip.Addr{}, false, 5*time.Second); err == nil {
					mu.Lock()
					conns = append(conns, c)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	fmt.Printf("open %d\n", len(conns))
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
}
