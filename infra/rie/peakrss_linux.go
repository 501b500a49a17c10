package rie

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// PeakRSS returns the peak resident set size, in bytes, of the function's
// process: VmHWM in /proc/<pid>/status of the emulator's child running
// ./bootstrap. Read it before Stop; it covers the process's whole life (init
// and every invocation so far). Lambda's "Max Memory Used" is the nearest
// deployed figure.
func (e *Emulator) PeakRSS() (int64, error) {
	pid, err := e.bootstrapPID()
	if err != nil {
		return 0, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/status: VmHWM %q: %w", pid, v, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmHWM", pid)
}

// bootstrapPID finds the emulator's child whose executable is named
// bootstrap, by its parent pid in /proc/<pid>/stat (the kernel may lack
// /proc/<pid>/task/<tid>/children).
func (e *Emulator) bootstrapPID() (int, error) {
	parent := e.PID()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(parent) {
			continue
		}
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err == nil && filepath.Base(strings.TrimSuffix(exe, " (deleted)")) == "bootstrap" {
			return pid, nil
		}
	}
	return 0, errors.New("the emulator has no running bootstrap child (not invoked yet, or it exited)")
}
