package systemd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnitsVerify runs systemd-analyze verify on every unit and drop-in,
// with /usr/sbin/netns-* pointed at stub binaries (verify wants ExecStart
// paths to exist). Warnings, such as an unknown key, fail the test too.
func TestUnitsVerify(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("needs systemd-analyze (Debian package systemd)")
	}
	bin := t.TempDir()
	for _, b := range []string{"netns-daemon-start", "netns-daemon-stop", "netns-proxy"} {
		if err := os.WriteFile(filepath.Join(bin, b), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// haproxy.service as a distribution ships it, for the drop-ins.
	base := "[Service]\nExecStart=/bin/sh -c 'exec sleep 1'\nType=notify\n"
	for _, tc := range []struct {
		unit  string
		files []string // copied from here into the unit path
	}{
		{"netns@haproxy.service", []string{"netns@.service"}},
		{"haproxy-netns.service", []string{"netns@.service", "haproxy-netns.service"}},
		{"haproxy.service", []string{"netns@.service", "haproxy.service.d/netns.conf"}},
		{"haproxy.service", []string{"netns@.service", "haproxy.service.d/netns.conf", "owned/netns@haproxy.service.d/owned.conf"}},
		{"netns-proxy.service", []string{"netns-proxy.service"}},
		{"netns-proxy@proxy.service", []string{"netns-proxy@.service"}},
	} {
		t.Run(strings.Join(tc.files, "+"), func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "haproxy.service"), base)
			for _, f := range tc.files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				dst := filepath.Join(dir, strings.TrimPrefix(f, "owned/"))
				write(t, dst, strings.ReplaceAll(string(b), "/usr/sbin/netns-", bin+"/netns-"))
			}
			cmd := exec.Command("systemd-analyze", "verify", "--man=no", tc.unit)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+dir+":")
			out, err := cmd.CombinedOutput()
			if err != nil || len(strings.TrimSpace(string(out))) > 0 {
				t.Errorf("systemd-analyze verify %s: %v\n%s", tc.unit, err, out)
			}
		})
	}
}

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
