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
