package rie

import "syscall"

// setParentDeathSignal makes the kernel kill the emulator if this process
// dies without stopping it (a panic, a test timeout).
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
