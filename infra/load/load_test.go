package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
)

// TestMain lets the test binary be the bare server too, as the load
// program is (startBare runs its own executable with "bare"), and stops
// the DynamoDB Local dynamotest started, if it did.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "bare" {
		if err := serveBare(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := dynamotest.Main(m)
	if apiDir != "" {
		_ = os.RemoveAll(apiDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	apiDir    string
	apiBin    string
	buildErr  error
)

// builtAPI is the local API built once for the package's tests.
func builtAPI(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if apiDir, buildErr = os.MkdirTemp("", "load-test-"); buildErr != nil {
			return
		}
		apiBin = filepath.Join(apiDir, "localapi")
		if out, err := exec.Command("go", "build", "-o", apiBin, "../localapi").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return apiBin
}

// TestBareAnswersWhatTheAPIAnswered: the bare handler answers every header
// and the body it was given (net/http adds Date and Content-Length to both).
func TestBareAnswersWhatTheAPIAnswered(t *testing.T) {
	header := http.Header{
		"Content-Type":            {"application/json; charset=utf-8"},
		"Cache-Control":           {"no-store"},
		"Content-Security-Policy": {"default-src 'none'; frame-ancestors 'none'"},
		"X-Request-Id":            {"0123456789abcdef0123456789abcdef"},
		"Date":                    {"Sun, 06 Dec 2026 08:00:00 GMT"},
		"Content-Length":          {"17"},
	}
	body := []byte(`{"account":{}}` + "\n")
	var file bytes.Buffer
	if err := writeAnswer(&file, header, body); err != nil {
		t.Fatal(err)
	}
	h, b, err := readAnswer(&file)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(bareHandler(h, b))
	defer srv.Close()
	res, err := http.Get(srv.URL + sessionPath)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != 200 || !bytes.Equal(got, body) {
		t.Fatalf("%d %q", res.StatusCode, got)
	}
	for k, v := range header {
		if k == "Date" || k == "Content-Length" {
			continue
		}
		if res.Header.Get(k) != v[0] {
			t.Errorf("%s: %q, want %q", k, res.Header.Get(k), v[0])
		}
	}
	if res.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Errorf("Content-Length %q", res.Header.Get("Content-Length"))
	}
}

func TestQuantile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	for q, want := range map[float64]time.Duration{0.5: 50, 0.99: 99, 1: 100, 0: 1} {
		if got := quantile(d, q); got != want {
			t.Errorf("q%.2f = %d, want %d", q, got, want)
		}
	}
	if got := quantile([]time.Duration{7}, 0.99); got != 7 {
		t.Errorf("one value: %d", got)
	}
}

// TestLoadAgainstBothServers runs the load program briefly as make load
// does: the local API (built here) with a real login and session, the
// bare server, every run free of errors, the report's table and ratios,
// and an access log line written for every request the API was sent.
func TestLoadAgainstBothServers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the local API")
	}
	dir := t.TempDir()
	api := builtAPI(t)
	var out bytes.Buffer
	err := run(options{api: api, dir: dir, duration: 400 * time.Millisecond, warmup: 100 * time.Millisecond, rounds: 2, workers: 4,
		loadAverage: func() string { return "1.00 1.00 1.00" }}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	report := out.String()
	for _, want := range []string{"| 1 | local API | 1.00 1.00 1.00 |", "| 1 | bare net/http |", "| 2 | local API |", "| 2 | bare net/http |", "req/s ratio: median", "p99 ratio: median"} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
	m := regexp.MustCompile(`access log: (\d+) lines written for the (\d+) requests`).FindStringSubmatch(report)
	if m == nil {
		t.Fatalf("no access log line in the report:\n%s", report)
	}
	lines, _ := strconv.Atoi(m[1])
	sent, _ := strconv.Atoi(m[2])
	if sent < 100 || lines < sent {
		t.Fatalf("%d access log lines for %d requests", lines, sent)
	}
}
