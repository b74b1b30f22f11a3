package provision

import (
	"os"
	"path/filepath"
	"testing"
)

func TestResolveRootLinks(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the links under test must be root's")
	}
	root := t.TempDir() // root-owned, 0700
	os.Mkdir(filepath.Join(root, "run"), 0o755)
	os.Symlink("run", filepath.Join(root, "varrun"))
	open := filepath.Join(root, "open")
	os.Mkdir(open, 0o777)
	os.Chmod(open, 0o777) // anyone may plant a link here
	os.Symlink(filepath.Join(root, "run"), filepath.Join(open, "link"))
	for _, tc := range []struct{ in, want string }{
		{filepath.Join(root, "varrun"), filepath.Join(root, "run")},
		{filepath.Join(root, "run"), filepath.Join(root, "run")},
		{filepath.Join(open, "link"), filepath.Join(open, "link")}, // in a world-writable directory: not followed
		{"relative/dir", "relative/dir"},
	} {
		if got := resolveRootLinks(tc.in); got != tc.want {
			t.Errorf("resolveRootLinks(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
	if fi, err := os.Lstat("/var/run"); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		if got := resolveRootLinks("/var/run"); got != "/run" {
			t.Errorf("resolveRootLinks(/var/run) = %q; want /run", got)
		}
	}
}
