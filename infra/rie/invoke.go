package rie

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Report is what the emulator measured for one invocation.
type Report struct {
	// Init is how long the function's initialisation took (process start
	// to its first call for an event), from the emulator's "INIT REPORT"
	// line; zero after the first invocation.
	Init time.Duration
	// Duration is the emulator's "Duration" for the invocation; on the
	// first invocation it includes waiting for the initialisation.
	Duration time.Duration
	// Runtime is the function's own handling time ("INVOKE RTDONE"):
	// event in to response out, without the initialisation.
	Runtime time.Duration
}

// Result is one invocation.
type Result struct {
	// HTTPStatus is the emulator's HTTP status: 200 when the function
	// answered (even with an error payload), 502 when it failed to start.
	HTTPStatus int
	// Payload is what the function returned: the Lambda response JSON.
	Payload   []byte
	RequestID string
	Report    Report
	// Logs is what the emulator and the function printed for this
	// invocation (and for the initialisation, on the first).
	Logs string
}

var invokeSeq struct {
	sync.Mutex
	n int
}

// Invoke sends one event and returns the function's answer with the
// emulator's report for it.
func (e *Emulator) Invoke(ctx context.Context, event []byte) (Result, error) {
	invokeSeq.Lock()
	invokeSeq.n++
	id := fmt.Sprintf("rie-%d-%d-%d", os.Getpid(), time.Now().UnixNano(), invokeSeq.n)
	invokeSeq.Unlock()

	mark := e.out.Len()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(event))
	if err != nil {
		return Result{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amzn-RequestId", id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("invoke: %w; emulator output: %s", err, strings.TrimSpace(e.out.Since(mark)))
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return Result{}, fmt.Errorf("invoke: reading the response: %w", err)
	}
	res := Result{HTTPStatus: resp.StatusCode, Payload: body, RequestID: id}
	// The emulator prints the REPORT line before it answers; wait until
	// the pipe has delivered it.
	// A function that failed to start has no REPORT: wait until its
	// output settles instead.
	end := "REPORT RequestId: " + id
	deadline := time.Now().Add(3 * time.Second)
	for last, quiet := -1, 0; time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if resp.StatusCode == http.StatusOK && strings.Contains(e.out.Since(mark), end) {
			break
		}
		if n := e.out.Len(); n == last {
			quiet++
		} else {
			last, quiet = n, 0
		}
		if resp.StatusCode != http.StatusOK && quiet >= 40 {
			break
		}
	}
	res.Logs = e.out.Since(mark)
	res.Report = parseReport(res.Logs, id)
	return res, nil
}

var (
	reInit    = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
	reRuntime = regexp.MustCompile(`INVOKE RTDONE\(status: [a-z]+, produced bytes: \d+, duration: ([0-9.]+)ms\)`)
)

func parseReport(logs, id string) Report {
	var r Report
	if m := reInit.FindStringSubmatch(logs); m != nil {
		r.Init = ms(m[1])
	}
	if m := reRuntime.FindStringSubmatch(logs); m != nil {
		r.Runtime = ms(m[1])
	}
	re := regexp.MustCompile(`REPORT RequestId: ` + regexp.QuoteMeta(id) + `\t(?:Init Duration: [0-9.]+ ms\t)?Duration: ([0-9.]+) ms`)
	if m := re.FindStringSubmatch(logs); m != nil {
		r.Duration = ms(m[1])
	}
	return r
}

func ms(s string) time.Duration {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return time.Duration(f * float64(time.Millisecond))
}

// FunctionLogs returns the lines of logs the function itself printed (its
// JSON log lines and anything else), without the emulator's own.
func FunctionLogs(logs string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if isEmulatorLine(line) {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

var reEmulatorLog = regexp.MustCompile(`^\d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2},\d{3} \[[A-Z]+\] \(rapid\)`)

func isEmulatorLine(line string) bool {
	return reEmulatorLog.MatchString(line) ||
		strings.HasPrefix(line, "START RequestId: ") || strings.HasPrefix(line, "END RequestId: ")
}

// output collects the emulator's output and copies it on.
