package main

import (
	"fmt"
	"strings"

	"github.com/netns-daemon/netns-daemon/provision"
)

// flags are the command line; they override the TOML file.
type flags struct {
	Config    string `short:"c" type:"existingfile" placeholder:"FILE" help:"TOML spec (see README)."`
	HostNetns string `name:"host-netns" placeholder:"NAME" help:"Namespace that plays the host (default: this process's own)."`

	Network       []string `placeholder:"CIDR" help:"Inbound address (a veth unless --inbound-kind says otherwise)."`
	PeerAddress   []string `name:"peer-address" placeholder:"CIDR" help:"Address of the inbound veth's host side."`
	InboundKind   string   `name:"inbound-kind" enum:",veth,macvlan,device" default:"" help:"veth, macvlan or device."`
	InboundParent string   `name:"inbound-parent" placeholder:"DEV" help:"Macvlan parent, or the device to move in."`

	Outbound            []string `placeholder:"CIDR" help:"Outbound address."`
	OutboundPeerAddress []string `name:"outbound-peer-address" placeholder:"CIDR" help:"Address of the outbound veth's host side (default: the gateway)."`
	Gateway             string   `placeholder:"IP" help:"IPv4 default route, via the outbound interface."`
	Gateway6            string   `name:"gateway6" aliases:"gateway-6" placeholder:"IP" help:"IPv6 default route, via the outbound interface."`
	OutboundKind        string   `name:"outbound-kind" enum:",veth,macvlan,device" default:"" help:"veth, macvlan or device."`
	OutboundParent      string   `name:"outbound-parent" placeholder:"DEV" help:"Macvlan parent, or the device to move in."`

	ReplyVia   string   `name:"reply-via" placeholder:"IP" help:"Replies from inbound leave through this router of the inbound network."`
	ReplyVia6  string   `name:"reply-via6" placeholder:"IP" help:"The same for IPv6."`
	Masquerade string   `placeholder:"IFACE" help:"The host NATs the (veth) outbound network out of this host interface."`
	EgressOnly []string `name:"egress-only" placeholder:"IFACE" help:"Leak guard: new outgoing traffic leaves only through these interfaces (and lo)."`
	Publish    []string `placeholder:"PROTO:HOST=TO" help:"Forward a host port into the namespace, e.g. tcp:0.0.0.0:8080=10.1.0.5:80."`

	Nameserver []string          `placeholder:"IP" help:"Nameserver for /etc/netns/NAME/resolv.conf."`
	Sysctl     map[string]string `placeholder:"KEY=VALUE" help:"Sysctl applied inside the namespace."`

	DryRun   bool `name:"dry-run" help:"Print the plan as ip/sysctl commands (on a provisioned name: only the difference); change nothing."`
	Recreate bool `help:"On a provisioned name, delete the namespace (ending the processes inside) and make it again instead of changing it in place."`
	JSON     bool `help:"Print the result (interfaces, addresses, routes) as JSON."`
	Quiet    bool `short:"q" help:"No log lines and no summary; errors only."`

	User    string `placeholder:"USER" help:"Exec mode: run CMD as this user (name or id), with its groups."`
	Group   string `placeholder:"GROUP" help:"Exec mode: run CMD with this group."`
	Pidfile string `placeholder:"FILE" help:"Exec mode: write the PID (which CMD keeps) here before exec."`
	Chdir   string `placeholder:"DIR" help:"Exec mode: run CMD in this directory."`
	Proxy   string `placeholder:"FILE" help:"Exec mode: run the bundled netns-proxy -c FILE as CMD."`
	Join    bool   `help:"Enter the existing namespace NAME and exec CMD there; provision nothing."`

	Name    string   `arg:"" help:"Namespace name ([A-Za-z0-9._-], 1-64 characters)."`
	Command []string `arg:"" optional:"" passthrough:"" placeholder:"-- CMD [ARGS]" help:"Exec mode: the daemon to run inside, replacing this process."`
}

