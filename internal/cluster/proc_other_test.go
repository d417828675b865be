//go:build !linux

package cluster_test

import "os/exec"

// dieWithTest does nothing where the kernel offers no parent-death signal; the tests'
// cleanups still kill every node.
func dieWithTest(*exec.Cmd) {}
