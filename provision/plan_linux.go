package provision

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// buildPlan turns a valid, normalized spec into its steps. It is a pure
// function of the spec: stop rebuilds the same plan from the saved spec.
func buildPlan(s *Spec) []step {
	steps := []step{namespaceStep(s), loopbackStep(s)}
	for _, ifc := range s.Ifaces() {
		steps = append(steps, ifaceSteps(s, ifc)...)
	}
	if sc := sysctls(s); len(sc) > 0 {
		steps = append(steps, sysctlStep(s, sc))
	}
	if !s.DNS.empty() {
		steps = append(steps, dnsStep(s))
	}
	return steps
}

// ipn renders an ip command run in namespace ns ("" = the caller's).
func ipn(ns, format string, a ...any) string {
	if ns == "" {
		return "ip " + fmt.Sprintf(format, a...)
	}
	return "ip -n " + ns + " " + fmt.Sprintf(format, a...)
}

func namespaceStep(s *Spec) step {
	return step{
		cmd: "ip netns add " + s.Name,
		do: func(r *run) error {
			if err := createNamed(s.Name); err != nil {
				return fmt.Errorf("creating namespace %q: %w", s.Name, err)
			}
			return nil
		},
		undo: func(r *run) error {
			r.forgetNamespace()
			if err := deleteNamed(s.Name); err != nil {
				return fmt.Errorf("deleting namespace %q: %w", s.Name, err)
			}
			if !r.waitReap {
				return nil
			}
			return r.reapPeers()
		},
	}
}

// reapPeers waits for the kernel to take the host-side veth peers away with
// the namespace, and deletes any that stay (something else holds the
// namespace open).
func (r *run) reapPeers() error {
	var peers []string
	for _, ifc := range r.spec.Ifaces() {
		if ifc.Kind == KindVeth {
			peers = append(peers, ifc.Peer)
		}
	}
	if len(peers) == 0 {
		return nil
	}
	h, err := r.hostNL()
	if err != nil {
		return nil // the host namespace is gone, and its links with it
	}
	for _, p := range peers {
		if l := waitLinkGone(h, p, 2*time.Second); l != nil {
			if err := h.LinkDel(l); err != nil && !isNotFound(err) {
				return fmt.Errorf("deleting veth %q in %s: %w", p, r.hostLabel(), err)
			}
		}
	}
	return nil
}

// waitLinkGone polls until name is gone, for at most d; it returns the link
// if it is still there.
func waitLinkGone(h *netlink.Handle, name string, d time.Duration) netlink.Link {
	deadline := time.Now().Add(d)
	for wait := 100 * time.Microsecond; ; wait = min(2*wait, 20*time.Millisecond) {
		l, err := h.LinkByName(name)
		if err != nil || time.Now().After(deadline) {
			return l
		}
		time.Sleep(wait)
	}
}

func loopbackStep(s *Spec) step {
	return step{
		cmd: ipn(s.Name, "link set lo up"),
		do: func(r *run) error {
			h, err := r.nl()
			if err != nil {
				return err
			}
			lo, err := r.link(h, "lo")
			if err == nil {
				err = h.LinkSetUp(lo)
			}
			if err != nil {
				return fmt.Errorf("setting loopback up in namespace %q: %w", s.Name, err)
			}
			return nil
		},
	}
}

func (d DNS) empty() bool {
	return len(d.Nameservers) == 0 && len(d.Search) == 0 && len(d.Hosts) == 0
}

// EtcNetnsDir holds per-namespace /etc files, as ip-netns(8) reads them.
var EtcNetnsDir = "/etc/netns"

func dnsFiles(s *Spec) map[string]string {
	files := map[string]string{}
	if len(s.DNS.Nameservers) > 0 || len(s.DNS.Search) > 0 {
		var b strings.Builder
		b.WriteString("# written by netns-daemon-start for namespace " + s.Name + "\n")
		if len(s.DNS.Search) > 0 {
			b.WriteString("search " + strings.Join(s.DNS.Search, " ") + "\n")
		}
		for _, ns := range s.DNS.Nameservers {
			b.WriteString("nameserver " + ns + "\n")
		}
		files["resolv.conf"] = b.String()
	}
	if len(s.DNS.Hosts) > 0 {
		var b strings.Builder
		b.WriteString("# written by netns-daemon-start for namespace " + s.Name + "\n")
		b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
		for _, h := range sortedKeys(s.DNS.Hosts) {
			b.WriteString(s.DNS.Hosts[h] + "\t" + h + "\n")
		}
		files["hosts"] = b.String()
	}
	return files
}

func dnsStep(s *Spec) step {
	dir := filepath.Join(EtcNetnsDir, s.Name)
	files := dnsFiles(s)
	names := make([]string, 0, len(files))
	for _, n := range []string{"resolv.conf", "hosts"} {
		if _, ok := files[n]; ok {
			names = append(names, filepath.Join(dir, n))
		}
	}
	return step{
		cmd: fmt.Sprintf("mkdir -p %s && write %s", dir, strings.Join(names, " ")),
		do: func(r *run) error {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("creating %s: %w", dir, err)
			}
			for name, body := range files {
				p := filepath.Join(dir, name)
				if err := writeFileAtomic(p, []byte(body), 0o644); err != nil {
					return fmt.Errorf("writing %s: %w", p, err)
				}
			}
			return nil
		},
		undo: func(r *run) error {
			for name := range files {
				p := filepath.Join(dir, name)
				if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
					return fmt.Errorf("removing %s: %w", p, err)
				}
			}
			os.Remove(dir) // only if empty: files of others stay
			return nil
		},
	}
}

func isNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf) || errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH)
}
