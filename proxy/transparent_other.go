//go:build !linux

package proxy

import "errors"

func setTransparent(int, string) error {
	return errors.New("transparent proxying is only supported on Linux")
}
