// Package rie runs the functions' bootstraps the way Lambda runs them, under
// Amazon's Lambda Runtime Interface Emulator (aws-lambda-rie), on 127.0.0.1:
// the `sam local invoke` experience without Docker. `make invoke` and this
// package's tests use it.
//
// The emulator is a Go program: Find looks for it and Install puts it in the
// project's .tools directory with `go install` when it is missing.
package rie

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ekolek/identity/shared/emulator"
)

const (
	// Package is the emulator's command, for `go install`.
	Package = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"
	// Version is the emulator version Install installs; VersionEnv overrides
	// it (`latest` works too).
	Version = "v0.0.0-20261030222936-bef5c4ba774d"
	// VersionEnv names the variable that overrides Version.
	VersionEnv = "EKOLEK_RIE_VERSION"
	// Binary is the emulator's executable name.
	Binary = "aws-lambda-rie"
	// PathEnv names the variable that points at an emulator binary.
	PathEnv = "EKOLEK_RIE"
	// ToolsDir is where Install puts the emulator, under the repository root.
	ToolsDir = ".tools"
	// BuildTags and the flags below are the ones `make build` uses for Lambda.
	BuildTags = "lambda.norpc"
)

// BuildFlags are the go build flags of a bootstrap: the template's, minus
// the target (Build builds for this machine).
var BuildFlags = []string{"-tags", BuildTags, "-trimpath", "-ldflags=-s -w"}

// Root returns the repository root: the nearest directory above the working
// directory that holds go.mod.
func Root() (string, error) { return emulator.RepoRoot() }

// Find returns the emulator binary: $EKOLEK_RIE, else aws-lambda-rie on
// PATH, in <root>/.tools, or in `go env GOBIN`/`GOPATH`/bin. It returns an
// error naming the places it looked when there is none.
func Find(root string) (string, error) {
	if p := os.Getenv(PathEnv); p != "" {
		if isExecutable(p) {
			return p, nil
		}
		return "", fmt.Errorf("%s=%s is not an executable file", PathEnv, p)
	}
	if p, err := exec.LookPath(Binary); err == nil {
		return p, nil
	}
	candidates := []string{filepath.Join(root, ToolsDir, Binary)}
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		candidates = append(candidates, goBinDirs(string(out))...)
	}
	for _, p := range candidates {
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH or in %s", Binary, strings.Join(candidates, ", "))
}

