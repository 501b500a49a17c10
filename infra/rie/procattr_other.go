//go:build !unix

package rie

import "os/exec"

// The emulator runs on Linux (and other Unix systems); elsewhere Stop can
// only end the emulator itself.
func setProcAttr(*exec.Cmd) {}

func terminate(cmd *exec.Cmd) { _ = cmd.Process.Kill() }

func kill(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
