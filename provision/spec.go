// Package provision gives a daemon its own network namespace: inbound and
// outbound interfaces, addresses, routes, sysctls and /etc/netns files, made
// as a plan of reversible steps (start, stop, rollback and dry-run all come
// from the one plan).
package provision

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"

	"github.com/BurntSushi/toml"
)

// ErrInvalidSpec marks bad input: nothing was touched (exit status 2).
var ErrInvalidSpec = errors.New("invalid spec")

// Interface kinds.
const (
	KindVeth    = "veth"
	KindMacvlan = "macvlan"
	KindDevice  = "device"
)

// Spec is what a namespace should look like. Its TOML form is the
// configuration file; Name comes from the command line.
type Spec struct {
	Name      string            `toml:"-" json:"name"`
	HostNetns string            `toml:"host_netns" json:"host_netns,omitempty"`
	Inbound   *Iface            `toml:"inbound" json:"inbound,omitempty"`
	Outbound  *Iface            `toml:"outbound" json:"outbound,omitempty"`
	Sysctl    map[string]string `toml:"sysctl" json:"sysctl,omitempty"`
	DNS       DNS               `toml:"dns" json:"dns"`
	Egress    Egress            `toml:"egress" json:"egress"`
	Publish   []Publish         `toml:"publish" json:"publish,omitempty"`
	Exec      ExecSpec          `toml:"exec" json:"-"` // how to run the daemon; not part of the namespace
	// NetnsFile, when set, is a namespace that exists already (a
	// container's, for the CNI plugin): provisioned into, never made or
	// deleted; Name then only names the state.
	NetnsFile string `toml:"-" json:"netns_file,omitempty"`
}

// Iface is one side of the namespace: inbound (where clients come in) or
// outbound (the only one with a default route).
type Iface struct {
	Kind          string   `toml:"kind" json:"kind"`
	Name          string   `toml:"name" json:"name"`
	Peer          string   `toml:"peer" json:"peer,omitempty"`
	PeerAddresses []string `toml:"peer_addresses" json:"peer_addresses,omitempty"`
	Bridge        string   `toml:"bridge" json:"bridge,omitempty"`
	Parent        string   `toml:"parent" json:"parent,omitempty"`
	Mode          string   `toml:"mode" json:"mode,omitempty"`
	Addresses     []string `toml:"addresses" json:"addresses,omitempty"`
	MTU           int      `toml:"mtu" json:"mtu,omitempty"`
	MAC           string   `toml:"mac" json:"mac,omitempty"`
	Routes        []Route  `toml:"routes" json:"routes,omitempty"`
	RPFilter      string   `toml:"rp_filter" json:"rp_filter"`
	Hairpin       bool     `toml:"hairpin" json:"hairpin,omitempty"`
	Gateway       string   `toml:"gateway" json:"gateway,omitempty"`
	Gateway6      string   `toml:"gateway6" json:"gateway6,omitempty"`
	// Egress (validate_egress.go): replies through a router of the
	// inbound network, NAT of the outbound network by the host.
	ReplyVia   string `toml:"reply_via" json:"reply_via,omitempty"`
	ReplyVia6  string `toml:"reply_via6" json:"reply_via6,omitempty"`
	Masquerade string `toml:"masquerade" json:"masquerade,omitempty"`
}

// Egress guards what leaves the namespace.
type Egress struct {
	// Only, when set, are the interfaces new outgoing traffic may leave
	// through (lo always may).
	Only []string `toml:"only" json:"only,omitempty"`
	// IPv6 false disables IPv6 on every interface of the namespace.
	IPv6 *bool `toml:"ipv6" json:"ipv6,omitempty"`
}

// Publish is a host port forwarded into the namespace by the kernel (DNAT).
type Publish struct {
	Proto string `toml:"proto" json:"proto"`
	Host  string `toml:"host" json:"host"`
	To    string `toml:"to" json:"to"`
}

// Route is a static route out of an interface.
type Route struct {
	To  string `toml:"to" json:"to"`
	Via string `toml:"via" json:"via,omitempty"`
}

// DNS is written to /etc/netns/NAME/, which exec mode binds over /etc.
type DNS struct {
	Nameservers []string          `toml:"nameservers" json:"nameservers,omitempty"`
	Search      []string          `toml:"search" json:"search,omitempty"`
	Hosts       map[string]string `toml:"hosts" json:"hosts,omitempty"`
}

