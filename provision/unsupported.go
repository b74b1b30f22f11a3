//go:build !linux

package provision

import (
	"context"
	"errors"
	"time"
)

var errUnsupported = errors.New("network namespaces need Linux")

type step struct {
	cmd  string
	do   func(*struct{}) error
	undo func(*struct{}) error
}

func buildPlan(*Spec) []step { return nil }

type Options struct {
	Log     func(string)
	Timeout time.Duration
}

func Start(context.Context, *Spec, Options) (Outcome, error) { return 0, errUnsupported }
func Stop(context.Context, string, Options) error            { return errUnsupported }
