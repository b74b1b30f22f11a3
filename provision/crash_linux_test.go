package provision

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/netns-daemon/netns-daemon/internal/nstest"
)

// TestMain doubles as a start process that a test can kill mid-way.
func TestMain(m *testing.M) {
	if arg := os.Getenv("ND_TEST_PAUSED_START"); arg != "" {
		var name, host string
		var at int
		fmt.Sscanf(strings.ReplaceAll(arg, ",", " "), "%s %s %d", &name, &host, &at)
		i := 0
		Start(context.Background(), seed(name, host), Options{beforeCreate: func(string) error {
			i++
			if i-1 == at {
				fmt.Println("paused")
				time.Sleep(time.Minute)
			}
			return nil
		}})
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestKilledStartThenStop(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	for _, at := range []int{1, 5, 12, 19} {
		name := newName()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), fmt.Sprintf("ND_TEST_PAUSED_START=%s,%s,%d", name, host, at))
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(out).ReadString('\n')
		cmd.Process.Kill() // SIGKILL: no chance to clean up
		cmd.Wait()
		if line != "paused\n" {
			t.Fatalf("start helper: got %q; want paused", line)
		}
		if _, err := os.Stat(NetnsPath(name)); err != nil {
			t.Fatalf("step %d: the half-made namespace should exist: %v", at, err)
		}
		if err := Stop(context.Background(), name, Options{Wait: true}); err != nil {
			t.Fatalf("stop after kill at step %d: %v", at, err)
		}
		assertNothingLeft(t, name, host)
	}
}