// goBinDirs returns where `go install` puts binaries, from the output of
// `go env GOBIN GOPATH`: one line each, GOBIN's empty when unset (so the
// output is not trimmed before it is split), GOPATH a list.
func goBinDirs(goEnv string) []string {
	gobin, gopath, _ := strings.Cut(goEnv, "\n")
	var dirs []string
	if gobin = strings.TrimSpace(gobin); gobin != "" {
		dirs = append(dirs, filepath.Join(gobin, Binary))
	}
	for _, p := range filepath.SplitList(strings.TrimSpace(gopath)) {
		dirs = append(dirs, filepath.Join(p, "bin", Binary))
	}
	return dirs
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// Install installs the emulator into <root>/.tools with `go install` and
// returns its path. It needs the Go toolchain and the module proxy.
func Install(ctx context.Context, root string) (string, error) {
	dir := filepath.Join(root, ToolsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	version := Version
	if v := os.Getenv(VersionEnv); v != "" {
		version = v
	}
	cmd := exec.CommandContext(ctx, "go", "install", Package+"@"+version)
	// A cross-compiling environment (GOOS/GOARCH for Lambda) must not leak
	// in: the emulator runs here, and go install refuses GOBIN for
	// cross-compiled binaries.
	cmd.Env = append(withoutVars(os.Environ(), "GOOS", "GOARCH", "GOFLAGS"), "GOBIN="+dir, "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install %s@%s: %v: %s", Package, version, err, strings.TrimSpace(out.String()))
	}
	p := filepath.Join(dir, Binary)
	if !isExecutable(p) {
		return "", fmt.Errorf("go install %s@%s left no %s", Package, version, p)
	}
	return p, nil
}

// FindOrInstall returns Find's answer, installing the emulator when it is
// missing.
func FindOrInstall(ctx context.Context, root string) (string, error) {
	p, err := Find(root)
	if err == nil {
		return p, nil
	}
	if os.Getenv(PathEnv) != "" {
		return "", err
	}
	p, ierr := Install(ctx, root)
	if ierr != nil {
		return "", fmt.Errorf("%v; installing it failed: %w", err, ierr)
	}
	return p, nil
}

// withoutVars returns env without the named variables.
func withoutVars(env []string, names ...string) []string {
	out := env[:0:0]
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			if name == n {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

// Build builds the bootstrap of each function (a directory under
// <root>/functions) for this machine, with the Lambda build flags, into
// <dir>/<function>/bootstrap. One `go build` builds them all, in parallel.
func Build(ctx context.Context, root, dir string, functions ...string) error {
	if len(functions) == 0 {
		return errors.New("build: no functions")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(dir, ".build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	args := append([]string{"build"}, BuildFlags...)
	args = append(args, "-o", tmp+string(filepath.Separator))
	for _, f := range functions {
		args = append(args, "./functions/"+f)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(withoutVars(os.Environ(), "GOOS", "GOARCH"), "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	for _, f := range functions {
		if err := os.MkdirAll(filepath.Join(dir, f), 0o755); err != nil {
			return err
		}
		if err := os.Rename(filepath.Join(tmp, f), filepath.Join(dir, f, "bootstrap")); err != nil {
			return fmt.Errorf("build %s: %w", f, err)
		}
	}
	return nil
}

// Functions lists the functions: the directories under <root>/functions.
func Functions(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		return nil, err
	}
	var fns []string
	for _, e := range entries {
		if e.IsDir() {
			fns = append(fns, e.Name())
		}
	}
	return fns, nil
}

// Options says what Start runs.
type Options struct {
	// RIE is the emulator binary.
	RIE string
	// Bootstrap is the function's bootstrap; the emulator runs it as
	// ./bootstrap from its directory, as Lambda runs it from /var/task.
	Bootstrap string
	// Function names the function (AWS_LAMBDA_FUNCTION_NAME).
	Function string
	// Env is the environment of the emulator, which passes it on to the
	// function. Nil means this process's environment.
	Env []string
	// Output, when set, also receives everything the emulator and the
	// function print, as they print it.
	Output io.Writer
	// LogLevel is the emulator's own log level; "info" (the default) is
	// needed for the init duration in Report.
	LogLevel string
}

// Emulator is one running aws-lambda-rie with one function.
type Emulator struct {
	cmd      *exec.Cmd
	url      string
	out      *output
	exited   chan struct{}
	waitErr  error
	stopOnce sync.Once
}

// Start runs the function's bootstrap under the emulator on 127.0.0.1 (two
// unused ports: the invoke API and the Runtime API) and waits until the
// emulator accepts connections. Like Lambda, the emulator starts the
// bootstrap at the first invocation. The caller must Stop it.
func Start(ctx context.Context, opt Options) (*Emulator, error) {
	boot, err := filepath.Abs(opt.Bootstrap)
	if err != nil {
		return nil, err
	}
	if !isExecutable(boot) {
		return nil, fmt.Errorf("%s is not an executable bootstrap", boot)
	}
	if filepath.Base(boot) != "bootstrap" {
		return nil, fmt.Errorf("%s: the emulator runs a file named bootstrap", boot)
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	level := opt.LogLevel
	if level == "" {
		level = "info"
	}
	cmd := exec.Command(opt.RIE,
		"--log-level", level,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", ports[1]),
		"./bootstrap")
	cmd.Dir = filepath.Dir(boot)
	env := opt.Env
	if env == nil {
		env = os.Environ()
	}
	if opt.Function != "" {
		env = append(withoutVars(env, "AWS_LAMBDA_FUNCTION_NAME"), "AWS_LAMBDA_FUNCTION_NAME="+opt.Function)
	}
	cmd.Env = env
	out := newOutput(opt.Output)
	cmd.Stdout, cmd.Stderr = out, out
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", opt.RIE, err)
	}
	e := &Emulator{cmd: cmd, url: "http://" + addr + "/2015-03-31/functions/function/invocations", out: out, exited: make(chan struct{})}
	go func() { e.waitErr = cmd.Wait(); close(e.exited) }()

	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return e, nil
		}
		select {
		case <-e.exited:
			return nil, fmt.Errorf("the emulator exited before listening (%v): %s", e.waitErr, strings.TrimSpace(out.String()))
		case <-ctx.Done():
			e.Stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.Stop()
			return nil, fmt.Errorf("the emulator is not listening on %s after 15s: %s", addr, strings.TrimSpace(out.String()))
		}
	}
}

// PID is the emulator's process id.
func (e *Emulator) PID() int { return e.cmd.Process.Pid }

// Stop ends the emulator and the function it runs: SIGTERM to the
// emulator's process group, then SIGKILL if it has not gone after 5s.
func (e *Emulator) Stop() {
	e.stopOnce.Do(func() {
		terminate(e.cmd)
		select {
		case <-e.exited:
		case <-time.After(5 * time.Second):
			kill(e.cmd)
			<-e.exited
		}
		// The bootstrap is in the same process group: make sure it is gone
		// too, even if the emulator did not wait for it.
		kill(e.cmd)
	})
}

type output struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	copy io.Writer
}

func newOutput(w io.Writer) *output { return &output{copy: w} }

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.copy != nil {
		_, _ = o.copy.Write(p)
	}
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

func (o *output) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Len()
}

func (o *output) Since(n int) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if n > o.buf.Len() {
		return ""
	}
	return string(o.buf.Bytes()[n:])
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
