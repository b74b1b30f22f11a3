// Package cli holds what the commands share: flag parsing with kong and the
// mapping of errors to exit statuses.
package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/alecthomas/kong"
	"github.com/netns-daemon/netns-daemon/provision"
)

// Exit statuses shared by the commands.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2 // bad input: nothing was touched
)

// Parse fills cmd from the command line; a usage error exits 2.
func Parse(cmd any, name, description string, opts ...kong.Option) *kong.Context {
	opts = append([]kong.Option{kong.Name(name), kong.Description(description), kong.UsageOnError()}, opts...)
	k, err := kong.New(cmd, opts...)
	if err != nil {
		panic(err)
	}
	ctx, err := k.Parse(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(ExitUsage)
	}
	return ctx
}

// Fail prints err and exits with its status: 2 for invalid input, 1 else.
func Fail(name string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	if errors.Is(err, provision.ErrInvalidSpec) {
		os.Exit(ExitUsage)
	}
	os.Exit(ExitFailure)
}
