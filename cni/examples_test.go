package cni

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exampleConfs returns every network configuration list shipped in
// examples/cni: the .conflist files and the NetworkAttachmentDefinitions'
// config blocks.
func exampleConfs(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	files, _ := filepath.Glob("../examples/cni/*/*")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasSuffix(f, ".conflist"):
			out[f] = string(b)
		case strings.HasSuffix(f, ".yaml"):
			// a "config: |" block runs while lines are indented deeper
			lines := strings.Split(string(b), "\n")
			for i, l := range lines {
				if strings.TrimSpace(l) != "config: |" {
					continue
				}
				indent := len(l) - len(strings.TrimLeft(l, " "))
				var block []string
				for _, m := range lines[i+1:] {
					if strings.TrimSpace(m) != "" && len(m)-len(strings.TrimLeft(m, " ")) <= indent {
						break
					}
					block = append(block, m)
				}
				out[fmt.Sprintf("%s:%d", f, i+1)] = strings.Join(block, "\n")
			}
		}
	}
	if len(out) < 5 {
		t.Fatalf("found %d configurations in examples/cni; want the podman pair, containerd's and the two NetworkAttachmentDefinitions", len(out))
	}
	return out
}

// TestExamplesParse: each plugin object of netns-daemon-cni in the
// examples is accepted, spec and all (the real-client tests run the podman
// and containerd ones).
func TestExamplesParse(t *testing.T) {
	for name, conf := range exampleConfs(t) {
		var list struct {
			CNIVersion string                       `json:"cniVersion"`
			Name       string                       `json:"name"`
			Plugins    []map[string]json.RawMessage `json:"plugins"`
		}
		if err := json.Unmarshal([]byte(conf), &list); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		found := false
		for _, p := range list.Plugins {
			if string(p["type"]) != `"`+PluginType+`"` {
				continue
			}
			found = true
			p["cniVersion"], _ = json.Marshal(list.CNIVersion)
			p["name"], _ = json.Marshal(list.Name)
			b, _ := json.Marshal(p)
			c, err := ParseConfig(b)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			a := attachment{Network: c.Name, ContainerID: "example", IfName: map[string]string{RoleInbound: "in0", RoleOutbound: "eth0"}[c.Role]}
			spec, err := c.buildSpec(a, "/run/netns/example", nil, nil, false)
			if err == nil {
				spec.Normalize()
				err = spec.Validate()
			}
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		if !found {
			t.Errorf("%s: no %s plugin object", name, PluginType)
		}
	}
}
