package provision

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	xnetns "github.com/netns-daemon/netns-daemon/internal/netns"
)

// StateDir holds one state file per provisioned namespace.
var StateDir = "/run/netns-daemon"

// ErrCorruptState marks a state file that cannot be read back; stop
// --force then removes what the kernel shows by our naming and identity
// rules.
var ErrCorruptState = errors.New("corrupt state file")

// stateFormat is the state file's layout. Format 1 (no "format" key,
// "version": 1) was a spec plus a step index; it is still read and stopped.
const stateFormat = 2

// State is what start made or changed, each object with its identity as
// the kernel reported it, written ahead of every change that stop would
// otherwise not find.
type State struct {
	Format   int       `json:"format"`
	Spec     *Spec     `json:"spec"`
	Complete bool      `json:"complete"`
	NS       xnetns.ID `json:"ns"`                // /run/netns/NAME as start made it
	Host     xnetns.ID `json:"host"`              // the host namespace at start
	Records  []*record `json:"records"`           // in the order they were made
	Version  int       `json:"version,omitempty"` // format 1
	Begun    *int      `json:"begun,omitempty"`   // format 1

	legacy bool // converted from format 1: identities are unknown
}

// record is one object start made or changed.
type record struct {
	Kind string          `json:"kind"`
	Obj  json.RawMessage `json:"obj,omitempty"`
	// Done is false while the change is under way: written ahead, not yet
	// confirmed by the kernel.
	Done      bool          `json:"done"`
	NS        *xnetns.ID    `json:"ns,omitempty"`           // the namespace's identity
	Cookie    uint64        `json:"cookie,omitempty"`       // the namespace's cookie, never reused
	File      *fileID       `json:"file,omitempty"`         // the mount point file start made for it
	Index     int           `json:"ifindex,omitempty"`      // a link's, in the namespace it lives in
	PeerIndex int           `json:"peer_ifindex,omitempty"` // a veth's host side
	Prior     *string       `json:"prior,omitempty"`        // a sysctl's value before
	Existed   bool          `json:"existed,omitempty"`      // found, not made: left in place
	Device    *deviceBefore `json:"device,omitempty"`       // a moved device as it was
	Removed   []routeObj    `json:"removed,omitempty"`      // default routes an unroute deleted
	Token     string        `json:"nft_token,omitempty"`    // an nftables table's, in a rule comment

	obj object
}

// deviceBefore is a device as it was in the host namespace before it was
// moved in: the move flushes its addresses and routes, and start may
// rename it and change its MTU and MAC.
type deviceBefore struct {
	Name   string     `json:"name"`
	Index  int        `json:"ifindex"`
	MTU    int        `json:"mtu"`
	MAC    string     `json:"mac"`
	Up     bool       `json:"up"`
	Addrs  []string   `json:"addrs,omitempty"`
	Routes []routeObj `json:"routes,omitempty"`
}

// fileID is a file's identity: device, inode and change time (a file made
// after another was deleted may get its inode number again).
type fileID struct {
	Dev   uint64 `json:"dev"`
	Ino   uint64 `json:"ino"`
	Ctime int64  `json:"ctime_ns"`
}

func newRecord(o object) *record {
	raw, _ := json.Marshal(o)
	return &record{Kind: o.kind(), Obj: raw, obj: o}
}

func (r *record) key() string { return r.obj.key() }

// undoCommand renders deleting r's object, with the value before where
// the record knows it.
func (r *record) undoCommand(n names) string {
	if s, ok := r.obj.(sysctlObj); ok && r.Prior != nil {
		return "ip netns exec " + n.ns + " sysctl -qw " + s.Key + "=" + *r.Prior
	}
	if s, ok := r.obj.(hostSysctlObj); ok && r.Prior != nil {
		return hostExec(n) + "sysctl -qw " + s.Key + "=" + *r.Prior
	}
	return undoCommand(r.obj, n)
}

func statePath(name string) string { return filepath.Join(StateDir, name+".json") }

// parseState decodes a state file of either format.
func parseState(name string, b []byte) (*State, error) {
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if st.Spec == nil {
		return nil, errors.New("no spec")
	}
	st.Spec.Name = name
	// Names that become paths are checked again: a state file is input too.
	if st.Spec.HostNetns != "" && ValidName(st.Spec.HostNetns) != nil {
		return nil, fmt.Errorf("host_netns %q is not a namespace name", st.Spec.HostNetns)
	}
	if f := st.Spec.NetnsFile; f != "" && (!filepath.IsAbs(f) || filepath.Clean(f) != f) {
		return nil, fmt.Errorf("netns_file %q is not a clean absolute path", f)
	}
	switch {
	case st.Format == 0 && st.Version == 1:
		return legacyState(&st), nil
	case st.Format != stateFormat:
		return nil, fmt.Errorf("state file format %d: this release reads formats 1 and %d", st.Format, stateFormat)
	}
	for i, r := range st.Records {
		if r == nil {
			return nil, fmt.Errorf("record %d is empty", i)
		}
		o, err := decodeObject(r.Kind, r.Obj)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		r.obj = o
	}
	return &st, nil
}

// legacyState turns a format-1 state into records of the objects its spec
// made, without identities: stop then finds them by name.
func legacyState(st *State) *State {
	st.Spec.Normalize()
	st.Format, st.legacy = stateFormat, true
	for _, o := range desired(st.Spec) {
		r := newRecord(o)
		r.Done = true
		st.Records = append(st.Records, r)
	}
	return st
}

func (st *State) marshal() ([]byte, error) {
	st.Format, st.Version, st.Begun = stateFormat, 0, nil
	return json.Marshal(st)
}
