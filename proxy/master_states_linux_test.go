package proxy

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// addTestNS makes namespace name (again) with lo up; the test removes it
// itself or through newTestNS's cleanup.
func addTestNS(t *testing.T, name string) {
	t.Helper()
	for _, args := range [][]string{{"netns", "add", name}, {"-n", name, "link", "set", "lo", "up"}} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
}

func delTestNS(t *testing.T, name string) {
	t.Helper()
	if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns del %s: %v: %s", name, err, out)
	}
}

// echoNS is a throwaway namespace with an echo server on loopback.
func echoNS(t *testing.T) (string, *nsTable, *testServer) {
	t.Helper()
	ns := newTestNS(t)
	tbl := testNS(t, ns)
	return ns, tbl, serveOn(t, listenInNS(t, tbl, ns, "127.0.0.1:0"), echoServer)
}

// echoWorks connects to 127.0.0.1:port in ns and checks one echo.
func echoWorks(tbl *nsTable, ns string, port uint16) error {
	c, err := tbl.dialIn(context.Background(), ns, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), netip.Addr{}, false, 2*time.Second)
	if err != nil {
		return err
	}
	return echoOnce(c, []byte("ping"))
}

// TestReloadDuringBackoff: the worker dies and cannot start again (the
// namespace its server lives in is gone), so the master backs off. A
// SIGHUP with a config that still fails is reported and the backoff goes
// on; one with a fixed config starts a worker at once; SIGTERM during the
// backoff stops the master at once.
func TestReloadDuringBackoff(t *testing.T) {
	skipUnlessRoot(t)
	ns := newTestNS(t)
	gone := "npt-gone-" + ns[4:]
	addTestNS(t, gone)
	tbl := testNS(t, ns)
	echo := serveOn(t, listenInNS(t, tbl, ns, "127.0.0.1:0"), echoServer)
	broken := reloadConfig(ns, echo.addr(), "", 8091) + "[[backend.server]]\nname = \"elsewhere\"\nnamespace = \"" + gone + "\"\naddress = \"127.0.0.1:1\"\n"
	m := startMaster(t, broken)
	if err := echoWorks(tbl, ns, 8091); err != nil {
		t.Fatalf("before: %v", err)
	}
	delTestNS(t, gone)
	pid := workerPID.FindStringSubmatch(m.log.String())[1]
	exec.Command("kill", "-KILL", pid).Run()
	m.log.waitLog(t, `no such file or directory`)
	time.Sleep(1500 * time.Millisecond) // the backoff has grown past a second

	m.reload(t, `"msg":"reload failed; still restarting the worker with the last good config"`)
	m.log.waitLog(t, `"msg":"restarting worker"`)

	m.write(t, reloadConfig(ns, echo.addr(), "", 8091))
	start := time.Now()
	m.reload(t, `"msg":"reloaded"`)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("worker started %v after SIGHUP; want at once", d)
	}
	if err := echoWorks(tbl, ns, 8091); err != nil {
		t.Errorf("after the fixed reload: %v", err)
	}

	// Backing off again (same broken namespace), SIGTERM must be prompt.
	addTestNS(t, gone)
	m.write(t, broken)
	m.reload(t, `"msg":"reloaded"`)
	delTestNS(t, gone)
	pid = workerPID.FindAllStringSubmatch(m.log.String(), -1)[2][1]
	exec.Command("kill", "-KILL", pid).Run()
	m.log.waitLog(t, `"msg":"restarting worker"`)
	start = time.Now()
	m.stop(t)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("master stopped %v after SIGTERM during backoff; want at once", d)
	}
}

// TestReloadRecreatedNamespace: the listener's namespace is deleted and
// made again under the same name; a reload binds in the new one (and
// says so) and its clients are served.
func TestReloadRecreatedNamespace(t *testing.T) {
	skipUnlessRoot(t)
	front, back := newTestNS(t), newTestNS(t)
	tbl := testNS(t, back)
	echo := serveOn(t, listenInNS(t, tbl, back, "127.0.0.1:0"), echoServer)
	cfg := strings.Replace(reloadConfig(front, echo.addr(), "", 8092), "namespace = \""+front+"\"\naddress", "namespace = \""+back+"\"\naddress", 1)
	m := startMaster(t, cfg)
	old := testNS(t, front)
	if err := echoWorks(old, front, 8092); err != nil {
		t.Fatalf("before: %v", err)
	}
	delTestNS(t, front)
	addTestNS(t, front)
	fresh := testNS(t, front)
	if err := echoWorks(fresh, front, 8092); err == nil {
		t.Fatal("the new namespace is served before the reload: the test shows nothing")
	}
	m.reload(t, `"msg":"reloaded"`)
	m.log.waitLog(t, `"msg":"namespace was re-created; binding in the new one","role":"master","namespace":"`+front+`"`)
	if !strings.Contains(m.log.String(), `"new":1`) {
		t.Error(`reload did not bind a new listener ("new":1)`)
	}
	if err := echoWorks(fresh, front, 8092); err != nil {
		t.Errorf("client in the re-created namespace: %v", err)
	}
}

