//go:build !linux

package proxy

func raiseFileLimit(int) {}
