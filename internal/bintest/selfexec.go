package bintest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"testing"
)

const runMainEnv = "ND_RUN_MAIN"

// MainOrTests lets a command's tests run the command itself: when the test
// binary was started by Command it runs main as the command name; else
// it runs the tests.
func MainOrTests(m *testing.M, name string, main func()) {
	if os.Getenv(runMainEnv) != "" {
		os.Args = append([]string{name}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

// Command runs the command under test with args and returns its stdout,
// stderr and exit status.
func Command(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return o.String(), e.String(), cmd.ProcessState.ExitCode()
}
