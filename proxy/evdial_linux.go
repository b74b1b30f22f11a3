package proxy

import (
	"fmt"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// connectIn starts a non-blocking connect to dst from a socket born in
// namespace ns (through socketIn, like every socket of the proxy), bound
// to source if valid. It returns the socket; completion shows as
// EPOLLOUT (or an error) in the event loop.
func (t *nsTable) connectIn(ns string, dst netip.AddrPort, source netip.Addr) (int, error) {
	dst = netip.AddrPortFrom(dst.Addr().Unmap(), dst.Port())
	family := unix.AF_INET6
	if dst.Addr().Is4() {
		family = unix.AF_INET
	}
	fd := -1
	open := func(back controlFunc) error {
		s, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("dial tcp %s: socket: %w", dst, err)
		}
		fd = s
		if back != nil {
			return back("", "", nil) // out of ns at once, as a Dialer's Control hook goes
		}
		return nil
	}
	err := t.socketIn(ns, open)
	if err != nil {
		closeFd(fd)
		return -1, err
	}
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if source.IsValid() {
		var sa rawSockaddr
		n := sa.set(netip.AddrPortFrom(source, 0), family)
		if _, _, e := unix.RawSyscall(unix.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(&sa)), uintptr(n)); e != 0 {
			closeFd(fd)
			return -1, fmt.Errorf("dial tcp %s: bind %s: %w", dst, source, e)
		}
	}
	var sa rawSockaddr
	n := sa.set(dst, family)
	_, _, e := unix.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), uintptr(n))
	if e != 0 && e != unix.EINPROGRESS {
		closeFd(fd)
		return -1, fmt.Errorf("dial tcp %s: connect: %w", dst, e)
	}
	return fd, nil
}

// rawSockaddr is a sockaddr_in or sockaddr_in6, built without allocating.
type rawSockaddr struct {
	b [unix.SizeofSockaddrInet6]byte
}

// set fills the sockaddr for a in family and returns its length; a v4
// address in an AF_INET6 socket is v4-mapped.
func (sa *rawSockaddr) set(a netip.AddrPort, family int) int {
	port := a.Port()
	if family == unix.AF_INET {
		s := (*unix.RawSockaddrInet4)(unsafe.Pointer(&sa.b))
		s.Family = unix.AF_INET
		s.Port = port>>8 | port<<8
		s.Addr = a.Addr().As4()
		return unix.SizeofSockaddrInet4
	}
	s := (*unix.RawSockaddrInet6)(unsafe.Pointer(&sa.b))
	s.Family = unix.AF_INET6
	s.Port = port>>8 | port<<8
	s.Addr = a.Addr().As16()
	return unix.SizeofSockaddrInet6
}
