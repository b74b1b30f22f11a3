//go:build !linux

package proxy

import (
	"errors"
	"fmt"
)

var errThreadStuck = errors.New("thread stuck in another namespace")

var errNoNetns = errors.New("network namespaces are only supported on Linux")

// nsTable without namespace support: only the proxy's own ("") works.
type nsTable struct{}

func openNamespaces(names []string) (*nsTable, error) {
	if len(names) > 0 {
		return nil, fmt.Errorf("opening namespace %q: %w", names[0], errNoNetns)
	}
	return &nsTable{}, nil
}

func (t *nsTable) close() {}

func (t *nsTable) socketIn(ns string, open func(controlFunc) error) error {
	if ns != "" {
		return fmt.Errorf("entering namespace %q: %w", ns, errNoNetns)
	}
	return open(nil)
}

func (t *nsTable) id(ns string) (string, error) {
	if ns != "" {
		return "", fmt.Errorf("identifying namespace %q: %w", ns, errNoNetns)
	}
	return "self", nil
}
