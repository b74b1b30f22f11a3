package provision

import (
	"errors"
	"fmt"
)

// Validate checks everything that can be checked before touching the
// system, so that a spec it accepts also works when applied. It only reads
// s: call Normalize first, as Start does. Every problem is reported at
// once, each naming its key and value, wrapped in ErrInvalidSpec.
//
// The checks live by concern: names (validate_names.go), links, MAC and MTU
// (validate_link.go), addresses (validate_addr.go), gateways and routes
// (validate_route.go), sysctls (validate_sysctl.go) and DNS
// (validate_dns.go).
func (s *Spec) Validate() error {
	if err := ValidName(s.Name); err != nil {
		return err
	}
	var p problems
	s.checkHostNetns(&p)
	s.checkIfaceNames(&p)
	for _, ifc := range s.Ifaces() {
		s.checkLink(&p, ifc)
	}
	s.checkAddresses(&p)
	s.checkGateways(&p)
	s.checkRoutes(&p)
	s.checkSysctls(&p)
	s.DNS.check(&p)
	s.checkEgress(&p)
	return p.err()
}

// problems collects what is wrong with a spec, each naming key and value.
type problems []error

// add records "key = value: why"; a string value is quoted, so control
// characters show as escapes.
func (p *problems) add(key string, value any, why string, a ...any) {
	if v, ok := value.(string); ok {
		value = fmt.Sprintf("%q", v)
	}
	*p = append(*p, fmt.Errorf("%s = %v: %s", key, value, fmt.Sprintf(why, a...)))
}

// addKey records a problem of a key as a whole ("key: why").
func (p *problems) addKey(key, why string, a ...any) {
	*p = append(*p, fmt.Errorf("%s: %s", key, fmt.Sprintf(why, a...)))
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidSpec, errors.Join(p...))
}

// Hand-written character checks instead of regexps: compiling those at
// init cost more than the rest of a start.

func allOf(s string, ok func(rune) bool) bool {
	for _, c := range s {
		if !ok(c) {
			return false
		}
	}
	return true
}

func alnum(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// hasControl reports a control character (a newline, say), which would
// split a line of a file we write or of a log.
func hasControl(s string) bool {
	return !allOf(s, func(c rune) bool { return c >= 0x20 && c != 0x7f })
}