// ExecSpec says how exec mode runs the daemon.
type ExecSpec struct {
	User    string `toml:"user"`
	Group   string `toml:"group"`
	Pidfile string `toml:"pidfile"`
	Chdir   string `toml:"chdir"`
}

// MaxSpecSize bounds a spec file: a real one is a few hundred bytes, and a
// huge one would be read whole into memory.
const MaxSpecSize = 1 << 20

// Load reads a TOML spec of at most MaxSpecSize bytes. Unknown keys are an
// error.
func Load(r io.Reader) (*Spec, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxSpecSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading config: %w", ErrInvalidSpec, err)
	}
	if len(b) > MaxSpecSize {
		return nil, fmt.Errorf("%w: config larger than %d bytes (1 MiB)", ErrInvalidSpec, MaxSpecSize)
	}
	var s Spec
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(&s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSpec, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("%w: unknown key %q", ErrInvalidSpec, keys[0])
	}
	return &s, nil
}

// LoadFile reads a TOML spec from path.
func LoadFile(path string) (*Spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: reading config: %w", ErrInvalidSpec, err)
	}
	defer f.Close()
	s, err := Load(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Ifaces returns the configured interfaces, inbound first.
func (s *Spec) Ifaces() []*Iface {
	var out []*Iface
	if s.Inbound != nil {
		out = append(out, s.Inbound)
	}
	if s.Outbound != nil {
		out = append(out, s.Outbound)
	}
	return out
}

// Roles of an interface, as the TOML tables are named.
const (
	roleInbound  = "inbound"
	roleOutbound = "outbound"
)

// role says which side ifc is, for defaults and messages. It is derived,
// not stored, so reading a spec never changes it.
func (s *Spec) role(ifc *Iface) string {
	if ifc == s.Outbound {
		return roleOutbound
	}
	return roleInbound
}

// Normalize fills in defaults, so that two specs that mean the same thing
// compare equal. It is the one step that changes a spec: call it before
// Validate, Plan and Start.
func (s *Spec) Normalize() {
	for _, ifc := range s.Ifaces() {
		role := s.role(ifc)
		if ifc.Kind == "" {
			ifc.Kind = KindVeth
		}
		if ifc.Name == "" {
			ifc.Name = map[string]string{"inbound": "in0", "outbound": "out0"}[role]
		}
		if ifc.Kind == KindVeth && ifc.Peer == "" {
			ifc.Peer = derivedName(s.Name, map[string]string{"inbound": "-in", "outbound": "-out"}[role])
		}
		if ifc.Kind == KindMacvlan && ifc.Mode == "" {
			ifc.Mode = "bridge"
		}
		if ifc.RPFilter == "" {
			ifc.RPFilter = map[string]string{"inbound": "loose", "outbound": "strict"}[role]
		}
		// A veth's only neighbour is its peer: a gateway with no peer
		// address there would be unreachable, so the peer carries it.
		if ifc.Kind == KindVeth && len(ifc.PeerAddresses) == 0 {
			for _, gw := range []struct {
				ip string
				v4 bool
			}{{ifc.Gateway, true}, {ifc.Gateway6, false}} {
				if a := gatewayOnPeer(ifc, gw.ip, gw.v4); a != "" {
					ifc.PeerAddresses = append(ifc.PeerAddresses, a)
				}
			}
		}
	}
}

// Canonical is the spec as stable JSON: equal bytes mean the same namespace.
func (s *Spec) Canonical() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	_ = enc.Encode(s) // maps are encoded with sorted keys
	return b.Bytes()
}

// sortedKeys returns m's keys in order, for stable plans.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// gatewayOnPeer returns the gateway with the prefix length of the address
// that contains it, or "" if there is none or the gateway is not a usable
// host address of the key's family (Validate then names the gateway, not
// a peer address the user never wrote).
func gatewayOnPeer(ifc *Iface, gw string, v4 bool) string {
	ip, why := parseIP(gw)
	if gw == "" || why != "" || ip.Is4() != v4 {
		return ""
	}
	for _, a := range ifc.Addresses {
		p, err := netip.ParsePrefix(a)
		if err != nil || !p.Masked().Contains(ip) || p.Addr() == ip {
			continue
		}
		if on := netip.PrefixFrom(ip, p.Bits()); hostAddrProblem(on) == "" {
			return on.String()
		}
		return ""
	}
	return ""
}
