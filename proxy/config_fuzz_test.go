package proxy

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// FuzzLoad: nothing panics; every refusal is an ErrInvalidConfig (exit 2,
// naming the key); an accepted config validates again and, written back
// as TOML, loads to the same config. Seeds: the examples, and configs
// --check once let through.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("../examples/proxy/*.toml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add(minimal)
	for _, edit := range []string{
		`frontend.0.bind = ["127.0.0.1:80", "127.0.0.1:080"]`,
		`frontend.0.bind = ["0.0.0.0:80", "[::ffff:127.0.0.1]:80"]`,
		`backend.0.server.0.check_interval = "1ns"`,
		"frontend.0.accept_proxy = true\nfrontend.0.trusted_sources = [\"::ffff:10.0.0.0/104\"]",
		"[[frontend]]\nname = \"two\"\nbind = [\"127.0.0.1:8080\"]\nbackend = \"app\"",
		"[metrics]\nlisten = \"[::]:8080\"\nnamespace = \"blue\"",
		`backend.0.server.0.address = "*:0"`,
	} {
		f.Add(applyEdit(edit))
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, err := Load(strings.NewReader(text))
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("refusal %q does not wrap ErrInvalidConfig", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted, then invalid: %v", err)
		}
		var buf bytes.Buffer
		if err := toml.NewEncoder(&buf).Encode(c); err != nil {
			t.Fatalf("encoding an accepted config: %v", err)
		}
		c2, err := Load(&buf)
		if err != nil {
			t.Fatalf("reloading the encoded config: %v\n%s", err, buf.String())
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip:\n%+v\nwant\n%+v", c2, c)
		}
	})
}
