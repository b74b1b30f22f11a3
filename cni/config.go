// Package cni is netns-daemon as a CNI plugin: the same interface table
// as netns-daemon-start's (role, kind, addresses or IPAM, peer, gateway,
// routes, rp_filter, sysctls, DNS), provisioned by the same engine into
// the namespace a container runtime hands over (CNI_NETNS).
package cni

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/netns-daemon/netns-daemon/provision"
)

// Roles, as the config's "role" spells them.
const (
	RoleInbound  = "inbound"
	RoleOutbound = "outbound"
)

// NetConf is the plugin object of a network configuration.
type NetConf struct {
	types.PluginConf
	Role          string            `json:"role"`
	Kind          string            `json:"kind"`
	Parent        string            `json:"parent"`
	Mode          string            `json:"mode"`
	Addresses     []string          `json:"addresses"`
	PeerAddresses []string          `json:"peer_addresses"`
	Peer          string            `json:"peer"`
	Gateway       string            `json:"gateway"`
	Gateway6      string            `json:"gateway6"`
	ReplyVia      string            `json:"reply_via"`
	ReplyVia6     string            `json:"reply_via6"`
	Routes        []Route           `json:"routes"`
	RPFilter      string            `json:"rp_filter"`
	MTU           int               `json:"mtu"`
	MAC           string            `json:"mac"`
	Sysctl        map[string]string `json:"sysctl"`
	DNS           DNS               `json:"dns"`
}

// Route is a static route out of the interface.
type Route struct {
	To  string `json:"to"`
	Via string `json:"via,omitempty"`
}

// DNS is returned in the result: the runtime owns the container's
// resolv.conf.
type DNS struct {
	Nameservers []string `json:"nameservers,omitempty"`
	Search      []string `json:"search,omitempty"`
}

// ourKeys are the plugin's own keys; cniKeys are those the CNI spec
// defines for every plugin object (or runtimes are known to add).
var (
	ourKeys = keySet("role", "kind", "parent", "mode", "addresses", "peer_addresses", "peer", "gateway", "gateway6",
		"reply_via", "reply_via6", "routes", "rp_filter", "mtu", "mac", "sysctl", "dns")
	cniKeys = keySet("cniVersion", "cniVersions", "name", "type", "capabilities", "ipam", "args", "runtimeConfig",
		"prevResult", "ipMasq", "disableCheck", "disableGC", "cni.dev/valid-attachments")
)

func keySet(keys ...string) map[string]bool {
	m := map[string]bool{}
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// errConfig is bad configuration (CNI code 7) naming key and value.
func errConfig(format string, a ...any) *types.Error {
	return types.NewError(types.ErrInvalidNetworkConfig, fmt.Sprintf(format, a...), "")
}

// ParseConfig reads the plugin object from stdin data. Unknown keys, at
// the top and inside routes and dns, are an error (code 7) naming them.
func ParseConfig(data []byte) (*NetConf, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, types.NewError(types.ErrDecodingFailure, "decoding network configuration: "+err.Error(), "")
	}
	var unknown []string
	for k := range top {
		if !ourKeys[k] && !cniKeys[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, errConfig("unknown key(s) %s in the %s plugin object: want %s", quoteAll(unknown), PluginType, strings.Join(sortedKeys(ourKeys), ", "))
	}
	var c NetConf
	if err := json.Unmarshal(data, &c.PluginConf); err != nil {
		return nil, types.NewError(types.ErrDecodingFailure, "decoding network configuration: "+err.Error(), "")
	}
	ours := map[string]json.RawMessage{}
	for k, v := range top {
		if ourKeys[k] {
			ours[k] = v
		}
	}
	b, _ := json.Marshal(ours)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	pc := c.PluginConf
	if err := dec.Decode(&c); err != nil {
		return nil, errConfig("%s", strings.TrimPrefix(strings.ReplaceAll(err.Error(), "json: unknown field", "unknown key"), "json: "))
	}
	c.PluginConf = pc
	if err := version.ParsePrevResult(&c.PluginConf); err != nil {
		return nil, types.NewError(types.ErrDecodingFailure, "decoding prevResult: "+err.Error(), "")
	}
	return &c, c.check()
}

// check refuses what the engine's validation cannot see: the keys' roles.
func (c *NetConf) check() error {
	switch c.Role {
	case RoleInbound, RoleOutbound:
	case "":
		return errConfig("role: required: want %q or %q", RoleInbound, RoleOutbound)
	default:
		return errConfig("role = %q: want %q or %q", c.Role, RoleInbound, RoleOutbound)
	}
	switch c.Kind {
	case "", provision.KindVeth, provision.KindMacvlan:
	default:
		return errConfig("kind = %q: want %q or %q", c.Kind, provision.KindVeth, provision.KindMacvlan)
	}
	if c.Role == RoleInbound && (c.Gateway != "" || c.Gateway6 != "") {
		return errConfig("gateway/gateway6 = %q: only for role outbound (inbound never carries a default route)", c.Gateway+c.Gateway6)
	}
	if strings.ContainsAny(c.IPAM.Type, "/\x00") {
		return errConfig("ipam.type = %q: a plugin name, not a path", c.IPAM.Type)
	}
	for i, n := range c.DNS.Nameservers {
		if _, err := netip.ParseAddr(n); err != nil {
			return errConfig("dns.nameservers[%d] = %q: want an IP address", i, n)
		}
	}
	for i, n := range c.DNS.Search {
		if n == "" || strings.ContainsAny(n, " \t\r\n") {
			return errConfig("dns.search[%d] = %q: want a domain name", i, n)
		}
	}
	if (c.ReplyVia != "" || c.ReplyVia6 != "") && c.Role != RoleInbound {
		return errConfig("reply_via/reply_via6 = %q: only for role inbound", c.ReplyVia+c.ReplyVia6)
	}
	return nil
}

func quoteAll(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
