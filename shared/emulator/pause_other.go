//go:build !unix

package emulator

import (
	"errors"
	"os"
)

var errNoPause = errors.New("emulator: pausing a process needs SIGSTOP (Unix)")

// Pause stops p as a hung server is; only on Unix.
func Pause(*os.Process) error { return errNoPause }

// Resume lets a paused process run again; only on Unix.
func Resume(*os.Process) error { return errNoPause }
