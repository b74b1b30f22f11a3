package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "proxy.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckExitCodes(t *testing.T) {
	good := writeConfig(t, "[[frontend]]\nname = \"in\"\nbind = [\"127.0.0.1:8080\"]\nbackend = \"app\"\n[[backend]]\nname = \"app\"\n[[backend.server]]\nname = \"s1\"\naddress = \"127.0.0.1:9090\"\n")
	bad := writeConfig(t, "[[frontend]]\nname = \"in\"\nbind = [\"10.1.0.5\"]\nbackend = \"app\"\n[[backend]]\nname = \"app\"\n[[backend.server]]\nname = \"s1\"\naddress = \"127.0.0.1:9090\"\n")
	base := "[[frontend]]\nname = \"in\"\nbind = [\"127.0.0.1:8080\"]\nbackend = \"app\"\n[[backend]]\nname = \"app\"\n[[backend.server]]\nname = \"s1\"\naddress = \"127.0.0.1:9090\"\n"
	// Configs the worker failed on or misbehaved with, that --check passed.
	runtimeFailures := map[string]string{
		"same bind in two frontends": base + "[[frontend]]\nname = \"two\"\nbind = [\"127.0.0.1:8080\"]\nbackend = \"app\"\n",
		"same bind twice":            strings.Replace(base, `["127.0.0.1:8080"]`, `["127.0.0.1:8080", "127.0.0.1:08080"]`, 1),
		"wildcard and specific":      strings.Replace(base, `["127.0.0.1:8080"]`, `["127.0.0.1:8080", "0.0.0.0:8080"]`, 1),
		"check_interval 1ns":         base + "check = true\ncheck_interval = \"1ns\"\n",
		"mapped trusted source /64":  strings.Replace(base, `backend = "app"`, "backend = \"app\"\naccept_proxy = true\ntrusted_sources = [\"::ffff:0:0/64\"]", 1),
		"over 1 MiB":                 base + "# " + strings.Repeat("x", 1<<20) + "\n",
	}
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"valid", []string{"-c", good, "--check"}, 0},
		{"example", []string{"--config", "../../examples/proxy/namespace-star.toml", "--check"}, 0},
		{"in-namespace example", []string{"-c", "../../examples/proxy/in-namespace.toml", "--check"}, 0},
		{"invalid", []string{"-c", bad, "--check"}, 2},
		{"missing file", []string{"-c", filepath.Join(t.TempDir(), "none.toml"), "--check"}, 2},
		{"unknown flag", []string{"-c", good, "--bogus"}, 2},
		{"no config", []string{"--check"}, 2},
		{"bad log format", []string{"-c", good, "--log-format", "xml"}, 2},
	}
	for name, text := range runtimeFailures {
		tests = append(tests, struct {
			name string
			args []string
			want int
		}{name, []string{"-c", writeConfig(t, text), "--check"}, 2})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := run(tt.args); got != tt.want {
				t.Errorf("run(%q) = %d; want %d", tt.args, got, tt.want)
			}
		})
	}
}

// TestSIGTERMGrace runs the real binary: SIGTERM stops new connections, an
// open one keeps working through the grace period, and the exit is 0.
func TestSIGTERMGrace(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "netns-proxy")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	// The proxy needs a fixed port to be told about; take a free one.
	probe, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := probe.Addr().String()
	probe.Close()
	cfg := writeConfig(t, fmt.Sprintf("[defaults]\ngrace = \"1s\"\n[[frontend]]\nname = \"in\"\nbind = [%q]\nbackend = \"app\"\n[[backend]]\nname = \"app\"\n[[backend.server]]\nname = \"s1\"\naddress = %q\n", addr, echo.Addr()))
	cmd := exec.Command(bin, "-c", cfg, "--log-format", "json")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	logs := bufio.NewScanner(stderr)
	waitFor := func(what string) {
		t.Helper()
		for logs.Scan() {
			if strings.Contains(logs.Text(), what) {
				return
			}
		}
		t.Fatalf("log ended before %q", what)
	}
	waitFor(`"msg":"started"`)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1)
	io.WriteString(c, "a")
	if _, err := c.Read(buf); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	waitFor(`"msg":"stopping"`)
	if c2, err := net.Dial("tcp", addr); err == nil {
		c2.Close()
		t.Error("accepted a connection after SIGTERM")
	}
	io.WriteString(c, "b")
	if _, err := c.Read(buf); err != nil || buf[0] != 'b' {
		t.Errorf("open connection during grace: %q, %v", buf, err)
	}
	go io.Copy(io.Discard, stderr)
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v; want status 0", err)
	}
	if d := time.Since(start); d < 900*time.Millisecond || d > 5*time.Second {
		t.Errorf("exited %v after SIGTERM; want after the 1s grace", d)
	}
}