// TestScrapesAcrossReloads: metrics scrapes in a loop through 20 reloads;
// not one may fail. The old worker used to close connections it had just
// accepted (7 of 1,667 scrapes failed).
func TestScrapesAcrossReloads(t *testing.T) {
	skipUnlessRoot(t)
	if testing.Short() {
		t.Skip("scrapes for seconds")
	}
	const scrapers, reloads = 4, 20
	ns, tbl, echo := echoNS(t)
	cfg := reloadConfig(ns, echo.addr(), "127.0.0.1:9103", 8094)
	m := startMaster(t, cfg)
	stop := make(chan struct{})
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range scrapers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := tbl.dialIn(context.Background(), ns, netip.MustParseAddrPort("127.0.0.1:9103"), netip.Addr{}, false, 2*time.Second)
				if err == nil {
					_, err = scrapeErr(c)
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				ok.Add(1)
			}
		})
	}
	for i := range reloads {
		time.Sleep(250 * time.Millisecond)
		m.write(t, strings.Replace(cfg, `"10s"`, fmt.Sprintf(`"%ds"`, 10+i%2), 1))
		m.reload(t, `"msg":"reloaded"`)
	}
	time.Sleep(250 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("%d reloads: %d scrapes ok, %d failed", reloads, ok.Load(), failed.Load())
	if failed.Load() != 0 {
		t.Errorf("%d scrapes failed; want 0 (first: %v)", failed.Load(), firstErr.Load())
	}
	if ok.Load() < reloads*scrapers {
		t.Errorf("only %d scrapes: the load did not run", ok.Load())
	}
}

// TestWorkerName: the worker is called netns-proxy (comm), its argv[0]
// says its role, and pgrep -x netns-proxy finds master and worker.
func TestWorkerName(t *testing.T) {
	skipUnlessRoot(t)
	ns, _, echo := echoNS(t)
	m := startMaster(t, reloadConfig(ns, echo.addr(), "", 8095))
	worker := workerPID.FindStringSubmatch(m.log.String())[1]
	master := strconv.Itoa(m.cmd.Process.Pid)
	for pid, argv0 := range map[string]string{worker: WorkerArgv0, master: m.cmd.Path} {
		comm, err := os.ReadFile("/proc/" + pid + "/comm")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(string(comm)); got != "netns-proxy" {
			t.Errorf("pid %s comm %q; want netns-proxy", pid, got)
		}
		cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
		if got, _, _ := strings.Cut(string(cmdline), "\x00"); got != argv0 {
			t.Errorf("pid %s argv[0] %q; want %q", pid, got, argv0)
		}
	}
	if _, err := exec.LookPath("pgrep"); err != nil {
		t.Skip("needs pgrep (procps) for the rest")
	}
	out, _ := exec.Command("pgrep", "-x", "netns-proxy").Output()
	pids := strings.Fields(string(out))
	for _, pid := range []string{master, worker} {
		if !slices.Contains(pids, pid) {
			t.Errorf("pgrep -x netns-proxy = %q; want it to list %s", pids, pid)
		}
	}
}

// TestLoopAfterReload: a listener a reload adds is one of our own at once:
// a header naming it is refused by the new worker.
func TestLoopAfterReload(t *testing.T) {
	skipUnlessRoot(t)
	ns, tbl, echo := echoNS(t)
	cfg := func(binds string) string {
		return fmt.Sprintf("[[frontend]]\nname = \"in\"\nnamespace = %q\nbind = [%s]\naccept_proxy = true\ntrusted_sources = [\"127.0.0.1\"]\nbackend = \"app\"\n"+
			"[[backend]]\nname = \"app\"\n[[backend.server]]\nname = \"star\"\naddress = \"*\"\nnamespace = \"*\"\n", ns, binds)
	}
	m := startMaster(t, cfg(`"127.0.0.1:8096"`))
	send := func(dst string) string {
		got, _ := roundTrip(t, dialInNS(tbl, ns, "127.0.0.1:8096"), fmt.Sprintf("PROXY TCP4 127.0.0.1 %s 1 %s\r\nping", strings.Split(dst, ":")[0], strings.Split(dst, ":")[1]))
		return got
	}
	if got := send(echo.addr()); got != "ping" {
		t.Fatalf("to the echo server: got %q; want %q", got, "ping")
	}
	m.write(t, cfg(`"127.0.0.1:8096", "127.0.0.1:8097"`))
	m.reload(t, `"msg":"reloaded"`)
	if got := send("127.0.0.1:8097"); got != "" {
		t.Errorf("to the added listener: got %q; want the connection closed", got)
	}
	m.log.waitLog(t, `127.0.0.1:8097 in namespace \"`+ns+`\": destination is one of our own listeners`)
}
