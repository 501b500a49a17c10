// Package emulator is the plumbing the test harnesses share to run local
// emulators (DynamoDB Local, moto) as child processes on 127.0.0.1.
package emulator

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// FreePort returns a TCP port free on 127.0.0.1 at the time of asking.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Output collects what concurrent writers write (a child's output, a
// server's log lines), safe for its writers and a reader at once.
type Output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// WaitReady polls probe every 100 ms until it succeeds, the child exits
// (exited closes) or 30 s pass; the errors carry the child's output.
func WaitReady(ep string, probe func() error, exited <-chan struct{}, out *Output) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := probe()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("exited before answering: %s", strings.TrimSpace(out.String()))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer on %s within 30s: %v; output: %s", ep, err, strings.TrimSpace(out.String()))
		}
	}
}

// RepoRoot is the nearest directory above the working directory that holds
// go.mod: where a test finds the repository's files.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
