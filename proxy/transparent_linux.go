package proxy

import "golang.org/x/sys/unix"

// setTransparent sets the socket's transparent bit. IP_TRANSPARENT and
// IPV6_TRANSPARENT set the same flag; an AF_INET6 socket (Go uses one
// dual-stack for wildcard binds) takes the v6 option.
func setTransparent(fd int, network string) error {
	if network == "tcp6" {
		return unix.SetsockoptInt(fd, unix.SOL_IPV6, unix.IPV6_TRANSPARENT, 1)
	}
	return unix.SetsockoptInt(fd, unix.SOL_IP, unix.IP_TRANSPARENT, 1)
}
