//go:build !linux

package bintest

// Subreaper needs Linux; elsewhere the tests that use it do not build.
func Subreaper() {}

// Reap needs Linux.
func Reap() {}
