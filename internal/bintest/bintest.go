// Package bintest builds the commands once per test process, for tests that
// drive them the way scripts and init systems do.
package bintest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

var (
	once sync.Once
	dir  string
	err  error
	out  []byte
)

// Dir returns a directory holding netns-daemon-start, -stop, -status and
// netns-proxy, built from this checkout.
func Dir(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		if dir, err = os.MkdirTemp("", "netns-daemon-bin-"); err != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", dir+"/", "./cmd/netns-daemon-start", "./cmd/netns-daemon-stop", "./cmd/netns-daemon-status", "./cmd/netns-proxy")
		cmd.Dir = root
		out, err = cmd.CombinedOutput()
	})
	if err != nil {
		t.Fatalf("building the commands: %v: %s", err, out)
	}
	return dir
}

// Main is a TestMain that removes the built binaries after the tests.
func Main(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

// Cleanup removes the built binaries; call it from TestMain after m.Run.
func Cleanup() {
	if dir != "" {
		os.RemoveAll(dir)
	}
}

// Subreaper makes this process the reaper of the daemons its tests start
// (start-stop-daemon --background orphans them), so that Reap can collect
// them instead of leaving zombies to a PID 1 that may not reap.
func Subreaper() { unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }

// Reap collects exited orphans. Call it when no exec.Cmd of the test is
// waiting, or it may take that command's status.
func Reap() {
	for range 1000 {
		pid, err := unix.Wait4(-1, nil, unix.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
