//go:build unix && !linux

package rie

import "syscall"

// setParentDeathSignal has no equivalent outside Linux.
func setParentDeathSignal(*syscall.SysProcAttr) {}
