package scripts

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/netns-daemon/netns-daemon/internal/bintest"
	"github.com/netns-daemon/netns-daemon/internal/nstest"
)

func TestMain(m *testing.M) { bintest.Main(m) }

// TestDemo runs make demo's script: it must answer, show the egress path
// and leave nothing behind.
func TestDemo(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	cmd := exec.Command("./demo.sh")
	cmd.Env = append(os.Environ(), "BIN="+bintest.Dir(t))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo.sh: %v\n%s", err, out)
	}
	for _, want := range []string{"hello from", "via 10.20.0.1 dev out0", "nothing left behind"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}
