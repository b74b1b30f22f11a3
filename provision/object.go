package provision

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// An object is one thing start makes or changes: the namespace, a link, an
// address, a route, a sysctl, a file. Objects are plain data; the same
// fields give the key (what it is), the rendering (the equivalent command)
// and, on Linux, create, delete and observe (objects_linux.go).
type object interface {
	kind() string
	// key names the object within one namespace: two objects with the same
	// key are the same thing, perhaps with other settings.
	key() string
	// owner is the key of the object whose deletion takes this one along
	// (the namespace takes everything inside; a link takes its addresses
	// and routes), or "".
	owner() string
	render(n names) string
}

// names are what renderings need besides the object's own fields.
type names struct{ ns, host string }

// ipn renders an ip command run in namespace ns ("" = the caller's).
func ipn(ns, format string, a ...any) string {
	if ns == "" {
		return "ip " + fmt.Sprintf(format, a...)
	}
	return "ip -n " + ns + " " + fmt.Sprintf(format, a...)
}

const keyNetns = "netns"

// nsObj is the named namespace, /run/netns/NAME; or, with Path, a
// namespace that exists already (a container's): never made or deleted,
// only checked to be the same one.
type nsObj struct {
	Path string `json:"path,omitempty"`
}

func (nsObj) kind() string  { return "netns" }
func (nsObj) key() string   { return keyNetns }
func (nsObj) owner() string { return "" }
func (o nsObj) render(n names) string {
	if o.Path != "" {
		return "# the existing namespace " + o.Path
	}
	return "ip netns add " + n.ns + " && " + ipn(n.ns, "link set lo up")
}

// linkObj is one interface inside the namespace with what makes it: a veth
// (and its host-side peer), a macvlan, or a device moved in.
type linkObj struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Peer   string `json:"peer,omitempty"`
	Bridge string `json:"bridge,omitempty"`
	Parent string `json:"parent,omitempty"`
	Mode   string `json:"mode,omitempty"`
	MTU    int    `json:"mtu,omitempty"`
	MAC    string `json:"mac,omitempty"`
}

func (l linkObj) kind() string { return "link" }
func (l linkObj) key() string  { return "link/" + l.Name }

// owner: the namespace takes veths and macvlans along when it goes; a
// moved device must be moved back first, or the kernel would hand it to
// the initial namespace (or destroy it, if virtual).
func (l linkObj) owner() string {
	if l.Kind == KindDevice {
		return ""
	}
	return keyNetns
}

func (l linkObj) render(n names) string {
	mtu := ""
	if l.MTU != 0 {
		mtu = " mtu " + strconv.Itoa(l.MTU)
	}
	mac := ""
	if l.MAC != "" {
		mac = " address " + l.MAC
	}
	var cmds []string
	switch l.Kind {
	case KindExisting:
		return "# the existing link " + l.Name + " (made by an earlier plugin)"
	case KindVeth:
		cmds = append(cmds, ipn(n.host, "link add %s%s type veth peer name %s%s%s netns %s", l.Peer, mtu, l.Name, mtu, mac, n.ns))
		if l.Bridge != "" {
			cmds = append(cmds, ipn(n.host, "link set %s master %s", l.Peer, l.Bridge))
		}
		cmds = append(cmds, ipn(n.host, "link set %s up", l.Peer))
	case KindMacvlan:
		cmds = append(cmds, ipn(n.host, "link add link %s name %s%s%s type macvlan mode %s netns %s", l.Parent, l.Name, mtu, mac, l.Mode, n.ns))
	case KindDevice:
		cmds = append(cmds, ipn(n.host, "link set dev %s netns %s", l.Parent, n.ns))
		if l.Name != l.Parent {
			cmds = append(cmds, ipn(n.ns, "link set dev %s name %s", l.Parent, l.Name))
		}
		if mtu != "" || mac != "" {
			cmds = append(cmds, ipn(n.ns, "link set dev %s%s%s", l.Name, mtu, mac))
		}
	}
	cmds = append(cmds, ipn(n.ns, "link set %s up", l.Name))
	return strings.Join(cmds, " && ")
}

// Where an address or route lives.
const (
	sideNS   = "ns"
	sideHost = "host"
)

// addrObj is a static address on a link; IPv6 ones skip DAD.
type addrObj struct {
	Side string `json:"side"`
	Dev  string `json:"dev"`
	CIDR string `json:"cidr"`
	Of   string `json:"of"` // the owning link's key
}

func (a addrObj) kind() string  { return "addr" }
func (a addrObj) key() string   { return "addr/" + a.Side + "/" + a.Dev + "/" + a.CIDR }
func (a addrObj) owner() string { return a.Of }

func (a addrObj) render(n names) string {
	cmd := ipn(sideName(n, a.Side), "addr add %s dev %s", a.CIDR, a.Dev)
	if p, err := netip.ParsePrefix(a.CIDR); err == nil && p.Addr().Is6() {
		cmd += " nodad"
	}
	return cmd
}

func sideName(n names, side string) string {
	if side == sideHost {
		return n.host
	}
	return n.ns
}

