//go:build !linux

package emulator

import "os/exec"

// DieWithParent has no portable equivalent outside Linux: there,
// without TestMain calling Main, the emulator outlives the test binary.
func DieWithParent(*exec.Cmd) {}
