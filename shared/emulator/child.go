package emulator

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"
)

// Child is an emulator the tests run as a child process, on 127.0.0.1 and
// a port of its own. A fault test may pause it (SIGSTOP), kill it
// (SIGKILL, as a crash or an out-of-memory kill ends it) and start it
// again on the same port, where its clients find it.
type Child struct {
	// Endpoint is its URL, the same across restarts.
	Endpoint string
	command  func() *exec.Cmd
	probe    func() error

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd has been waited for
	out    *Output
}

// Start runs command and waits until probe succeeds (WaitReady). command
// makes a new *exec.Cmd at each call, with the same program, arguments and
// port: Restart calls it again. The Child is returned once started even
// when it did not answer, for the caller to Stop.
func Start(endpoint string, command func() *exec.Cmd, probe func() error) (*Child, error) {
	c := &Child{Endpoint: endpoint, command: command, probe: probe}
	return c, c.start()
}

func (c *Child) start() error {
	cmd := c.command()
	out := &Output{}
	cmd.Stdout, cmd.Stderr = out, out
	DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	c.mu.Lock()
	c.cmd, c.exited, c.out = cmd, exited, out
	c.mu.Unlock()
	return WaitReady(c.Endpoint, c.probe, exited, out)
}

// Process is the running process (after a Restart, the new one).
func (c *Child) Process() *os.Process {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		return nil
	}
	return c.cmd.Process
}

// Output is what the running process has written so far.
func (c *Child) Output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.out == nil {
		return ""
	}
	return c.out.String()
}

// Pause stops the process as a hung server is (Pause).
func (c *Child) Pause() error { return Pause(c.Process()) }

// Resume lets a paused process run again.
func (c *Child) Resume() error { return Resume(c.Process()) }

// Kill ends the process at once (SIGKILL): its connections break and its
// port refuses connections. It returns once the process is gone.
func (c *Child) Kill() error {
	c.mu.Lock()
	cmd, exited := c.cmd, c.exited
	c.mu.Unlock()
	if cmd == nil {
		return errors.New("emulator: nothing to kill")
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-exited:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("emulator: pid %d still there 10 s after SIGKILL", cmd.Process.Pid)
	}
}

// Restart starts a killed child again, on the same port, and waits until
// it answers. What it kept across the kill is the emulator's business
// (DynamoDB Local on disk keeps its tables; moto keeps nothing). The port
// may be held a moment longer than the process, so a start that exits at
// once is tried again, up to five times.
func (c *Child) Restart() error {
	if c.running() {
		return errors.New("emulator: restart of a child that still runs")
	}
	var err error
	for range 5 {
		if err = c.start(); err == nil || c.running() {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
	return err
}

func (c *Child) running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.exited == nil {
		return false
	}
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// Stop ends the child, paused or not, and waits for it: a test's clean-up.
func (c *Child) Stop() {
	if p := c.Process(); p != nil && c.running() {
		_ = Resume(p) // a paused process is resumed before it is ended
	}
	if c.running() {
		_ = c.Kill()
	}
}
