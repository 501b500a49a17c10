package main

import (
	"fmt"
	"strings"
	"testing"
)

// stream is a `go test -json` run of three packages: a passes (TestFast,
// TestSlow with a subtest, TestFanOut whose subtests ran in parallel, so
// its own time leaves them out, TestSkipped), b fails one test and has a
// passing one, c does not build.
var stream = strings.Join([]string{
	`{"Action":"start","Package":"ex/a"}`,
	`{"Action":"run","Package":"ex/a","Test":"TestFast"}`,
	`{"Action":"output","Package":"ex/a","Test":"TestFast","Output":"=== RUN   TestFast\n"}`,
	`{"Action":"output","Package":"ex/a","Test":"TestFast","Output":"    a_test.go:9: fast detail\n"}`,
	`{"Action":"pass","Package":"ex/a","Test":"TestFast","Elapsed":0.01}`,
	`{"Action":"run","Package":"ex/a","Test":"TestSlow"}`,
	`{"Action":"run","Package":"ex/a","Test":"TestSlow/sub"}`,
	`{"Action":"pass","Package":"ex/a","Test":"TestSlow/sub","Elapsed":12}`,
	`{"Action":"pass","Package":"ex/a","Test":"TestSlow","Elapsed":12.5}`,
	`{"Action":"pass","Package":"ex/a","Test":"TestFanOut/x/blip","Elapsed":4}`, // t.Run("x/blip")
	`{"Action":"pass","Package":"ex/a","Test":"TestFanOut/y","Elapsed":4.5}`,
	`{"Action":"pass","Package":"ex/a","Test":"TestFanOut/y/z","Elapsed":4}`,
	`{"Action":"pass","Package":"ex/a","Test":"TestFanOut","Elapsed":0.01}`,
	`{"Action":"skip","Package":"ex/a","Test":"TestSkipped","Elapsed":0}`,
	`{"Action":"output","Package":"ex/a","Output":"ok  \tex/a\t12.6s\n"}`,
	`{"Action":"pass","Package":"ex/a","Elapsed":12.6}`,
	`{"Action":"start","Package":"ex/b"}`,
	`{"Action":"output","Package":"ex/b","Test":"TestBroken","Output":"=== RUN   TestBroken\n"}`,
	`{"Action":"output","Package":"ex/b","Test":"TestBroken/step","Output":"    b_test.go:7: got 1, want 2\n"}`,
	`{"Action":"fail","Package":"ex/b","Test":"TestBroken/step","Elapsed":0.2}`,
	`{"Action":"output","Package":"ex/b","Test":"TestBroken","Output":"--- FAIL: TestBroken (3.00s)\n"}`,
	`{"Action":"fail","Package":"ex/b","Test":"TestBroken","Elapsed":3}`,
	`{"Action":"output","Package":"ex/b","Test":"TestFine","Output":"    b_test.go:20: nothing to see\n"}`,
	`{"Action":"pass","Package":"ex/b","Test":"TestFine","Elapsed":0.5}`,
	`{"Action":"output","Package":"ex/b","Output":"FAIL\n"}`,
	`{"Action":"output","Package":"ex/b","Output":"FAIL\tex/b\t3.5s\n"}`,
	`{"Action":"fail","Package":"ex/b","Elapsed":3.5}`,
	`{"ImportPath":"ex/c","Action":"build-output","Output":"c.go:3:1: syntax error\n"}`,
	`{"ImportPath":"ex/c","Action":"build-fail"}`,
	`go: a line that is not JSON`,
}, "\n") + "\n"

func TestReport(t *testing.T) {
	var out strings.Builder
	ok, err := run(strings.NewReader(stream), &out, 3)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Error("a stream with a failing test, a failing package and a build failure reported as passing")
	}
	got := out.String()
	for _, want := range []string{
		"ok  \tex/a\t12.600s\n",
		"    b_test.go:7: got 1, want 2\n--- FAIL: TestBroken (3.00s)\n", // a failing test's output, its subtests' too
		"FAIL\nFAIL\tex/b\t3.500s\n",
		"c.go:3:1: syntax error\n",
		"go: a line that is not JSON\n",
		"4 tests passed, 1 failed, 1 skipped; failing packages: ex/b; the build failed\n",
		// Top-level tests only, slowest first, n of them; TestFanOut's
		// parallel subtests (4 + 4.5) count, TestSlow's sequential one
		// is in its own time already.
		"slowest 3 tests (with their subtests):\n   12.50s  ex/a TestSlow\n    8.50s  ex/a TestFanOut\n    3.00s  ex/b TestBroken\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q; it is:\n%s", want, got)
		}
	}
	for _, unwanted := range []string{"fast detail", "nothing to see", "=== RUN", "TestSlow/sub", "ok  \tex/a\t12.6s"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("report holds %q (a passing test's output, -v framing or a duplicate line); it is:\n%s", unwanted, got)
		}
	}
}

func TestReportPassing(t *testing.T) {
	var in strings.Builder
	for i := range 12 {
		fmt.Fprintf(&in, `{"Action":"pass","Package":"ex/p","Test":"Test%02d","Elapsed":%d}`+"\n", i, i)
	}
	in.WriteString(`{"Action":"pass","Package":"ex/p","Elapsed":66}` + "\n")
	var out strings.Builder
	ok, err := run(strings.NewReader(in.String()), &out, 10)
	if err != nil || !ok {
		t.Fatalf("run = %v, %v; want a pass:\n%s", ok, err, out.String())
	}
	got := out.String()
	if !strings.Contains(got, "slowest 10 tests (with their subtests):\n   11.00s  ex/p Test11\n") || !strings.Contains(got, "    2.00s  ex/p Test02\n") ||
		strings.Contains(got, "Test01\n") {
		t.Errorf("the ten slowest of twelve, slowest first, are not what was printed:\n%s", got)
	}
}

// A package cut short (a panic, a timeout) prints what its running test
// said, though that test never got an event of its own.
func TestReportPanic(t *testing.T) {
	in := `{"Action":"output","Package":"ex/q","Test":"TestBoom","Output":"panic: boom\n"}
{"Action":"output","Package":"ex/q","Output":"FAIL\tex/q\t0.1s\n"}
{"Action":"fail","Package":"ex/q","Elapsed":0.1}
`
	var out strings.Builder
	ok, err := run(strings.NewReader(in), &out, 10)
	if err != nil || ok || !strings.Contains(out.String(), "panic: boom\n") || !strings.Contains(out.String(), "FAIL\tex/q\t0.100s\n") {
		t.Errorf("run = %v, %v:\n%s", ok, err, out.String())
	}
}
