//go:build !linux

package cni

import (
	"fmt"
	"os"
)

// Main reports that CNI plugins need Linux.
func Main() {
	fmt.Println(`{"cniVersion":"1.1.0","code":50,"msg":"netns-daemon-cni: network namespaces need Linux"}`)
	os.Exit(1)
}
