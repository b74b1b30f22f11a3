package safefile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// bothWays runs f with openat2 and with the O_NOFOLLOW walk.
func bothWays(t *testing.T, f func(t *testing.T)) {
	for _, o2 := range []bool{true, false} {
		name := map[bool]string{true: "openat2", false: "walk"}[o2]
		t.Run(name, func(t *testing.T) {
			saved := noOpenat2.Load()
			noOpenat2.Store(!o2)
			t.Cleanup(func() { noOpenat2.Store(saved) })
			f(t)
		})
	}
}

// fixture makes root/real/ (a directory), root/link -> real, and a decoy
// file standing in for /etc/shadow.
func fixture(t *testing.T) (root, decoy string) {
	root = t.TempDir()
	must(t, os.Mkdir(filepath.Join(root, "real"), 0o755))
	must(t, os.Symlink("real", filepath.Join(root, "link")))
	decoy = filepath.Join(root, "shadow")
	must(t, os.WriteFile(decoy, []byte("root:secret\n"), 0o600))
	return root, decoy
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func openT(t *testing.T, path string) *Dir {
	t.Helper()
	d, err := OpenDir(path)
	if err != nil {
		t.Fatalf("OpenDir(%q): %v", path, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func checkDecoy(t *testing.T, decoy string) {
	t.Helper()
	if b, err := os.ReadFile(decoy); err != nil || string(b) != "root:secret\n" {
		t.Errorf("decoy: got %q, %v; want it unchanged", b, err)
	}
}

func TestOpenDirRefusesSymlinks(t *testing.T) {
	bothWays(t, func(t *testing.T) {
		root, _ := fixture(t)
		must(t, os.Mkdir(filepath.Join(root, "real", "sub"), 0o755))
		for _, p := range []string{
			filepath.Join(root, "link"),        // last component
			filepath.Join(root, "link", "sub"), // a middle one
		} {
			if d, err := OpenDir(p); !errors.Is(err, ErrSymlink) {
				if d != nil {
					d.Close()
				}
				t.Errorf("OpenDir(%q): got %v; want ErrSymlink", p, err)
			}
		}
		for _, p := range []string{"", root + "/real/../real", "../x"} {
			if _, err := OpenDir(p); !errors.Is(err, ErrBadName) {
				t.Errorf("OpenDir(%q): got %v; want ErrBadName", p, err)
			}
		}
		d := openT(t, filepath.Join(root, "real", "sub"))
		if got, want := d.Path(), filepath.Join(root, "real", "sub"); got != want {
			t.Errorf("Path: got %q; want %q", got, want)
		}
		if _, err := openT(t, root).OpenDir("link"); !errors.Is(err, ErrSymlink) {
			t.Errorf("Dir.OpenDir(link): got %v; want ErrSymlink", err)
		}
	})
}

// The threat of the pidfile: the service user owns the directory and
// plants NAME.tmp and NAME itself as symlinks to /etc/shadow. Replace (no
// fsync) keeps every guarantee of WriteFile but durability.
func TestWriteFileNeverWritesThrough(t *testing.T) {
	for _, w := range []struct {
		name  string
		write func(d *Dir, name string, b []byte, perm os.FileMode) error
	}{{"WriteFile", (*Dir).WriteFile}, {"Replace", (*Dir).Replace}} {
		t.Run(w.name, func(t *testing.T) {
			root, decoy := fixture(t)
			dir := filepath.Join(root, "real")
			must(t, os.Symlink(decoy, filepath.Join(dir, "p.pid.tmp")))
			must(t, os.Symlink(decoy, filepath.Join(dir, "p.pid")))
			d := openT(t, dir)
			must(t, w.write(d, "p.pid", []byte("42\n"), 0o640))
			checkDecoy(t, decoy)
			p := filepath.Join(dir, "p.pid")
			fi, err := os.Lstat(p)
			if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o640 {
				t.Fatalf("p.pid: got %v, %v; want a regular file of mode 0640", fi.Mode(), err)
			}
			if b, _ := os.ReadFile(p); string(b) != "42\n" {
				t.Errorf("p.pid: got %q; want %q", b, "42\n")
			}
			// No temporary file is left, and the planted one is untouched.
			names, _ := os.ReadDir(dir)
			if len(names) != 2 {
				t.Errorf("directory holds %v; want p.pid and the planted p.pid.tmp", names)
			}
		})
	}
}

// A directory swapped for a symlink after it was opened: the writes still
// go to the directory that was opened.
func TestDirSurvivesSwap(t *testing.T) {
	root, decoy := fixture(t)
	dir := filepath.Join(root, "work")
	must(t, os.Mkdir(dir, 0o755))
	d := openT(t, dir)
	must(t, os.Rename(dir, filepath.Join(root, "moved")))
	must(t, os.Symlink(root, dir)) // work -> root, where "shadow" is
	must(t, d.WriteFile("shadow", []byte("x"), 0o644))
	checkDecoy(t, decoy)
	if b, _ := os.ReadFile(filepath.Join(root, "moved", "shadow")); string(b) != "x" {
		t.Errorf("moved/shadow: got %q; want %q", b, "x")
	}
}

func TestReadFile(t *testing.T) {
	root, decoy := fixture(t)
	d := openT(t, root)
	must(t, os.Symlink(decoy, filepath.Join(root, "s")))
	if _, err := d.ReadFile("s", 100); !errors.Is(err, ErrSymlink) {
		t.Errorf("symlink: got %v; want ErrSymlink", err)
	}
	if b, err := d.ReadFile("shadow", 100); err != nil || string(b) != "root:secret\n" {
		t.Errorf("shadow: got %q, %v", b, err)
	}
	if _, err := d.ReadFile("shadow", 5); err == nil {
		t.Error("a file over the limit: got no error")
	}
	if _, err := d.ReadFile("none", 5); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("absent: got %v; want fs.ErrNotExist", err)
	}
	must(t, syscall.Mkfifo(filepath.Join(root, "fifo"), 0o600))
	done := make(chan error, 1)
	go func() { _, err := d.ReadFile("fifo", 5); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("fifo: got no error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reading a FIFO blocked")
	}
}

func TestCreateAndOpenFile(t *testing.T) {
	root, decoy := fixture(t)
	d := openT(t, root)
	must(t, os.Symlink(filepath.Join(root, "target"), filepath.Join(root, "dangling")))
	must(t, os.Symlink(decoy, filepath.Join(root, "s")))
	if _, err := d.Create("dangling", 0o600); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create over a dangling symlink: got %v; want fs.ErrExist", err)
	}
	if _, err := os.Lstat(filepath.Join(root, "target")); err == nil {
		t.Error("Create made the symlink's target")
	}
	if _, err := d.Create("shadow", 0o600); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create over a file: got %v; want fs.ErrExist", err)
	}
	if _, err := d.OpenFile("s", os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600); !errors.Is(err, ErrSymlink) {
		t.Errorf("OpenFile of a symlink: got %v; want ErrSymlink", err)
	}
	checkDecoy(t, decoy)
	f, err := d.Create("new", 0o600)
	must(t, err)
	f.Close()
	if _, err := d.OpenFile("real", os.O_RDONLY, 0); err == nil {
		t.Error("OpenFile of a directory: got no error")
	}
}

func TestRemoveIfContent(t *testing.T) {
	root, decoy := fixture(t)
	d := openT(t, root)
	mine := []byte("nameserver 10.0.0.1\n")
	must(t, os.WriteFile(filepath.Join(root, "resolv.conf"), mine, 0o644))
	must(t, os.WriteFile(filepath.Join(root, "hosts"), []byte("operator's\n"), 0o644))
	must(t, os.Symlink(decoy, filepath.Join(root, "s")))
	for _, c := range []struct {
		name string
		want []byte
		err  error
		kept bool
	}{
		{"hosts", []byte("operator"), ErrChanged, true},      // a prefix of it
		{"hosts", []byte("operator's\n+"), ErrChanged, true}, // longer
		{"s", []byte("root:secret\n"), ErrChanged, true},     // a symlink, even to equal content
		{"real", nil, ErrChanged, true},                      // a directory
		{"none", nil, fs.ErrNotExist, false},
		{"resolv.conf", mine, nil, false},
	} {
		err := d.RemoveIfContent(c.name, c.want)
		if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("RemoveIfContent(%q): got %v; want %v", c.name, err, c.err)
		}
		if _, serr := os.Lstat(filepath.Join(root, c.name)); (serr == nil) != c.kept {
			t.Errorf("%s: kept = %v; want %v", c.name, serr == nil, c.kept)
		}
	}
	checkDecoy(t, decoy)
}

