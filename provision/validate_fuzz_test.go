package provision

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzValidate: no spec makes Load, Normalize or Validate panic; Validate
// only reads, and says the same twice; Normalize is idempotent.
func FuzzValidate(f *testing.F) {
	seeds, _ := filepath.Glob("../examples/*/*.toml")
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("[inbound]\nname = \"in.0\"\naddresses = [\"10.1.0.5/24\"]\nroutes = [{to = \"0.0.0.0/1\"}, {to = \"128.0.0.0/1\"}]\n"))
	f.Add([]byte("[outbound]\naddresses = [\"fd00::5/64\"]\ngateway6 = \"fe80::1%x\"\n[dns]\nnameservers = [\"::ffff:1.2.3.4\"]\n"))
	f.Add([]byte("[sysctl]\n\"net.ipv4.conf.in/0.rp_filter\" = \"1\"\n\"net.//.x\" = \"\"\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Load(bytes.NewReader(b))
		if err != nil {
			return
		}
		s.Name = "fz"
		s.Normalize()
		once := s.Canonical()
		s.Normalize()
		if !bytes.Equal(once, s.Canonical()) {
			t.Fatalf("Normalize is not idempotent:\n%s\n%s", once, s.Canonical())
		}
		e1 := s.Validate()
		e2 := s.Validate()
		if (e1 == nil) != (e2 == nil) || e1 != nil && e1.Error() != e2.Error() {
			t.Fatalf("Validate said %v, then %v", e1, e2)
		}
		if !bytes.Equal(once, s.Canonical()) {
			t.Fatalf("Validate changed the spec")
		}
		if e1 != nil && !strings.HasPrefix(e1.Error(), "invalid spec: ") {
			t.Fatalf("error %q does not wrap ErrInvalidSpec first", e1)
		}
	})
}
