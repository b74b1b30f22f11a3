package provision

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/netns-daemon/netns-daemon/internal/nstest"
)

// Every refused value, through Start against a throwaway host namespace:
// refused as bad input, and nothing made — no namespace, no link in the
// host namespace, no state or lock file, no /etc/netns/NAME.
func TestStartRefusesBadInputTouchingNothing(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	for _, c := range badCases {
		t.Run(c.class+"/"+c.name, func(t *testing.T) {
			s := validSpec()
			s.Name, s.HostNetns = newName(), host
			name := s.Name
			c.mod(s)
			t.Cleanup(func() { Stop(context.Background(), name, Options{}) }) // only if the test fails
			_, err := Start(context.Background(), s, Options{})
			c.check(t, name, err)
			assertNothingLeft(t, name, host)
			if _, err := os.Lstat(filepath.Join(StateDir, name+".lock")); err == nil {
				t.Errorf("a lock file was left for %s", name)
			}
		})
	}
}
