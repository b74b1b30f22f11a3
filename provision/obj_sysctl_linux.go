package provision

import (
	"fmt"
	"os"
	"strings"

	xnetns "github.com/netns-daemon/netns-daemon/internal/netns"
)

// create writes the value inside the namespace (/proc/sys/net is the
// namespace of the thread that opens it), keeping the value before.
func (s sysctlObj) create(k *kernel, r *record) error {
	// Validate refused these already; a key that reaches here anyway (a
	// state file) must never write outside /proc/sys/net.
	if why := sysctlKeyProblem(s.Key); why != "" {
		return fmt.Errorf("setting sysctl %s in namespace %q: %s", s.Key, k.n.ns, why)
	}
	ns, err := k.netns()
	if err != nil {
		return err
	}
	return xnetns.Do(ns, func() error {
		path := sysctlPath(s.Key)
		if s.IPv6 && noIPv6() {
			return nil
		}
		if r.Prior == nil {
			b, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("reading sysctl %s in namespace %q: %w", s.Key, k.n.ns, err)
			}
			prior := strings.TrimSpace(string(b))
			r.Prior = &prior
		}
		if err := os.WriteFile(path, []byte(s.Value), 0); err != nil {
			return fmt.Errorf("setting sysctl %s=%s in namespace %q: %w", s.Key, s.Value, k.n.ns, err)
		}
		return nil
	})
}

// remove puts the value before back (when the spec drops the key).
func (s sysctlObj) remove(k *kernel, r *record) error {
	if r.Prior == nil || sysctlKeyProblem(s.Key) != "" {
		return nil
	}
	ns, err := k.netns()
	if gone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return xnetns.Do(ns, func() error {
		err := os.WriteFile(sysctlPath(s.Key), []byte(*r.Prior), 0)
		if err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("restoring sysctl %s=%s in namespace %q: %w", s.Key, *r.Prior, k.n.ns, err)
		}
		return nil
	})
}

func (s sysctlObj) observe(k *kernel, _ *record) string {
	ns, err := k.netns()
	if err != nil {
		return err.Error()
	}
	if s.IPv6 && noIPv6In(ns) {
		return ""
	}
	return observeSysctl(ns, s.Key, s.Value)
}

// noIPv6 reports a kernel without IPv6, seen from the thread's namespace.
func noIPv6() bool {
	_, err := os.Stat("/proc/sys/net/ipv6")
	return os.IsNotExist(err)
}

// noIPv6In is noIPv6 seen from ns.
func noIPv6In(ns xnetns.Handle) bool {
	var none bool
	err := xnetns.Do(ns, func() error { none = noIPv6(); return nil })
	return err == nil && none
}

// observeSysctl says how key differs from want in namespace ns.
func observeSysctl(ns xnetns.Handle, key, want string) string {
	var got string
	err := xnetns.Do(ns, func() error {
		b, err := os.ReadFile(sysctlPath(key))
		got = strings.TrimSpace(string(b))
		return err
	})
	switch {
	case err != nil:
		return err.Error()
	case got != want:
		return fmt.Sprintf("%s; want %s", got, want)
	}
	return ""
}
