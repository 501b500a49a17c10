package emulator

import (
	"os/exec"
	"syscall"
)

// DieWithParent makes the kernel kill the child if the test binary dies
// without running its clean-up (a panic, a timeout, no TestMain).
func DieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