// execSpec lays the exec flags over the [exec] table.
func (f *flags) execSpec(s provision.ExecSpec) provision.ExecSpec {
	for _, o := range []struct {
		dst *string
		v   string
	}{
		{&s.User, f.User}, {&s.Group, f.Group}, {&s.Pidfile, f.Pidfile}, {&s.Chdir, f.Chdir},
	} {
		if o.v != "" {
			*o.dst = o.v
		}
	}
	return s
}

// spec loads the file, if any, and lays the flags over it.
func (f *flags) spec() (*provision.Spec, error) {
	s := &provision.Spec{}
	if f.Config != "" {
		var err error
		if s, err = provision.LoadFile(f.Config); err != nil {
			return nil, err
		}
	}
	s.Name = f.Name
	if f.HostNetns != "" {
		s.HostNetns = f.HostNetns
	}
	side := func(cur **provision.Iface, addrs, peers []string, kind, parent string) *provision.Iface {
		if len(addrs) == 0 && len(peers) == 0 && kind == "" && parent == "" {
			return *cur
		}
		if *cur == nil {
			*cur = &provision.Iface{}
		}
		ifc := *cur
		if len(addrs) > 0 {
			ifc.Addresses = addrs
		}
		if len(peers) > 0 {
			ifc.PeerAddresses = peers
		}
		if kind != "" {
			ifc.Kind = kind
		}
		if parent != "" {
			ifc.Parent = parent
		}
		return ifc
	}
	side(&s.Inbound, f.Network, f.PeerAddress, f.InboundKind, f.InboundParent)
	out := side(&s.Outbound, f.Outbound, f.OutboundPeerAddress, f.OutboundKind, f.OutboundParent)
	if f.Gateway != "" || f.Gateway6 != "" {
		if out == nil {
			return nil, fmt.Errorf("%w: --gateway needs an outbound interface (--outbound CIDR)", provision.ErrInvalidSpec)
		}
		if f.Gateway != "" {
			out.Gateway = f.Gateway
		}
		if f.Gateway6 != "" {
			out.Gateway6 = f.Gateway6
		}
	}
	if err := f.egress(s); err != nil {
		return nil, err
	}
	if len(f.Nameserver) > 0 {
		s.DNS.Nameservers = f.Nameserver
	}
	for k, v := range f.Sysctl {
		if s.Sysctl == nil {
			s.Sysctl = map[string]string{}
		}
		s.Sysctl[strings.TrimSpace(k)] = v
	}
	return s, nil
}

// egress lays the egress flags over the spec.
func (f *flags) egress(s *provision.Spec) error {
	if f.ReplyVia != "" || f.ReplyVia6 != "" {
		if s.Inbound == nil {
			return fmt.Errorf("%w: --reply-via needs an inbound interface (--network CIDR)", provision.ErrInvalidSpec)
		}
		if f.ReplyVia != "" {
			s.Inbound.ReplyVia = f.ReplyVia
		}
		if f.ReplyVia6 != "" {
			s.Inbound.ReplyVia6 = f.ReplyVia6
		}
	}
	if f.Masquerade != "" {
		if s.Outbound == nil {
			return fmt.Errorf("%w: --masquerade needs an outbound interface (--outbound CIDR)", provision.ErrInvalidSpec)
		}
		s.Outbound.Masquerade = f.Masquerade
	}
	if len(f.EgressOnly) > 0 {
		s.Egress.Only = f.EgressOnly
	}
	for _, p := range f.Publish {
		proto, rest, ok1 := strings.Cut(p, ":")
		host, to, ok2 := strings.Cut(rest, "=")
		if !ok1 || !ok2 {
			return fmt.Errorf("%w: --publish %q: want PROTO:HOST:PORT=ADDR:PORT (tcp:0.0.0.0:8080=10.1.0.5:80)", provision.ErrInvalidSpec, p)
		}
		s.Publish = append(s.Publish, provision.Publish{Proto: proto, Host: host, To: to})
	}
	return nil
}
