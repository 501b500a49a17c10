//go:build !linux

package mototest

import "os/exec"

// setParentDeathSignal has no portable equivalent outside Linux: there,
// without TestMain calling Main, moto_server outlives the test binary.
func setParentDeathSignal(*exec.Cmd) {}
