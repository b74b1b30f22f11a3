//go:build linux

// Command floor is the floor of `make bench` (issue 9): the kernel work of
// one start of the seed topology, and of its stop, done in-process with
// netlink and nothing else (no validation, no state, no logging, no
// checks). The bench times it as a process, from exec to exit, as it
// times netns-daemon-start and -stop.
//
//	floor start NAME HOSTNS PEER_IN PEER_OUT IN_NET OUT_NET   (nets as "10.64.3")
//	floor stop NAME
//	floor addr add|del NAME DEV CIDR
//
// Namespaces are entered only through internal/netns.
package main

import (
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	xnetns "github.com/netns-daemon/netns-daemon/internal/netns"
)

func main() {
	var err error
	switch a := os.Args[1:]; {
	case len(a) == 7 && a[0] == "start":
		err = start(a[1], a[2], a[3], a[4], a[5], a[6])
	case len(a) == 2 && a[0] == "stop":
		err = stop(a[1])
	case len(a) == 5 && a[0] == "addr":
		err = addr(a[1] == "add", a[2], a[3], a[4])
	default:
		err = errors.New("usage: floor start NAME HOSTNS PEER_IN PEER_OUT IN_NET OUT_NET | stop NAME | addr add|del NAME DEV CIDR")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func ipnet(s string) *net.IPNet {
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	n.IP = ip
	return n
}

// openNL opens an rtnetlink socket inside h.
func openNL(h xnetns.Handle) (*netlink.Handle, error) {
	var nl *netlink.Handle
	err := xnetns.Do(h, func() (err error) {
		nl, err = netlink.NewHandle(unix.NETLINK_ROUTE)
		return err
	})
	return nl, err
}

func start(name, hostns, peerIn, peerOut, in, out string) error {
	path := "/run/netns/" + name
	host, err := xnetns.Open("/run/netns/" + hostns)
	if err != nil {
		return err
	}
	hnl, err := openNL(host)
	if err != nil {
		return err
	}
	// As ip netns add: /run/netns a shared mount, an empty file to bind on.
	if err := unix.Mount("", "/run/netns", "none", unix.MS_SHARED|unix.MS_REC, ""); err != nil {
		return err
	}
	fd, err := unix.Open(path, unix.O_CREAT|unix.O_EXCL|unix.O_RDONLY|unix.O_CLOEXEC, 0o444)
	if err != nil {
		return err
	}
	_ = unix.Close(fd)
	// Everything inside runs on the one thread the new namespace is made on.
	return xnetns.New(func() error {
		if err := unix.Mount("/proc/thread-self/ns/net", path, "none", unix.MS_BIND, ""); err != nil {
			return err
		}
		self, err := xnetns.Current()
		if err != nil {
			return err
		}
		defer func() { _ = self.Close() }()
		nl, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return err
		}
		defer nl.Close()
		if err := nl.LinkSetUp(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: 1}}); err != nil {
			return fmt.Errorf("lo up: %w", err)
		}
		for _, v := range []struct{ inside, peer, net string }{{"in0", peerIn, in}, {"out0", peerOut, out}} {
			la := netlink.NewLinkAttrs()
			la.Name, la.Flags = v.peer, net.FlagUp
			veth := &netlink.Veth{LinkAttrs: la, PeerName: v.inside, PeerNamespace: netlink.NsFd(self.Fd())}
			if err := hnl.LinkAdd(veth); err != nil {
				return fmt.Errorf("veth %s: %w", v.peer, err)
			}
			if err := hnl.AddrAdd(veth, &netlink.Addr{IPNet: ipnet(v.net + ".1/24")}); err != nil {
				return err
			}
			l, err := nl.LinkByName(v.inside)
			if err != nil {
				return err
			}
			if err := nl.LinkSetUp(l); err != nil {
				return err
			}
			if err := nl.AddrAdd(l, &netlink.Addr{IPNet: ipnet(v.net + ".5/24")}); err != nil {
				return err
			}
			if v.inside == "out0" {
				if err := nl.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Gw: net.ParseIP(v.net + ".1").To4()}); err != nil {
					return err
				}
			}
		}
		// /proc/sys/net is the namespace of the thread that opens it.
		for k, v := range map[string]string{
			"ipv4/conf/all/rp_filter": "1", "ipv4/conf/in0/rp_filter": "2",
			"ipv4/conf/out0/rp_filter": "1", "ipv4/conf/out0/arp_notify": "1",
		} {
			if err := os.WriteFile("/proc/sys/net/"+k, []byte(v), 0); err != nil {
				return err
			}
		}
		// The DNS file, as start writes it.
		if err := os.MkdirAll("/etc/netns/"+name, 0o755); err != nil {
			return err
		}
		return os.WriteFile("/etc/netns/"+name+"/resolv.conf", []byte("nameserver "+out+".1\n"), 0o644)
	})
}

// stop unmounts and removes the namespace file (the kernel reaps the
// namespace and its veths asynchronously) and the DNS directory.
func stop(name string) error {
	path := "/run/netns/" + name
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil {
		return err
	}
	if err := unix.Unlink(path); err != nil {
		return err
	}
	if err := unix.Unlink("/etc/netns/" + name + "/resolv.conf"); err != nil {
		return err
	}
	return unix.Rmdir("/etc/netns/" + name)
}

// addr adds (or deletes) one address: a Go process start plus one netlink
// call in the namespace.
func addr(add bool, name, dev, cidr string) error {
	ns, err := xnetns.Open("/run/netns/" + name)
	if err != nil {
		return err
	}
	nl, err := openNL(ns)
	if err != nil {
		return err
	}
	l := &netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: dev}}
	a := &netlink.Addr{IPNet: ipnet(cidr)}
	if add {
		return nl.AddrAdd(l, a)
	}
	return nl.AddrDel(l, a)
}
