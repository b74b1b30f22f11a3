package proxy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// isLocal reports whether a connect to a from namespace ns would be
// delivered to that namespace itself: the kernel's route lookup for a,
// asked through a netlink socket made in ns, gives a local route
// (RTN_LOCAL). A probe bind would not do: with ip_nonlocal_bind every
// address binds.
func (t *nsTable) isLocal(ns string, a netip.Addr) (bool, error) {
	fd := -1
	err := t.socketIn(ns, func(back controlFunc) error {
		s, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
		if err != nil {
			return fmt.Errorf("opening a netlink socket: %w", err)
		}
		fd = s
		return back("", "", nil) // out of ns at once, as a Dialer's Control hook goes
	})
	if fd >= 0 {
		defer unix.Close(fd)
	}
	if err != nil {
		return false, fmt.Errorf("asking namespace %q for the route to %s: %w", ns, a, err)
	}
	typ, err := routeType(fd, a)
	if err != nil {
		return false, fmt.Errorf("asking namespace %q for the route to %s: %w", ns, a, err)
	}
	return typ == unix.RTN_LOCAL, nil
}

// routeType sends one RTM_GETROUTE for a on netlink socket fd and returns
// the route's type; no route (unreachable) is RTN_UNREACHABLE.
func routeType(fd int, a netip.Addr) (uint8, error) {
	ne := binary.NativeEndian
	const hdr, rtm, rta = unix.SizeofNlMsghdr, unix.SizeofRtMsg, unix.SizeofRtAttr
	addr := a.AsSlice()
	b := make([]byte, hdr+rtm+rta+len(addr))
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], unix.RTM_GETROUTE)
	ne.PutUint16(b[6:], unix.NLM_F_REQUEST)
	ne.PutUint32(b[8:], 1) // sequence; the socket asks once
	b[hdr] = unix.AF_INET
	if a.Is6() {
		b[hdr] = unix.AF_INET6
	}
	b[hdr+1] = byte(8 * len(addr)) // rtm_dst_len
	ne.PutUint16(b[hdr+rtm:], uint16(rta+len(addr)))
	ne.PutUint16(b[hdr+rtm+2:], unix.RTA_DST)
	copy(b[hdr+rtm+rta:], addr)
	tv := unix.Timeval{Sec: 1}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return 0, err
	}
	if err := unix.Sendto(fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, err
	}
	buf := make([]byte, 4096)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return 0, err
	}
	msgs, err := syscall.ParseNetlinkMessage(buf[:n])
	if err != nil {
		return 0, err
	}
	for _, m := range msgs {
		switch m.Header.Type {
		case unix.NLMSG_ERROR:
			if len(m.Data) < 4 {
				return 0, errors.New("short netlink error")
			}
			switch errno := syscall.Errno(-int32(ne.Uint32(m.Data))); errno {
			case unix.ENETUNREACH, unix.EHOSTUNREACH:
				return unix.RTN_UNREACHABLE, nil
			default:
				return 0, errno
			}
		case unix.RTM_NEWROUTE:
			if len(m.Data) < rtm {
				return 0, errors.New("short route message")
			}
			return m.Data[7], nil // rtm_type
		}
	}
	return 0, errors.New("no route in the answer")
}
