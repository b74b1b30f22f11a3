package provision

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/netns-daemon/netns-daemon/internal/safefile"
)

// maxEtcFile bounds what is read back of a file in /etc/netns/NAME.
const maxEtcFile = 1 << 20

func etcDir(k *kernel) (*safefile.Dir, error) {
	parent, err := safefile.OpenDir(EtcNetnsDir)
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	return parent.OpenDir(k.n.ns)
}

// create makes /etc/netns/NAME unless it is there; one that was there (the
// operator's) is recorded as found and never removed.
func (dirObj) create(k *kernel, r *record) error {
	if err := os.MkdirAll(EtcNetnsDir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", EtcNetnsDir, err)
	}
	parent, err := safefile.OpenDir(EtcNetnsDir)
	if err != nil {
		return err
	}
	defer parent.Close()
	err = parent.Mkdir(k.n.ns, 0o755)
	if errors.Is(err, fs.ErrExist) {
		d, err := parent.OpenDir(k.n.ns) // refuses a symlink
		if err != nil {
			return err
		}
		d.Close()
		r.Existed = true
		return nil
	}
	return err
}

func (dirObj) remove(k *kernel, r *record) error {
	if r.Existed {
		return nil
	}
	parent, err := safefile.OpenDir(EtcNetnsDir)
	if err != nil {
		return nil
	}
	defer parent.Close()
	if err := parent.RemoveDir(k.n.ns); err != nil && !errors.Is(err, fs.ErrNotExist) {
		k.warn(fmt.Sprintf("%s/%s left in place: %v", EtcNetnsDir, k.n.ns, err))
	}
	return nil
}

func (dirObj) observe(k *kernel, _ *record) string {
	d, err := etcDir(k)
	if err != nil {
		return "missing"
	}
	d.Close()
	return ""
}

// create writes a file that must not exist: start never overwrites a file
// it did not write.
func (f fileObj) create(k *kernel, _ *record) error {
	d, err := etcDir(k)
	if err != nil {
		return err
	}
	defer d.Close()
	w, err := d.Create(f.Name, 0o644)
	if err != nil {
		return fmt.Errorf("writing %s: %w", f.path(k), err)
	}
	_, err = w.WriteString(f.Body)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = d.Remove(f.Name)
		return fmt.Errorf("writing %s: %w", f.path(k), err)
	}
	return nil
}

// update replaces a file start wrote, if it still holds what start wrote.
func (f fileObj) update(k *kernel, was fileObj) error {
	d, err := etcDir(k)
	if err != nil {
		return err
	}
	defer d.Close()
	got, err := d.ReadFile(f.Name, maxEtcFile)
	if err != nil {
		return fmt.Errorf("reading %s: %w", f.path(k), err)
	}
	if string(got) != was.Body {
		return fmt.Errorf("updating %s: changed since start wrote it: %w", f.path(k), safefile.ErrChanged)
	}
	return d.WriteFile(f.Name, []byte(f.Body), 0o644)
}

// remove deletes the file only if it still holds what start wrote.
func (f fileObj) remove(k *kernel, _ *record) error {
	d, err := etcDir(k)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer d.Close()
	err = d.RemoveIfContent(f.Name, []byte(f.Body))
	switch {
	case errors.Is(err, safefile.ErrChanged):
		k.warn(fmt.Sprintf("%s changed since start wrote it: left in place", f.path(k)))
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	return nil
}

func (f fileObj) observe(k *kernel, _ *record) string {
	d, err := etcDir(k)
	if err != nil {
		return "missing"
	}
	defer d.Close()
	got, err := d.ReadFile(f.Name, maxEtcFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "missing"
	case err != nil:
		return err.Error()
	case string(got) != f.Body:
		return "changed"
	}
	return ""
}

func (f fileObj) path(k *kernel) string { return filepath.Join(EtcNetnsDir, k.n.ns, f.Name) }