// routeObj is a route in the main table, or in Table; To is a masked
// prefix, and 0.0.0.0/0 or ::/0 is a default route.
type routeObj struct {
	Side  string `json:"side"`
	Dev   string `json:"dev"`
	To    string `json:"to"`
	Via   string `json:"via,omitempty"`
	Of    string `json:"of"`
	Table int    `json:"table,omitempty"`
}

func (r routeObj) kind() string { return "route" }
func (r routeObj) key() string {
	k := "route/" + r.Side + "/" + r.Dev + "/" + r.To + "/" + r.Via
	if r.Table != 0 {
		k += "/table/" + strconv.Itoa(r.Table)
	}
	return k
}
func (r routeObj) owner() string { return r.Of }

func (r routeObj) render(n names) string {
	p, _ := netip.ParsePrefix(r.To)
	to, fam := r.To, ""
	if p.Bits() == 0 {
		to = "default"
		if p.Addr().Is6() {
			fam = "-6 "
		}
	}
	cmd := ipn(sideName(n, r.Side), "%sroute add %s", fam, to)
	if r.Via != "" {
		cmd += " via " + r.Via
	}
	cmd += " dev " + r.Dev
	if r.Table != 0 {
		cmd += " table " + strconv.Itoa(r.Table)
	}
	return cmd
}

// shimObj is the hairpin: a macvlan in the host namespace on the parent of
// a macvlan inside, so that the host reaches the namespace's addresses (a
// macvlan cannot talk to its parent).
type shimObj struct {
	Name   string `json:"name"`
	Parent string `json:"parent"`
}

func (s shimObj) kind() string  { return "shim" }
func (s shimObj) key() string   { return "shim/" + s.Name }
func (s shimObj) owner() string { return "" }

func (s shimObj) render(n names) string {
	return ipn(n.host, "link add link %s name %s type macvlan mode bridge", s.Parent, s.Name) + " && " +
		ipn(n.host, "link set %s up", s.Name)
}

// sysctlObj is one /proc/sys/net value inside the namespace.
type sysctlObj struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	Of    string `json:"of"`
	// IPv6: nothing to do on a kernel without IPv6 (ipv6.disable=1).
	IPv6 bool `json:"ipv6,omitempty"`
}

func (s sysctlObj) kind() string  { return "sysctl" }
func (s sysctlObj) key() string   { return "sysctl/" + s.Key }
func (s sysctlObj) owner() string { return s.Of }

func (s sysctlObj) render(n names) string {
	return "ip netns exec " + n.ns + " sysctl -qw " + s.Key + "=" + s.Value
}

// dirObj is /etc/netns/NAME, made if it was not there.
type dirObj struct{}

func (dirObj) kind() string  { return "dir" }
func (dirObj) key() string   { return "dir" }
func (dirObj) owner() string { return "" }
func (dirObj) render(n names) string {
	return "mkdir -p " + EtcNetnsDir + "/" + n.ns
}

// fileObj is one file in /etc/netns/NAME, which exec mode binds over /etc.
type fileObj struct {
	Name string `json:"name"`
	Body string `json:"body"`
}

func (f fileObj) kind() string  { return "file" }
func (f fileObj) key() string   { return "file/" + f.Name }
func (f fileObj) owner() string { return "" }
func (f fileObj) render(n names) string {
	return fmt.Sprintf("write %s/%s/%s (%d bytes)", EtcNetnsDir, n.ns, f.Name, len(f.Body))
}

// decodeObject reads an object back from its kind and fields, as the state
// file keeps them.
func decodeObject(kind string, raw json.RawMessage) (object, error) {
	var o object
	var err error
	switch kind {
	case "netns":
		o, err = decodeAs[nsObj](raw)
	case "link":
		o, err = decodeAs[linkObj](raw)
	case "addr":
		o, err = decodeAs[addrObj](raw)
	case "route":
		o, err = decodeAs[routeObj](raw)
	case "shim":
		o, err = decodeAs[shimObj](raw)
	case "sysctl":
		o, err = decodeAs[sysctlObj](raw)
	case "dir":
		o = dirObj{}
	case "file":
		o, err = decodeAs[fileObj](raw)
	case "rule":
		o, err = decodeAs[ruleObj](raw)
	case "nft":
		o, err = decodeAs[nftObj](raw)
	case "hostsysctl":
		o, err = decodeAs[hostSysctlObj](raw)
	case "unroute":
		o, err = decodeAs[unrouteObj](raw)
	default:
		return nil, fmt.Errorf("unknown object kind %q", kind)
	}
	return o, err
}

func decodeAs[T object](raw json.RawMessage) (object, error) {
	var v T
	err := json.Unmarshal(raw, &v)
	return v, err
}

// sameObject reports whether two objects with one key also have the same
// settings.
func sameObject(a, b object) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return a.kind() == b.kind() && string(ja) == string(jb)
}

// inPlace reports whether a changed object is changed where it is rather
// than deleted and made again (an nftables table is swapped in one batch:
// a guard has no gap).
func inPlace(o object) bool { return o.kind() == "sysctl" || o.kind() == "file" || o.kind() == "nft" }
