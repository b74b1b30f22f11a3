package provision

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/netns-daemon/netns-daemon/internal/safefile"
)

// maxStateSize bounds what a state file may hold; a larger one is corrupt.
const maxStateSize = 4 << 20

// stateDir opens StateDir without following symlinks, making it if asked.
func stateDir(create bool) (*safefile.Dir, error) {
	if create {
		if err := os.MkdirAll(StateDir, 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w", StateDir, err)
		}
	}
	d, err := safefile.OpenDir(StateDir)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", StateDir, err)
	}
	return d, nil
}

// ReadState returns the saved state of name, or nil if there is none.
func ReadState(name string) (*State, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	d, err := stateDir(false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return readState(d, name)
}

func readState(d *safefile.Dir, name string) (*State, error) {
	b, err := d.ReadFile(name+".json", maxStateSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading state of %q: %w", name, err)
	}
	st, err := parseState(name, b)
	if err != nil {
		return nil, fmt.Errorf("reading state of %q: %s: %w: %w", name, statePath(name), ErrCorruptState, err)
	}
	return st, nil
}

// hasState reports whether name has a state file, without reading or
// parsing it (start's last step only needs to know).
func hasState(d *safefile.Dir, name string) bool {
	f, err := d.OpenFile(name+".json", os.O_RDONLY, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

func (st *State) save(d *safefile.Dir) error {
	b, err := st.marshal()
	if err == nil {
		// No fsync: the state is a write-ahead against a start or stop
		// that is killed, which the page cache survives. A power loss
		// ends the namespace and links it describes, and on the usual
		// tmpfs /run the state with them.
		err = d.Replace(st.Spec.Name+".json", b, 0o644)
	}
	if err != nil {
		return fmt.Errorf("writing state of %q: %w", st.Spec.Name, err)
	}
	return nil
}

func removeState(d *safefile.Dir, name string) error {
	if err := d.Remove(name + ".json"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing state of %q: %w", name, err)
	}
	return nil
}

// lock serialises start and stop of one name. The lock file is removed on
// unlock; a waiter that then holds a lock on the removed file retries.
type lock struct {
	f    *os.File
	d    *safefile.Dir
	name string
}

func lockName(name string) (*lock, error) {
	d, err := stateDir(true)
	if err != nil {
		return nil, err
	}
	file := name + ".lock"
	for {
		f, err := d.OpenFile(file, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("locking %q: %w", name, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			d.Close()
			return nil, fmt.Errorf("locking %q: %w", name, err)
		}
		var held, onDisk syscall.Stat_t
		if syscall.Fstat(int(f.Fd()), &held) == nil &&
			syscall.Lstat(filepath.Join(StateDir, file), &onDisk) == nil &&
			held.Ino == onDisk.Ino && held.Dev == onDisk.Dev {
			_ = d.RemoveTemps(name + ".json") // left by a start or stop that was killed
			return &lock{f: f, d: d, name: name}, nil
		}
		f.Close() // the file was removed while we waited
	}
}

// unlock releases the lock; remove also deletes the lock file.
func (l *lock) unlock(remove bool) {
	if remove {
		_ = l.d.Remove(l.name + ".lock")
	}
	l.f.Close()
	l.d.Close()
}
