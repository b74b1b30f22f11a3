package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netns-daemon/netns-daemon/internal/nstest"
	"github.com/netns-daemon/netns-daemon/provision"
)

// serviceDir is a pidfile directory owned by the service user (nobody),
// who planted p.pid.tmp and p.pid as symlinks to a decoy standing in for
// /etc/shadow.
func serviceDir(t *testing.T) (dir, decoy string) {
	t.Helper()
	root := t.TempDir()
	decoy = filepath.Join(root, "shadow")
	os.WriteFile(decoy, []byte("root:secret\n"), 0o600)
	dir = filepath.Join(root, "svc")
	os.Mkdir(dir, 0o755)
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"p.pid.tmp", "p.pid"} {
		if err := os.Symlink(decoy, filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
		os.Lchown(filepath.Join(dir, n), 65534, 65534)
	}
	return dir, decoy
}

func TestPidfileNeverFollowsSymlinks(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	dir, decoy := serviceDir(t)
	name := nstest.Name("ndp")
	stopAfter(t, name)
	pidfile := filepath.Join(dir, "p.pid")
	out, errs, pid, code := execRun(t, "-q", "--user", "nobody", "--pidfile", pidfile, name, "--", "sh", "-c", "exit 7")
	if code != 7 {
		t.Fatalf("got exit %d; want the daemon's 7\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if b, _ := os.ReadFile(decoy); string(b) != "root:secret\n" {
		t.Errorf("the decoy for /etc/shadow: got %q; want it untouched", b)
	}
	fi, err := os.Lstat(pidfile)
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("pidfile: %v (mode %v); want a regular file in place of the symlink", err, fi.Mode())
	}
	if b, _ := os.ReadFile(pidfile); string(b) != fmt.Sprintf("%d\n", pid) {
		t.Errorf("pidfile: got %q; want the daemon's PID %d", b, pid)
	}
	if target, err := os.Readlink(filepath.Join(dir, "p.pid.tmp")); err != nil || target != decoy {
		t.Errorf("the planted p.pid.tmp: got %q, %v; want it left as it was", target, err)
	}
}

// A symlink on the way to the pidfile that the service user planted (in
// its own directory) is refused before anything is made. Only symlinks
// that root alone could have made, like /var/run -> /run, are followed.
func TestPidfileDirectoryWithSymlinkRefused(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	dir, decoy := serviceDir(t)
	link := filepath.Join(dir, "link")
	os.Symlink(filepath.Dir(decoy), link)
	os.Lchown(link, 65534, 65534)
	name := nstest.Name("ndp")
	stopAfter(t, name)
	pidfile := filepath.Join(link, "shadow")
	_, errs, _, code := execRun(t, "-q", "--pidfile", pidfile, name, "--", "true")
	if want := fmt.Sprintf("pidfile %q", pidfile); code != 2 || !strings.Contains(errs, want) || !strings.Contains(errs, "symlink") {
		t.Errorf("got exit %d, %q; want exit 2 naming %s and the symlink", code, errs, want)
	}
	if b, _ := os.ReadFile(decoy); string(b) != "root:secret\n" {
		t.Errorf("the decoy: got %q; want it untouched", b)
	}
	if _, err := os.Lstat(provision.NetnsPath(name)); err == nil {
		t.Errorf("%s was made", provision.NetnsPath(name))
	}
}

// Inherited NETNS_* variables never reach the daemon: each of ours is
// there exactly once, with our value.
func TestExecEnvironmentHasOurNetnsVarsOnce(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	name := nstest.Name("ndv")
	stopAfter(t, name)
	cmd := startCmd("-q", "--host-netns", host, "--outbound", "10.2.0.5/24", "--gateway", "10.2.0.1", name, "--", "sh", "-c", "env; exit 7")
	cmd.Env = append(cmd.Env, "NETNS_GATEWAY=6.6.6.6", "NETNS_NAME=evil", "NETNS_GATEWAY=6.6.6.7", "NETNS_EXTRA=x")
	b, err := cmd.Output()
	if cmd.ProcessState.ExitCode() != 7 {
		t.Fatalf("got %v; want the daemon's exit 7", err)
	}
	got := map[string][]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && strings.HasPrefix(k, "NETNS_") {
			got[k] = append(got[k], v)
		}
	}
	want := map[string]string{"NETNS_NAME": name, "NETNS_INBOUND_ADDRS": "", "NETNS_OUTBOUND_ADDRS": "10.2.0.5/24", "NETNS_GATEWAY": "10.2.0.1"}
	for k, v := range want {
		if len(got[k]) != 1 || got[k][0] != v {
			t.Errorf("%s: got %q; want exactly [%q]", k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: got %q; want no inherited NETNS_* variable", k, got[k])
		}
	}
}
