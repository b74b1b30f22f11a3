package provision

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// resolveRootLinks follows the symlinks in an absolute directory path that
// only root could have made — owned by root, in a root-owned directory no
// one else may write — such as Debian's /var/run -> /run. Any other
// symlink is left in place, for safefile.OpenDir to refuse.
func resolveRootLinks(dir string) string {
	if !filepath.IsAbs(dir) {
		return dir
	}
	parts := split(dir)
	out := "/"
	for i, hops := 0, 0; i < len(parts); i++ {
		next := filepath.Join(out, parts[i])
		fi, err := os.Lstat(next)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			out = next
			continue
		}
		target, err := os.Readlink(next)
		if err != nil || hops >= 8 || !rootOwned(fi) || !rootOnlyDir(out) {
			return dir
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(out, target)
		}
		parts, i, out, hops = append(split(target), parts[i+1:]...), -1, "/", hops+1
	}
	return out
}

func split(p string) []string {
	if p = strings.Trim(filepath.Clean(p), "/"); p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func rootOwned(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid == 0
}

// rootOnlyDir reports whether only root may change the directory dir.
func rootOnlyDir(dir string) bool {
	fi, err := os.Lstat(dir)
	return err == nil && fi.IsDir() && rootOwned(fi) && fi.Mode().Perm()&0o022 == 0
}
