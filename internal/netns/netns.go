// Package netns is the one place that enters network namespaces. Everything
// else asks it for a Handle, a Do on a locked thread, a socket born inside,
// or the exec entry; nothing else calls setns or unshare(CLONE_NEWNET).
//
// setns changes the calling OS thread only. Do runs its function on a
// goroutine that locks its thread, switches, runs, switches back; if the
// switch back fails the goroutine ends still locked, so the Go runtime
// discards the thread instead of reusing it in the wrong namespace.
package netns

import (
	"errors"
	"fmt"
)

// ID is a namespace's identity: the device and inode of its nsfs file. Two
// handles name the same namespace exactly when their IDs are equal; a path
// says nothing (it can be re-bound or replaced at any time).
type ID struct {
	Dev uint64 `json:"dev"`
	Ino uint64 `json:"ino"`
}

// IsZero reports whether id is unset.
func (id ID) IsZero() bool { return id == ID{} }

func (id ID) String() string { return fmt.Sprintf("%d:%d", id.Dev, id.Ino) }

// ErrNotNamespace means a path or descriptor is not a network namespace
// (a plain file, a symlink, another kind of namespace).
var ErrNotNamespace = errors.New("not a network namespace")

// ErrThreadStuck means a thread could not return to its namespace: it stays
// locked to its goroutine, which must end so the runtime discards it.
var ErrThreadStuck = errors.New("thread stuck in another namespace")

// ErrUnsupported is returned on systems without network namespaces.
var ErrUnsupported = errors.New("network namespaces need Linux")

// Handle is an open network namespace. The zero Handle is not open.
type Handle struct {
	fd int // fd+1, so that the zero value is closed
	id ID
}

// IsOpen reports whether h holds a namespace.
func (h Handle) IsOpen() bool { return h.fd > 0 }

// Fd is the namespace's file descriptor (for netlink's NsFd and the like).
func (h Handle) Fd() int { return h.fd - 1 }

// ID is the namespace's identity, read when it was opened.
func (h Handle) ID() ID { return h.id }
