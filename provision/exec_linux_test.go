package provision

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestBindEtcFollowsSymlink binds over an /etc whose resolv.conf is a
// symlink, in a child process with its own mount namespace.
func TestBindEtcFollowsSymlink(t *testing.T) {
	if dir := os.Getenv("ND_BIND_ETC_DIR"); dir != "" {
		if err := unix.Mount("", "/", "none", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
			t.Fatal(err)
		}
		bindEtc(filepath.Join(dir, "netns"), filepath.Join(dir, "etc"), func(m string) { t.Log(m) })
		b, _ := os.ReadFile(filepath.Join(dir, "etc", "resolv.conf"))
		os.Stdout.Write(b)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts in a private mount namespace")
	}
	dir := t.TempDir()
	for _, d := range []string{"netns", "etc", "run"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "netns", "resolv.conf"), []byte("nameserver 10.9.0.53\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "netns", "hosts"), []byte("10.9.0.7 db\n"), 0o644) // no etc/hosts: skipped
	os.WriteFile(filepath.Join(dir, "run", "stub.conf"), []byte("nameserver 127.0.0.53\n"), 0o644)
	os.Symlink("../run/stub.conf", filepath.Join(dir, "etc", "resolv.conf"))

	cmd := exec.Command(os.Args[0], "-test.run=^TestBindEtcFollowsSymlink$")
	cmd.Env = append(os.Environ(), "ND_BIND_ETC_DIR="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	if want := "nameserver 10.9.0.53\n"; string(out[:min(len(out), len(want))]) != want {
		t.Errorf("inside: got %q; want %q first", out, want)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "run", "stub.conf")); string(b) != "nameserver 127.0.0.53\n" {
		t.Errorf("outside: symlink target changed: %q", b)
	}
}
