// Command invoke runs one function the way Lambda runs it and prints its
// response: it builds the function's bootstrap for this machine, starts it
// under Amazon's Lambda Runtime Interface Emulator on 127.0.0.1, sends one
// API Gateway event and stops the emulator — `sam local invoke -e` without
// Docker. `make invoke FN=login EVENT=events/login.admin.json` calls it.
//
//	go run ./infra/invoke -function login -event events/login.admin.json
//
// The function reads the same EKOLEK_* and AWS_* environment as everywhere
// else: the embedded store in EKOLEK_DATA_DIR (.data) by default, which one
// process at a time may hold, so stop `make run` first (the function says so
// when it finds the store locked). The Lambda response JSON goes to standard
// output; the function's logs and the emulator's timings go to standard error.
// The emulator is installed into .tools with `go install` when missing.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ekolek/identity/infra/rie"
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	var exit exitError
	switch {
	case errors.As(err, &exit):
		os.Exit(int(exit))
	case err != nil:
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
}

// exitError is an exit status after the reason has been printed.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	function := fs.String("function", "", "the function to run (a directory under functions/)")
	eventFile := fs.String("event", "", "the API Gateway event to send (a JSON file, e.g. events/login.admin.json)")
	bootstrap := fs.String("bootstrap", "", "run this bootstrap instead of building one")
	verbose := fs.Bool("v", false, "also print the emulator's own log lines")
	installOnly := fs.Bool("install-rie", false, "only make sure the emulator is installed (into .tools/ when missing) and print its path")
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := rie.Root()
	if err != nil {
		return err
	}
	if *installOnly {
		p, err := rie.FindOrInstall(context.Background(), root)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, p)
		return nil
	}
	fns, err := rie.Functions(root)
	if err != nil {
		return err
	}
	if *function == "" || !contains(fns, *function) {
		return fmt.Errorf("-function (FN=) must be one of: %s", strings.Join(fns, " "))
	}
	if *eventFile == "" {
		return fmt.Errorf("-event (EVENT=) is required; events for %s: %s", *function, strings.Join(eventsFor(root, *function), " "))
	}
	event, err := os.ReadFile(*eventFile)
	if err != nil {
		return err
	}
	if !json.Valid(event) {
		return fmt.Errorf("%s is not JSON", *eventFile)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	emulator, err := rie.Find(root)
	if err != nil {
		fmt.Fprintf(stderr, "invoke: %v; installing %s into %s\n", err, rie.Binary, filepath.Join(root, rie.ToolsDir))
		if emulator, err = rie.Install(ctx, root); err != nil {
			return err
		}
	}
	if *bootstrap == "" {
		dir := filepath.Join(root, "bin", "native")
		fmt.Fprintf(stderr, "invoke: building %s for this machine into %s\n", *function, filepath.Join("bin", "native", *function, "bootstrap"))
		if err := rie.Build(ctx, root, dir, *function); err != nil {
			return err
		}
		*bootstrap = filepath.Join(dir, *function, "bootstrap")
	}

	env, err := functionEnv(os.Environ())
	if err != nil {
		return err
	}
	// The function's own settings from the template (GOGC), as sam local
	// invoke adds them; a variable already set here wins.
	deployed, err := rie.TemplateEnv(root, *function)
	if err != nil {
		return err
	}
	for _, kv := range deployed {
		name, _, _ := strings.Cut(kv, "=")
		if _, set := os.LookupEnv(name); !set {
			env = append(env, kv)
		}
	}
	var logs io.Writer = &lineFilter{w: stderr}
	if *verbose {
		logs = stderr
	}
	em, err := rie.Start(ctx, rie.Options{RIE: emulator, Bootstrap: *bootstrap, Function: *function, Env: env, Output: logs})
	if err != nil {
		return err
	}
	defer em.Stop()
	res, err := em.Invoke(ctx, event)
	if err != nil {
		return err
	}
	em.Stop()

	if res.HTTPStatus != 200 {
		fmt.Fprintf(stderr, "invoke: the function did not start (emulator status %d): see its log above.\n", res.HTTPStatus)
		if strings.Contains(res.Logs, "is `make run` running?") {
			fmt.Fprintln(stderr, "invoke: the embedded store is locked by another process (`make run`?): stop it, or point EKOLEK_DATA_DIR elsewhere.")
		}
		if len(bytes.TrimSpace(res.Payload)) > 0 {
			fmt.Fprintln(stdout, string(res.Payload))
		}
		return exitError(1)
	}
	r := res.Report
	if r.Init > 0 {
		fmt.Fprintf(stderr, "invoke: init %s, duration %s (handler %s)\n", round(r.Init), round(r.Duration), round(r.Runtime))
	} else {
		fmt.Fprintf(stderr, "invoke: duration %s\n", round(r.Duration))
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, res.Payload, "", "  "); err != nil {
		pretty.Write(res.Payload)
	}
	fmt.Fprintln(stdout, pretty.String())
	var lambdaErr struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	if json.Unmarshal(res.Payload, &lambdaErr) == nil && lambdaErr.ErrorType != "" {
		fmt.Fprintf(stderr, "invoke: the function returned an error (%s): %s\n", lambdaErr.ErrorType, lambdaErr.ErrorMessage)
		return exitError(1)
	}
	return nil
}

// functionEnv is this process's environment for the function, with
// EKOLEK_DATA_DIR (default .data) made absolute: the emulator runs the
// bootstrap from its own directory, as Lambda runs it from /var/task.
func functionEnv(env []string) ([]string, error) {
	dir := ".data"
	out := env[:0:0]
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "EKOLEK_DATA_DIR="); ok {
			if v != "" {
				dir = v
			}
			continue
		}
		out = append(out, kv)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return append(out, "EKOLEK_DATA_DIR="+abs), nil
}

func eventsFor(root, function string) []string {
	files, _ := filepath.Glob(filepath.Join(root, "events", function+".*.json"))
	for i, f := range files {
		files[i] = filepath.Join("events", filepath.Base(f))
	}
	return files
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func round(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// lineFilter passes on the function's own output, dropping the emulator's
// log lines.
type lineFilter struct {
	w       io.Writer
	pending []byte
}

func (f *lineFilter) Write(p []byte) (int, error) {
	f.pending = append(f.pending, p...)
	for {
		i := bytes.IndexByte(f.pending, '\n')
		if i < 0 {
			break
		}
		line := string(f.pending[:i+1])
		f.pending = f.pending[i+1:]
		// The emulator's REPORT line says "Init Duration" but measures
		// nothing (it starts the init without waiting for it); run
		// prints the init duration from the emulator's INIT REPORT.
		if rie.FunctionLogs(line) != "" && !strings.HasPrefix(line, "REPORT ") {
			_, _ = io.WriteString(f.w, line)
		}
	}
	return len(p), nil
}
