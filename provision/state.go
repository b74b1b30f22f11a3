package provision

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// StateDir holds one state file per provisioned namespace.
var StateDir = "/run/netns-daemon"

// State is what start has done, written before each step so that stop can
// undo exactly that, even after start was killed mid-way.
type State struct {
	Version  int      `json:"version"`
	Spec     *Spec    `json:"spec"`
	Steps    []string `json:"steps"`
	Begun    int      `json:"begun"` // index of the last step started; -1 = none
	Complete bool     `json:"complete"`
	PID      int      `json:"pid"`
}

func statePath(name string) string { return filepath.Join(StateDir, name+".json") }

// ReadState returns the saved state of name, or nil if there is none.
func ReadState(name string) (*State, error) {
	b, err := os.ReadFile(statePath(name))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading state of %q: %w", name, err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil || st.Spec == nil {
		return nil, fmt.Errorf("reading state of %q: %s: corrupt state file", name, statePath(name))
	}
	st.Spec.Name = name
	return &st, nil
}

func (st *State) save() error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(statePath(st.Spec.Name), b, 0o644); err != nil {
		return fmt.Errorf("writing state of %q: %w", st.Spec.Name, err)
	}
	return nil
}

func removeState(name string) error {
	if err := os.Remove(statePath(name)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("removing state of %q: %w", name, err)
	}
	return nil
}

// lock serialises start and stop of one name. The lock file is removed on
// unlock; a waiter that then holds a lock on the removed file retries.
type lock struct {
	f    *os.File
	path string
}

func lockName(name string) (*lock, error) {
	if err := os.MkdirAll(StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", StateDir, err)
	}
	path := filepath.Join(StateDir, name+".lock")
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("locking %q: %w", name, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %q: %w", name, err)
		}
		var held, onDisk syscall.Stat_t
		if syscall.Fstat(int(f.Fd()), &held) == nil && syscall.Stat(path, &onDisk) == nil &&
			held.Ino == onDisk.Ino && held.Dev == onDisk.Dev {
			return &lock{f: f, path: path}, nil
		}
		f.Close() // the file was removed while we waited
	}
}

// unlock releases the lock; remove also deletes the lock file.
func (l *lock) unlock(remove bool) {
	if remove {
		os.Remove(l.path)
	}
	l.f.Close()
}

// writeFileAtomic writes through a temporary file and a rename, so readers
// never see half a file.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