func TestDirectories(t *testing.T) {
	root, _ := fixture(t)
	d := openT(t, root)
	must(t, d.Mkdir("n", 0o755))
	if err := d.Mkdir("n", 0o755); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Mkdir twice: got %v; want fs.ErrExist", err)
	}
	sub, err := d.OpenDir("n")
	must(t, err)
	must(t, sub.WriteFile("f", nil, 0o644))
	if err := d.RemoveDir("n"); err == nil {
		t.Error("RemoveDir of a non-empty directory: got no error")
	}
	must(t, sub.Remove("f"))
	sub.Close()
	must(t, d.RemoveDir("n"))
	if err := d.RemoveDir("link"); !errors.Is(err, ErrSymlink) {
		t.Errorf("RemoveDir of a symlink: got %v; want ErrSymlink", err)
	}
	if _, err := os.Stat(filepath.Join(root, "real")); err != nil {
		t.Errorf("the symlink's target: %v", err)
	}
}

func TestRemoveTemps(t *testing.T) {
	root, _ := fixture(t)
	d := openT(t, root)
	for _, n := range []string{".x.json.tmp-0123456789abcdef", "x.json", ".y.json.tmp-00", "x.json.tmp"} {
		must(t, os.WriteFile(filepath.Join(root, n), nil, 0o644))
	}
	must(t, d.RemoveTemps("x.json"))
	for n, kept := range map[string]bool{".x.json.tmp-0123456789abcdef": false, "x.json": true, ".y.json.tmp-00": true, "x.json.tmp": true} {
		if _, err := os.Lstat(filepath.Join(root, n)); (err == nil) != kept {
			t.Errorf("%s: kept = %v; want %v", n, err == nil, kept)
		}
	}
}

func TestBadNames(t *testing.T) {
	root, _ := fixture(t)
	d := openT(t, root)
	for _, n := range []string{"", ".", "..", "real/x", "../shadow", "a\x00b"} {
		errs := []error{
			d.WriteFile(n, nil, 0o644), d.Remove(n), d.RemoveDir(n), d.Mkdir(n, 0o755),
			d.RemoveIfContent(n, nil), d.RemoveTemps(n),
		}
		_, err := d.ReadFile(n, 1)
		errs = append(errs, err)
		_, err = d.OpenDir(n)
		errs = append(errs, err)
		for i, err := range errs {
			if !errors.Is(err, ErrBadName) {
				t.Errorf("name %q, call %d: got %v; want ErrBadName", n, i, err)
			}
		}
	}
	if b, _ := os.ReadFile(filepath.Join(root, "shadow")); !bytes.Equal(b, []byte("root:secret\n")) {
		t.Error("shadow changed")
	}
}
