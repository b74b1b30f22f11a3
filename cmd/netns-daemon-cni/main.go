// Command netns-daemon-cni is netns-daemon as a CNI plugin ("type":
// "netns-daemon-cni" in a network configuration list); see package cni.
package main

import "github.com/netns-daemon/netns-daemon/cni"

func main() { cni.Main() }
