// Command testreport reads `go test -json` on standard input and prints what
// a plain `go test` would (each package's ok/FAIL line, the output of every
// failing test, build errors), then the slowest ten tests, so that a test
// that has become slow is seen at the end of `make test`:
//
//	go test -json ./... | go run ./infra/testreport
//
// It never decides the outcome: the caller keeps go test's exit status
// (the Makefile saves it before the pipe). testreport exits 1 only when its
// input says a test, a package or a build failed, or cannot be read, so a
// caller that checks its status as well learns nothing new but loses
// nothing either.
package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	Test       string
	Elapsed    float64
	Output     string
	ImportPath string
}

// test names a top-level test (no subtests) in its package.
type test struct {
	pkg, name string
	elapsed   time.Duration
}

// report keeps what is needed to print failures and the summary.
type report struct {
	out io.Writer
	// output holds, per package and per top-level test, the lines not yet
	// printed; a failing test prints its own (and its subtests'), a
	// failing package what it printed outside any test.
	output map[string]map[string][]string
	// elapsed holds, per package, every finished test's own time,
	// subtests included, for cost.
	elapsed map[string]map[string]time.Duration
	tests   []test
	// counts by action, top-level tests only.
	passed, failed, skipped int
	failedPkgs              []string
	buildFailed             bool
}

func newReport(out io.Writer) *report {
	return &report{out: out, output: map[string]map[string][]string{}, elapsed: map[string]map[string]time.Duration{}}
}

// top is the top-level test of a test name: "TestA" of "TestA/b/c".
func top(name string) string {
	if i := strings.IndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return name
}

func (r *report) keep(pkg, testName, line string) {
	if r.output[pkg] == nil {
		r.output[pkg] = map[string][]string{}
	}
	k := top(testName)
	r.output[pkg][k] = append(r.output[pkg][k], line)
}

func (r *report) flush(pkg, testName string) {
	for _, l := range r.output[pkg][testName] {
		fmt.Fprint(r.out, l)
	}
	delete(r.output[pkg], testName)
}

// add takes one event.
func (r *report) add(e event) {
	switch e.Action {
	case "build-output":
		fmt.Fprint(r.out, e.Output)
	case "build-fail":
		r.buildFailed = true
	case "output":
		// The package's own ok/FAIL line is printed by its pass/fail event.
		if e.Test == "" && (strings.HasPrefix(e.Output, "ok  \t") || strings.HasPrefix(e.Output, "FAIL\t") ||
			strings.HasPrefix(e.Output, "?   \t")) {
			return
		}
		if strings.HasPrefix(e.Output, "=== ") {
			return // RUN, PAUSE, CONT, NAME: the -v framing plain go test leaves out
		}
		r.keep(e.Package, e.Test, e.Output)
	case "pass", "fail", "skip":
		if e.Test == "" {
			r.packageDone(e)
			return
		}
		if r.elapsed[e.Package] == nil {
			r.elapsed[e.Package] = map[string]time.Duration{}
		}
		r.elapsed[e.Package][e.Test] = time.Duration(e.Elapsed * float64(time.Second))
		if strings.Contains(e.Test, "/") {
			return // a subtest: its top-level test decides, and prints it
		}
		r.tests = append(r.tests, test{pkg: e.Package, name: e.Test})
		switch e.Action {
		case "pass":
			r.passed++
			delete(r.output[e.Package], e.Test)
		case "skip":
			r.skipped++
			delete(r.output[e.Package], e.Test)
		case "fail":
			r.failed++
			r.flush(e.Package, e.Test)
		}
	}
}

func (r *report) packageDone(e event) {
	switch e.Action {
	case "fail":
		// What the package printed outside its tests: a panic, a TestMain
		// failure, a timeout.
		r.flush(e.Package, "")
		for name := range r.output[e.Package] {
			r.flush(e.Package, name) // a test cut short by a panic or timeout
		}
		fmt.Fprintf(r.out, "FAIL\t%s\t%.3fs\n", e.Package, e.Elapsed)
		r.failedPkgs = append(r.failedPkgs, e.Package)
	case "pass":
		fmt.Fprintf(r.out, "ok  \t%s\t%.3fs\n", e.Package, e.Elapsed)
	case "skip":
		fmt.Fprintf(r.out, "?   \t%s\t[no test files]\n", e.Package)
	}
	delete(r.output, e.Package)
}

// summary prints the counts and the n slowest top-level tests.
func (r *report) summary(n int) {
	fmt.Fprintf(r.out, "\n%d tests passed, %d failed, %d skipped", r.passed, r.failed, r.skipped)
	if len(r.failedPkgs) > 0 {
		fmt.Fprintf(r.out, "; failing packages: %s", strings.Join(r.failedPkgs, " "))
	}
	if r.buildFailed {
		fmt.Fprint(r.out, "; the build failed")
	}
	fmt.Fprintln(r.out)
	slow := slices.Clone(r.tests)
	for i, t := range slow {
		slow[i].elapsed = cost(r.elapsed[t.pkg], t.name)
	}
	slices.SortStableFunc(slow, func(a, b test) int { return cmp.Compare(b.elapsed, a.elapsed) })
	if len(slow) > n {
		slow = slow[:n]
	}
	if len(slow) == 0 {
		return
	}
	fmt.Fprintf(r.out, "slowest %d tests (with their subtests):\n", len(slow))
	for _, t := range slow {
		fmt.Fprintf(r.out, "%8.2fs  %s %s\n", t.elapsed.Seconds(), t.pkg, t.name)
	}
}

// cost is the time of test name with its subtests. Go reports a test's
// own time without the subtests it runs in parallel (they run after its
// function returns), so a test's cost is the larger of its own time and
// the sum of its children's costs; a child is the nearest recorded
// descendant (subtest names may hold "/" themselves: t.Run("a/b")).
func cost(elapsed map[string]time.Duration, name string) time.Duration {
	var children time.Duration
	for d := range elapsed {
		rest, ok := strings.CutPrefix(d, name+"/")
		if !ok {
			continue
		}
		nearest := true
		for i := range len(rest) {
			if rest[i] == '/' {
				if _, between := elapsed[name+"/"+rest[:i]]; between {
					nearest = false
					break
				}
			}
		}
		if nearest {
			children += cost(elapsed, d)
		}
	}
	return max(elapsed[name], children)
}

func (r *report) ok() bool { return r.failed == 0 && len(r.failedPkgs) == 0 && !r.buildFailed }

// run reads the stream and reports; it returns whether everything passed.
func run(in io.Reader, out io.Writer, n int) (bool, error) {
	r := newReport(out)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			// Not an event (go test's own errors can be plain text):
			// printed as it is, never dropped.
			fmt.Fprintf(out, "%s\n", line)
			continue
		}
		r.add(e)
	}
	// Output left over belongs to a package that never finished (the
	// stream was cut): print it rather than lose it.
	for pkg, tests := range r.output {
		for name := range tests {
			r.flush(pkg, name)
		}
	}
	r.summary(n)
	if err := sc.Err(); err != nil {
		return false, err
	}
	return r.ok(), nil
}

func main() {
	n := flag.Int("n", 10, "how many of the slowest tests to list")
	flag.Parse()
	ok, err := run(os.Stdin, os.Stdout, *n)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}
