package provision

import "os"

// writeFileAtomic writes through a temporary file and a rename.
// TODO(hostile-input): the pidfile moves to internal/safefile.
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
