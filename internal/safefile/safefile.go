// Package safefile reads and writes root-owned files without ever following
// a symlink: a directory is opened once (no symlink in any component of its
// path) and every file operation is relative to that descriptor, on a single
// name that is itself never followed.
//
// What it protects against: a symlink or a swapped directory planted by
// someone who can write in a directory on the way (a service user owning a
// pidfile's directory, say) that would make root write, truncate or remove
// a file elsewhere. Temporary files have unpredictable names and are
// created with O_EXCL, so a planted name is never written through.
package safefile

import "errors"

// ErrSymlink marks a path with a symlink where a real file or directory was
// required.
var ErrSymlink = errors.New("is a symlink or has one in its path")

// ErrChanged marks a file that RemoveIfContent left in place: it is not a
// regular file or its content is not the one given.
var ErrChanged = errors.New("content is not what was written")

// ErrBadName marks a name that is not a single path component.
var ErrBadName = errors.New("not a single file name")

// ErrUnsupported is returned on systems without the Linux *at calls.
var ErrUnsupported = errors.New("safefile: not supported on this system")

// Dir is an open directory. Its methods take a single file name (no '/',
// not "." or ".."), never follow a symlink at that name, and act on the
// directory that was opened even if its path is later renamed.
type Dir struct {
	fd   int
	path string
}

// Path is the path the directory was opened by, for messages.
func (d *Dir) Path() string { return d.path }

// checkName refuses anything but a single path component.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." {
		return ErrBadName
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' || name[i] == 0 {
			return ErrBadName
		}
	}
	return nil
}

func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}
