//go:build !linux

package provision

// Run needs Linux namespaces.
func (c *Command) Run(warn func(string)) error { return errUnsupported }
