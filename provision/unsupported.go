//go:build !linux

package provision

import (
	"context"
	"errors"
)

// errUnsupported is what every kernel action says on other systems; the
// spec, validation, the plan, the diff and their rendering work anywhere.
var errUnsupported = errors.New("network namespaces need Linux")

func Start(context.Context, *Spec, Options) (Outcome, error) { return Created, errUnsupported }
func Stop(context.Context, string, Options) error            { return errUnsupported }
func DryRun(*Spec) ([]string, error)                         { return nil, errUnsupported }
func ReadState(string) (*State, error)                       { return nil, errUnsupported }
func Inspect(string) (*Report, error)                        { return nil, errUnsupported }
func Drift(*State) []Difference                              { return nil }
func Names() ([]string, error)                               { return nil, errUnsupported }
func PIDsInside(string) ([]int, error)                       { return nil, errUnsupported }
