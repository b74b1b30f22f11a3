package provision

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

type sysctl struct{ key, value string }

// sysctls lists what to write inside the namespace: rp_filter first, then
// the spec's own (which may override it).
//
// The kernel's effective rp_filter on an interface is max(conf.all,
// conf.IFACE), and a new namespace may inherit conf.all from the host. So
// conf.all is set to the lowest value any interface asks for, and each
// interface to its own: every effective value is then what was asked.
func sysctls(s *Spec) []sysctl {
	var out []sysctl
	ifaces := s.Ifaces()
	if len(ifaces) > 0 {
		low := 2
		for _, ifc := range ifaces {
			low = min(low, rpFilterValues[ifc.RPFilter])
		}
		out = append(out, sysctl{"net.ipv4.conf.all.rp_filter", strconv.Itoa(low)})
		for _, ifc := range ifaces {
			out = append(out, sysctl{"net.ipv4.conf." + strings.ReplaceAll(ifc.Name, ".", "/") + ".rp_filter", strconv.Itoa(rpFilterValues[ifc.RPFilter])})
		}
	}
	for _, k := range sortedKeys(s.Sysctl) {
		out = append(out, sysctl{k, s.Sysctl[k]})
	}
	return out
}

// sysctlPath maps a key in sysctl(8) notation to its /proc/sys file: dots
// separate, a '/' stands for a dot inside a name (in/0 is in.0).
func sysctlPath(key string) string {
	return "/proc/sys/" + strings.Join(sysctlComponents(key), "/")
}

func sysctlStep(s *Spec, list []sysctl) step {
	parts := make([]string, len(list))
	for i, sc := range list {
		parts[i] = sc.key + "=" + sc.value
	}
	return step{
		cmd: "ip netns exec " + s.Name + " sysctl -qw " + strings.Join(parts, " "),
		do: func(r *run) error {
			ns, err := r.netns()
			if err != nil {
				return err
			}
			// /proc/sys/net is the namespace of the thread that opens it.
			return inNamespace(ns, func() error {
				for _, sc := range list {
					// Validate refused these already; a key that reaches
					// here anyway must never write outside /proc/sys/net
					// (kernel.* is the whole machine's).
					if why := sysctlKeyProblem(sc.key); why != "" {
						return fmt.Errorf("setting sysctl %s in namespace %q: %s", sc.key, s.Name, why)
					}
					if err := os.WriteFile(sysctlPath(sc.key), []byte(sc.value), 0); err != nil {
						return fmt.Errorf("setting sysctl %s=%s in namespace %q: %w", sc.key, sc.value, s.Name, err)
					}
				}
				return nil
			})
		},
	}
}
