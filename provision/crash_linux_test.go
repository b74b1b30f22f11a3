package provision

import (
	"bufio"
	"context"
	"fmt"
	"net"
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
	if name := os.Getenv("ND_TEST_PAUSED_STOP"); name != "" {
		Stop(context.Background(), name, Options{beforeRemove: func(key string) {
			if key == keyNetns {
				fmt.Println("paused")
				time.Sleep(time.Minute)
			}
		}})
		os.Exit(0)
	}
	if addr := os.Getenv("ND_TEST_ECHO"); addr != "" {
		echoDaemon(addr)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// echoDaemon is a daemon for tests: it echoes each line on each
// connection, for at most a minute.
func echoDaemon(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("listening")
	time.AfterFunc(time.Minute, func() { os.Exit(0) })
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			r := bufio.NewReader(c)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				c.Write([]byte(line))
			}
		}()
	}
}

// pausedHelper runs this test binary with env, reads its first line and
// kills it with SIGKILL: no chance to clean up.
func pausedHelper(t *testing.T, env string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	cmd.Process.Kill()
	cmd.Wait()
	if line != "paused\n" {
		t.Fatalf("helper %s: got %q; want paused", env, line)
	}
}

func TestKilledStartThenStop(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	for _, at := range []int{1, 5, 12, 19} {
		name := newName()
		pausedHelper(t, fmt.Sprintf("ND_TEST_PAUSED_START=%s,%s,%d", name, host, at))
		if _, err := os.Stat(NetnsPath(name)); err != nil {
			t.Fatalf("step %d: the half-made namespace should exist: %v", at, err)
		}
		if err := Stop(context.Background(), name, Options{Wait: true}); err != nil {
			t.Fatalf("stop after kill at step %d: %v", at, err)
		}
		assertNothingLeft(t, name, host)
	}
}
