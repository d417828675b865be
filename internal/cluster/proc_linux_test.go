package cluster_test

import (
	"os/exec"
	"syscall"
)

// dieWithTest makes the kernel SIGKILL a node if the test process dies without running its
// cleanups (a panic, or go test's timeout).
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
