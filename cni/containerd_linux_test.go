package cni

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestContainerd runs a container with containerd 1.6's `ctr run --cni`
// (go-cni's defaults: /etc/cni/net.d, /opt/cni/bin) inside a throwaway
// namespace and a private mount namespace where those paths are overlays
// holding only this test's conflist and plugins. containerd sends DEL
// with an empty CNI_NETNS: the host side must still go.
func TestContainerd(t *testing.T) {
	e := newEnv(t)
	needTools(t, "containerd", "ctr", "runc", "nsenter", "unshare")
	untouched(t)
	dir := t.TempDir()
	root := busyboxRoot(t, dir)
	leftovers(t, "/run/containerd", "/sys/fs/cgroup/*/cnitest-ctr", "/sys/fs/cgroup/cnitest-ctr")
	for _, d := range []string{"root", "state", "etc-up/cni/net.d", "etc-work", "opt-up/cni/bin", "opt-work"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	for _, p := range []string{filepath.Join(pluginDir, PluginType), "/usr/lib/cni/loopback"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Skipf("needs %s: %v", p, err)
		}
		os.WriteFile(filepath.Join(dir, "opt-up/cni/bin", filepath.Base(p)), b, 0o755)
	}
	conflist := example(t, "containerd/10-app.conflist", `"app"`, `"cnitest-ctr"`)
	os.WriteFile(filepath.Join(dir, "etc-up/cni/net.d/10-cnitest-ctr.conflist"), []byte(conflist), 0o644)
	sock := filepath.Join(dir, "containerd.sock")
	os.WriteFile(filepath.Join(dir, "config.toml"), []byte(fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock)), 0o644)
	script := fmt.Sprintf(`set -e
d=%s
mount -t overlay overlay -o lowerdir=/etc,upperdir=$d/etc-up,workdir=$d/etc-work /etc
mount -t overlay overlay -o lowerdir=/opt,upperdir=$d/opt-up,workdir=$d/opt-work /opt
containerd --config $d/config.toml >$d/containerd.log 2>&1 &
pid=$!
trap 'kill $pid; wait $pid || true' EXIT
for i in $(seq 100); do [ -S %s ] && break; sleep 0.1; done
ctr -a %s -n cnitest-ctr run --rm --cni --env PATH=/bin --rootfs %s cnitest1 /bin/sh -c \
	'ip route; ip -4 addr; echo rp_filter=$(cat /proc/sys/net/ipv4/conf/eth0/rp_filter) arp_notify=$(cat /proc/sys/net/ipv4/conf/eth0/arp_notify)'
`, dir, sock, sock, root)
	cmd := exec.Command("nsenter", "--net=/run/netns/"+e.host, "--", "unshare", "-m", "--propagation", "private", "sh", "-c", script)
	out, err := cmd.CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "containerd.log"))
		t.Fatalf("ctr run: %v: %s\ncontainerd log:\n%s", err, out, log)
	}
	var defaults []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "default") {
			defaults = append(defaults, strings.TrimSpace(l))
		}
	}
	if len(defaults) != 1 || defaults[0] != "default via 10.83.0.1 dev eth0" {
		t.Errorf("default routes inside: %q; want only via eth0\n%s", defaults, out)
	}
	for _, want := range []string{"inet 10.83.0.5/24", "rp_filter=1", "arp_notify=1"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("inside the container: want %q in\n%s", want, out)
		}
	}
	waitClean(t, e.host, "cnitest-ctr")
}
