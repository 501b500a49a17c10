package mototest

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal makes the kernel kill moto_server if the test binary
// dies without running Main's clean-up (a panic, a timeout, no TestMain).
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
