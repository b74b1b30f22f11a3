//go:build !linux

package safefile

import "os"

// OpenDir needs Linux's openat2 or O_NOFOLLOW *at calls.
func OpenDir(path string) (*Dir, error) { return nil, ErrUnsupported }

func (d *Dir) Close() error                                    { return ErrUnsupported }
func (d *Dir) OpenDir(name string) (*Dir, error)               { return nil, ErrUnsupported }
func (d *Dir) Mkdir(name string, perm os.FileMode) error       { return ErrUnsupported }
func (d *Dir) RemoveDir(name string) error                     { return ErrUnsupported }
func (d *Dir) ReadFile(name string, max int64) ([]byte, error) { return nil, ErrUnsupported }
func (d *Dir) WriteFile(name string, data []byte, perm os.FileMode) error {
	return ErrUnsupported
}
func (d *Dir) Replace(name string, data []byte, perm os.FileMode) error { return ErrUnsupported }
func (d *Dir) Create(name string, perm os.FileMode) (*os.File, error)   { return nil, ErrUnsupported }
func (d *Dir) OpenFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	return nil, ErrUnsupported
}
func (d *Dir) Remove(name string) error                       { return ErrUnsupported }
func (d *Dir) RemoveIfContent(name string, want []byte) error { return ErrUnsupported }
func (d *Dir) RemoveTemps(name string) error                  { return ErrUnsupported }
