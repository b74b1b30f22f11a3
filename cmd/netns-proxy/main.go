// Command netns-proxy is the namespace-aware TCP proxy; see package proxy.
//
// It runs as a master that keeps the PID and the listening sockets, and a
// worker (this binary again, started by the master) that serves them; see
// proxy.Master. SIGHUP reloads the config without closing a socket.
//
// Exit status: 0 ok, 1 runtime failure, 2 bad flags or config.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"

	"github.com/netns-daemon/netns-daemon/proxy"
)

type cli struct {
	Config    string `short:"c" required:"" type:"path" help:"Config file (TOML)."`
	Check     bool   `help:"Check the config and exit: 0 if valid, 2 if not."`
	LogFormat string `enum:",text,json" default:"" help:"Override log.format (text or json)."`
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	var c cli
	parser, err := kong.New(&c, kong.Name("netns-proxy"),
		kong.Description("A TCP proxy whose listeners and servers live in network namespaces."),
		kong.Exit(func(code int) { os.Exit(code) }))
	if err != nil {
		fmt.Fprintln(os.Stderr, "netns-proxy:", err)
		return 1
	}
	if _, err := parser.Parse(args); err != nil {
		fmt.Fprintln(os.Stderr, "netns-proxy:", err)
		return 2
	}
	if proxy.IsWorker() {
		return worker(c)
	}
	cfg, text, err := proxy.ReadConfig(c.Config)
	if err != nil {
		fmt.Fprintln(os.Stderr, "netns-proxy:", err)
		return 2
	}
	if c.Check {
		fmt.Printf("%s: configuration is valid\n", c.Config)
		return 0
	}
	format := cfg.Log.Format
	if c.LogFormat != "" {
		format = c.LogFormat
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	m := &proxy.Master{ConfigPath: c.Config, Args: args, Log: proxy.NewLogger(os.Stderr, format).With("role", "master")}
	return exitCode(m.Run(ctx, cfg, text, hup))
}

// worker serves what its master passed until SIGTERM.
func worker(c cli) int {
	in, err := proxy.Inherit()
	if err != nil {
		return exitCode(err)
	}
	format := in.Config.Log.Format
	if c.LogFormat != "" {
		format = c.LogFormat
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	signal.Ignore(syscall.SIGHUP) // the master's to handle; a terminal hangup must not kill us
	p, err := proxy.NewWithOptions(in.Config, proxy.NewLogger(os.Stderr, format).With("pid", os.Getpid()), in.Options)
	if err != nil {
		return exitCode(err)
	}
	return exitCode(p.Serve(ctx))
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(os.Stderr, "netns-proxy:", err)
	if errors.Is(err, proxy.ErrInvalidConfig) {
		return 2
	}
	return 1
}
