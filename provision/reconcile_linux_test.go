package provision

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	xnetns "github.com/netns-daemon/netns-daemon/internal/netns"
	"github.com/netns-daemon/netns-daemon/internal/nstest"
)

// daemon runs the echo daemon of TestMain inside ns, listening on addr.
func daemon(t *testing.T, ns, addr string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ND_TEST_ECHO="+addr)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "listening\n" {
		t.Fatalf("daemon: got %q; want listening", line)
	}
	return cmd
}

func echoLine(t *testing.T, c net.Conn, r *bufio.Reader, line string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := fmt.Fprintln(c, line); err != nil {
		t.Fatalf("writing %q: %v", line, err)
	}
	if got, err := r.ReadString('\n'); err != nil || got != line+"\n" {
		t.Fatalf("echo of %q: got %q, %v", line, got, err)
	}
}

func nsOf(t *testing.T, pid int) xnetns.ID {
	t.Helper()
	h, err := xnetns.OfPID(pid)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	return h.ID()
}

// A reconcile that adds an address and a route keeps the daemon, its PID
// and its established connection.
func TestReconcileKeepsTheDaemonAndItsConnection(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	s := seed(newName(), host)
	start(t, s)
	d := daemon(t, s.Name, "0.0.0.0:7000")
	id, _ := xnetns.StatPath(NetnsPath(s.Name))
	c, err := nstest.Dial(t, host, "10.1.0.5:7000")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	echoLine(t, c, r, "before")

	changed := seed(s.Name, host)
	changed.Inbound.Addresses = append(changed.Inbound.Addresses, "10.1.0.6/24")
	changed.Outbound.Routes = []Route{{To: "10.9.0.0/16", Via: "10.2.0.1"}}
	if got, err := Start(context.Background(), changed, Options{Log: func(m string) { t.Log(m) }}); err != nil || got != Changed {
		t.Fatalf("reconcile: got %v, %v; want changed in place", got, err)
	}

	echoLine(t, c, r, "after") // the same connection still carries data
	if got := nsOf(t, d.Process.Pid); got != id {
		t.Errorf("daemon (pid %d) is in namespace %v; want %v", d.Process.Pid, got, id)
	}
	if !alive(d.Process) {
		t.Error("the daemon was ended")
	}
	c2, err := nstest.Dial(t, host, "10.1.0.6:7000") // the new address serves
	if err != nil {
		t.Fatalf("dialing the added address: %v", err)
	}
	c2.Close()
	if got := nstest.Sh(t, s.Name, "ip route get 10.9.0.1"); !strings.Contains(got, "via 10.2.0.1 dev out0") {
		t.Errorf("route to 10.9.0.1: got %q; want via 10.2.0.1 dev out0", got)
	}
}

// A reconcile removes what the spec no longer has: an address, a route, a
// sysctl (back to its value before) and the DNS files.
func TestReconcileRemoves(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	full := seed(newName(), host)
	full.Inbound.Addresses = append(full.Inbound.Addresses, "10.1.0.6/24")
	full.Outbound.Routes = []Route{{To: "10.9.0.0/16", Via: "10.2.0.1"}}
	start(t, full)
	if got := readSysctl(t, full.Name, "net.ipv4.conf.out0.arp_notify"); got != "1" {
		t.Fatalf("arp_notify after start: got %q; want 1", got)
	}
	less := seed(full.Name, host)
	less.Sysctl, less.DNS = nil, DNS{}
	if _, err := Start(context.Background(), less, Options{}); err != nil {
		t.Fatal(err)
	}
	if got := addrsOf(t, full.Name, "in0"); !slices.Equal(got, []string{"10.1.0.5/24", "fd00:1::5/64"}) {
		t.Errorf("in0 addresses: got %q; want [10.1.0.5/24 fd00:1::5/64]", got)
	}
	if got := nstest.Sh(t, full.Name, "ip route show 10.9.0.0/16"); got != "" {
		t.Errorf("removed route still there: %q", got)
	}
	if got := readSysctl(t, full.Name, "net.ipv4.conf.out0.arp_notify"); got != "0" {
		t.Errorf("arp_notify after removing it: got %q; want the value before, 0", got)
	}
	if _, err := os.Lstat(EtcNetnsDir + "/" + full.Name); !os.IsNotExist(err) {
		t.Errorf("/etc/netns/%s after dropping [dns]: %v; want it gone", full.Name, err)
	}
}

// Drift: the outbound veth deleted by hand is reported, repaired by start,
// and then no longer reported.
func TestDriftReportedAndRepaired(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	s := seed(newName(), host)
	start(t, s)
	nstest.IP(t, "-n", s.Name, "link", "del", "out0")
	st, err := ReadState(s.Name)
	if err != nil {
		t.Fatal(err)
	}
	d := Drift(st)
	if len(d) == 0 || d[0].Object != "link/out0" || d[0].What != "missing" {
		t.Fatalf("drift: got %+v; want link/out0 missing first", d)
	}
	if got, err := Start(context.Background(), seed(s.Name, host), Options{}); err != nil || got != Changed {
		t.Fatalf("repair: got %v, %v; want changed in place", got, err)
	}
	st, _ = ReadState(s.Name)
	if d := Drift(st); len(d) != 0 {
		t.Errorf("drift after repair: %+v", d)
	}
	if got := nstest.Sh(t, s.Name, "ip route get 192.0.2.1"); !strings.Contains(got, "dev out0") {
		t.Errorf("route after repair: got %q; want dev out0", got)
	}
	if got, err := Start(context.Background(), seed(s.Name, host), Options{}); err != nil || got != Unchanged {
		t.Errorf("start after repair: got %v, %v; want unchanged", got, err)
	}
}
