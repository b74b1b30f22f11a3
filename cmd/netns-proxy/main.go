// Command netns-proxy is the namespace-aware TCP proxy; see package proxy.
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
	cfg, err := proxy.LoadFile(c.Config)
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
	log := proxy.NewLogger(os.Stderr, format)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := proxy.Run(ctx, cfg, log); err != nil {
		fmt.Fprintln(os.Stderr, "netns-proxy:", err)
		if errors.Is(err, proxy.ErrInvalidConfig) {
			return 2
		}
		return 1
	}
	return 0
}
