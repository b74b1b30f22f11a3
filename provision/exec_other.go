//go:build !linux

package provision

// Run needs Linux namespaces.
func (c *Command) Run(warn func(string)) error { return errUnsupported }

// resolveRootLinks is the identity where symlink ownership is not checked.
func resolveRootLinks(dir string) string { return dir }
