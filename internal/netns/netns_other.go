//go:build !linux

package netns

import "syscall"

// Control is the hook a net.Dialer or net.ListenConfig calls.
type Control = func(network, address string, c syscall.RawConn) error

func Open(string) (Handle, error)                       { return Handle{}, ErrUnsupported }
func OpenFile(string) (Handle, error)                   { return Handle{}, ErrUnsupported }
func Current() (Handle, error)                          { return Handle{}, ErrUnsupported }
func Self() (Handle, error)                             { return Handle{}, ErrUnsupported }
func StatPath(string) (ID, error)                       { return ID{}, ErrUnsupported }
func (h *Handle) Close() error                          { return nil }
func (h Handle) Dup() (Handle, error)                   { return Handle{}, ErrUnsupported }
func (h Handle) Cookie() (uint64, error)                { return 0, ErrUnsupported }
func ThreadCookie() (uint64, error)                     { return 0, ErrUnsupported }
func Do(Handle, func() error) error                     { return ErrUnsupported }
func New(func() error) error                            { return ErrUnsupported }
func SocketIn(_, _ Handle, _ func(Control) error) error { return ErrUnsupported }
func EnterForExec(Handle) error                         { return ErrUnsupported }
