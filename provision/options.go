package provision

import (
	"fmt"
	"time"
)

// Options tune Start and Stop.
type Options struct {
	// Log gets one line per change; nil discards.
	Log func(msg string)
	// Timeout is how long stop lets processes in the namespace exit after
	// SIGTERM before SIGKILL.
	Timeout time.Duration
	// Wait makes stop also wait until the kernel has reaped the veths'
	// host sides (tens of milliseconds), so their names are free again.
	Wait bool
	// Force lets stop move a device to the initial namespace when the host
	// namespace is gone.
	Force bool
	// Recreate makes start delete and make again a provisioned namespace
	// (ending the processes inside) instead of changing it in place.
	Recreate bool
	// beforeCreate, for tests, runs before each object is made; an error
	// fails that object.
	beforeCreate func(key string) error
	// beforeRemove, for tests, runs before each object is deleted.
	beforeRemove func(key string)
}

func (o *Options) log(format string, a ...any) {
	if o.Log != nil {
		o.Log(fmt.Sprintf(format, a...))
	}
}
