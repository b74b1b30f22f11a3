package cni

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// needTools skips unless the commands are installed.
func needTools(t *testing.T, cmds ...string) {
	t.Helper()
	for _, c := range cmds {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("needs %s (scripts/deps.sh installs it from Debian)", c)
		}
	}
}

// busyboxRoot makes a root file system of static busybox and its applets.
func busyboxRoot(t *testing.T, dir string) string {
	t.Helper()
	bb := "/bin/busybox"
	if out, err := exec.Command("file", "-L", bb).Output(); err == nil && !strings.Contains(string(out), "statically linked") {
		t.Skip("needs a static /bin/busybox (Debian's busybox-static)")
	}
	root := filepath.Join(dir, "rootfs")
	for _, d := range []string{"bin", "proc", "sys", "dev", "etc", "tmp"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	b, err := os.ReadFile(bb)
	if err != nil {
		t.Skipf("needs %s: %v", bb, err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin", "busybox"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bb, "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range strings.Fields(string(out)) {
		if a != "busybox" {
			os.Symlink("busybox", filepath.Join(root, "bin", a))
		}
	}
	return root
}

// leftovers removes, when the test ends, what a container engine leaves
// on the machine that was not there before the test: empty directories
// (cgroups, runtime state) and caches.
func leftovers(t *testing.T, patterns ...string) {
	t.Helper()
	var before []string
	for _, p := range patterns {
		m, _ := filepath.Glob(p)
		before = append(before, m...)
	}
	t.Cleanup(func() {
		for _, p := range patterns {
			m, _ := filepath.Glob(p)
			for _, d := range m {
				if slices.Contains(before, d) {
					continue
				}
				if strings.HasPrefix(d, "/sys/fs/cgroup/") {
					rmdirTree(d) // cgroups: rmdir only, deepest first
				} else {
					os.RemoveAll(d)
				}
			}
		}
	})
}

func rmdirTree(dir string) {
	var dirs []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Remove(dirs[i])
	}
}

// waitClean waits (bounded) until the runtime's DEL has run: no link but
// lo in host and no attachment record of the networks.
func waitClean(t *testing.T, host string, nets ...string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var recs []attachment
		for _, n := range nets {
			r, _ := records(n)
			recs = append(recs, r...)
		}
		got := links(t, host)
		if len(recs) == 0 && strings.Join(got, ",") == "lo" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the container is gone: host links %v, attachments %v; want only lo and none", got, recs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPodman runs a container under rootful podman with the CNI backend,
// inside a throwaway namespace that plays the host, on an inbound and an
// outbound network of this plugin.
func TestPodman(t *testing.T) {
	t.Logf("(the conflists are examples/cni/podman's)")
	e := newEnv(t)
	needTools(t, "podman", "runc", "nsenter")
	untouched(t)
	dir := t.TempDir()
	root := busyboxRoot(t, dir)
	leftovers(t, "/sys/fs/cgroup/*/libpod_parent", "/sys/fs/cgroup/libpod_parent", "/var/lib/containers/cache", "/run/runc",
		"/var/lib/cni/results/cnitest-pod-*", "/var/lib/cni/networks/cnitest-pod-*")
	netd := filepath.Join(dir, "net.d")
	os.MkdirAll(netd, 0o755)
	files := map[string]string{
		"containers.conf": fmt.Sprintf(`[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[network]
network_backend = "cni"
cni_plugin_dirs = [%q, "/usr/lib/cni"]
network_config_dir = %q
default_network = "cnitest-pod-out"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = %q
tmp_dir = %q
`, pluginDir, netd, filepath.Join(dir, "events.log"), filepath.Join(dir, "tmp")),
		"storage.conf": fmt.Sprintf("[storage]\ndriver = \"vfs\"\ngraphroot = %q\nrunroot = %q\n", filepath.Join(dir, "root"), filepath.Join(dir, "run")),
		// the shipped examples, under the test's network names
		"net.d/cnitest-pod-in.conflist":  example(t, "podman/app-inbound.conflist", "app-inbound", "cnitest-pod-in"),
		"net.d/cnitest-pod-out.conflist": example(t, "podman/app-outbound.conflist", "app-outbound", "cnitest-pod-out"),
	}
	for f, c := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	podman := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command("nsenter", append([]string{"--net=/run/netns/" + e.host, "--", "podman"}, args...)...)
		cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+filepath.Join(dir, "containers.conf"),
			"CONTAINERS_STORAGE_CONF="+filepath.Join(dir, "storage.conf"))
		if stdin != "" {
			f, err := os.Open(stdin)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			cmd.Stdin = f
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("podman %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	tarball := filepath.Join(dir, "rootfs.tar")
	if out, err := exec.Command("tar", "-C", root, "-cf", tarball, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v: %s", err, out)
	}
	podman(tarball, "import", "-", "localhost/cnitest-busybox:latest")
	t.Cleanup(func() { podman("", "rmi", "-f", "localhost/cnitest-busybox:latest") })

	out := podman("", "run", "--rm", "--network", "cnitest-pod-in:interface_name=in0", "--network", "cnitest-pod-out:interface_name=out0",
		"localhost/cnitest-busybox:latest", "sh", "-c",
		"ip route; ip -4 addr; cat /etc/resolv.conf; cd /proc/sys/net/ipv4/conf/in0; echo rp_filter=$(cat rp_filter) arp_ignore=$(cat arp_ignore)")
	var defaults []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "default") {
			defaults = append(defaults, strings.TrimSpace(l))
		}
	}
	if len(defaults) != 1 || defaults[0] != "default via 10.82.0.1 dev out0" {
		t.Errorf("default routes inside: %q; want only via out0\n%s", defaults, out)
	}
	for _, want := range []string{"inet 10.81.0.5/24", "inet 10.82.0.2/24", "rp_filter=2 arp_ignore=1", "nameserver 10.82.0.1", "search app.internal"} {
		if !strings.Contains(out, want) {
			t.Errorf("inside the container: want %q in\n%s", want, out)
		}
	}
	waitClean(t, e.host, "cnitest-pod-in", "cnitest-pod-out")
}

// example reads a file of examples/cni with old replaced by new.
func example(t *testing.T, file, old, new string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", "cni", file))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not hold %s", file, old)
	}
	return strings.ReplaceAll(string(b), old, new)
}
