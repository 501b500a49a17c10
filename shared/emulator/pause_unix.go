//go:build unix

package emulator

import (
	"os"
	"syscall"
)

// Pause stops p (SIGSTOP) as a hung server is: its sockets stay open and
// accept connections, but nothing answers.
func Pause(p *os.Process) error { return p.Signal(syscall.SIGSTOP) }

// Resume lets a paused p run again (SIGCONT).
func Resume(p *os.Process) error { return p.Signal(syscall.SIGCONT) }
