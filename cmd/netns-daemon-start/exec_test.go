package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netns-daemon/netns-daemon/internal/nstest"
	"github.com/netns-daemon/netns-daemon/provision"
)

// startCmd is the command itself, re-run from the test binary.
func startCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "ND_RUN_MAIN=1")
	return cmd
}

// execRun runs the command to its end and returns stdout, stderr, the PID
// it ran as and its exit status.
func execRun(t *testing.T, args ...string) (string, string, int, int) {
	t.Helper()
	cmd := startCmd(args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return out.String(), errb.String(), cmd.Process.Pid, cmd.ProcessState.ExitCode()
}

// stopAfter removes name when the test ends.
func stopAfter(t *testing.T, name string) {
	t.Cleanup(func() { provision.Stop(t.Context(), name, provision.Options{}) })
}

// probe prints what a daemon sees, one KEY=VALUE a line.
const probe = `echo pid=$$; echo ns=$(stat -L -c '%d:%i' /proc/self/ns/net); echo uid=$(id -u); ` +
	`echo groups="$(id -G)"; echo cwd=$(pwd); echo resolv="$(grep nameserver /etc/resolv.conf)"; ` +
	`echo sys="$(ls /sys/class/net | tr '\n' ' ')"; env | grep ^NETNS_; exit 7`

func parseProbe(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

func TestExecModeKeepsPIDAndEntersNamespace(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	name := nstest.Name("ndx")
	stopAfter(t, name)
	hostResolv, _ := os.ReadFile("/etc/resolv.conf")
	pidfile := filepath.Join(t.TempDir(), "d.pid")
	out, errs, pid, code := execRun(t, "--host-netns", host, "--network", "10.1.0.5/24", "--peer-address", "10.1.0.1/24",
		"--outbound", "10.2.0.5/24", "--gateway", "10.2.0.1", "--nameserver", "10.2.0.53",
		"--user", "nobody", "--pidfile", pidfile, "--chdir", "/", name, "--", "sh", "-c", probe)
	if code != 7 {
		t.Fatalf("got exit %d; want the daemon's 7\nstdout: %s\nstderr: %s", code, out, errs)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(provision.NetnsPath(name), &st); err != nil {
		t.Fatal(err)
	}
	got := parseProbe(out)
	for k, want := range map[string]string{
		"pid": fmt.Sprint(pid), "ns": fmt.Sprintf("%d:%d", st.Dev, st.Ino), "uid": "65534", "cwd": "/",
		"resolv": "nameserver 10.2.0.53", "sys": "in0 lo out0", "NETNS_NAME": name,
		"NETNS_INBOUND_ADDRS": "10.1.0.5/24", "NETNS_OUTBOUND_ADDRS": "10.2.0.5/24", "NETNS_GATEWAY": "10.2.0.1",
	} {
		if got[k] != want {
			t.Errorf("%s: got %q; want %q", k, got[k], want)
		}
	}
	if g := got["groups"]; g == "" || strings.Contains(" "+g+" ", " 0 ") {
		t.Errorf("groups: got %q; want nobody's, without root's", g)
	}
	if b, _ := os.ReadFile(pidfile); strings.TrimSpace(string(b)) != fmt.Sprint(pid) {
		t.Errorf("pidfile: got %q; want %d", b, pid)
	}
	if now, _ := os.ReadFile("/etc/resolv.conf"); !bytes.Equal(now, hostResolv) {
		t.Errorf("the host's /etc/resolv.conf changed: %q", now)
	}
}

func TestExecModeSignalReachesDaemon(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	name := nstest.Name("ndx")
	stopAfter(t, name)
	ready := filepath.Join(t.TempDir(), "ready")
	cmd := startCmd("-q", name, "--", "sh", "-c", `trap 'exit 5' TERM; touch `+ready+`; while :; do sleep 0.05; done`)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 5 {
		t.Errorf("got exit %d; want 5 from the daemon's TERM trap", code)
	}
}

func TestExecBadInput(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	name := nstest.Name("ndx")
	stopAfter(t, name)
	dir := t.TempDir() // 0700, root's: nobody cannot run what is inside
	script := filepath.Join(dir, "d.sh")
	os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{name, "--", "no-such-daemon-xyz"}, 127, `looking up "no-such-daemon-xyz": command not found`},
		{[]string{"--user", "no-such-user-xyz", name, "--", "true"}, 2, `looking up user "no-such-user-xyz"`},
		{[]string{"--group", "no-such-group-xyz", name, "--", "true"}, 2, `looking up group "no-such-group-xyz"`},
		{[]string{"--pidfile", "/nonexistent-dir/d.pid", name, "--", "true"}, 2, `pidfile "/nonexistent-dir/d.pid": opening directory /nonexistent-dir: no such file`},
		{[]string{"--join", name, "--", "true"}, 2, "does not exist"},
		{[]string{"--proxy", "/dev/null", name}, 127, "netns-proxy"},
		// Found as root, refused to nobody: fails after provisioning,
		// which is then rolled back.
		{[]string{"--user", "nobody", name, "--", script}, 1, "permission denied"},
	} {
		_, errs, _, code := execRun(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%q: got exit %d, %q; want exit %d with %q", tc.args, code, errs, tc.code, tc.want)
		}
		if _, err := os.Stat(provision.NetnsPath(name)); err == nil {
			t.Fatalf("%q: left %s behind", tc.args, provision.NetnsPath(name))
		}
	}
}

func TestJoinEntersExistingNamespace(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	name := nstest.Name("ndx")
	stopAfter(t, name)
	if out, code := run(t, "-q", "--nameserver", "10.3.0.53", name); code != 0 {
		t.Fatalf("provisioning: exit %d: %s", code, out)
	}
	out, errs, pid, code := execRun(t, "--join", name, "--", "sh", "-c", probe)
	var st syscall.Stat_t
	syscall.Stat(provision.NetnsPath(name), &st)
	got := parseProbe(out)
	if code != 7 || got["pid"] != fmt.Sprint(pid) || got["ns"] != fmt.Sprintf("%d:%d", st.Dev, st.Ino) ||
		got["resolv"] != "nameserver 10.3.0.53" || got["NETNS_NAME"] != name {
		t.Errorf("got exit %d, %v, stderr %q; want exit 7, pid %d, ns %d:%d, the namespace's resolv.conf", code, got, errs, pid, st.Dev, st.Ino)
	}
}
