package cni

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// PluginType is the "type" of the plugin object and the binary's name.
const PluginType = "netns-daemon-cni"

// StateDir holds the engine's state of each attachment and the
// attachment's own record (NAME.attachment).
const StateDir = "/run/netns-daemon/cni"

// attachment is one interface of one container on one network: what DEL,
// CHECK and GC name it by.
type attachment struct {
	Network     string `json:"network"`
	ContainerID string `json:"containerID"`
	IfName      string `json:"ifname"`
}

func (a attachment) hash(salt string) string {
	h := sha256.Sum256([]byte(a.Network + "\x00" + a.ContainerID + "\x00" + a.IfName + salt))
	return hex.EncodeToString(h[:])
}

// name is the engine's state name: container IDs are up to 64 characters
// of their own alphabet and interface names may hold what a file name
// must not, so it is a hash (160 bits; the record is checked anyway).
func (a attachment) name() string { return "cni-" + a.hash("")[:40] }

// peer is the host-side veth name to try the n-th time: "nd" and 13 hex
// digits, 15 characters.
func (a attachment) peer(n int) string {
	salt := ""
	if n > 0 {
		salt = "\x00" + strconv.Itoa(n)
	}
	return "nd" + a.hash(salt)[:13]
}

func (a attachment) recordFile() string { return a.name() + ".attachment" }
