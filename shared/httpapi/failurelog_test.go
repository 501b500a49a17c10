package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/httpapi"
)

// logLines are the JSON log lines of e with message msg.
func (e *env) logLines(msg string) []map[string]any {
	var out []map[string]any
	for _, l := range strings.Split(e.logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// With the store down, a burst of failing requests writes one "request
// failed" line, not one each; the first failure of that kind after
// httpapi.FailureLogInterval writes the next, with the count of those held
// back. Every request keeps its access line with its status.
func TestFailuresAreLoggedOncePerInterval(t *testing.T) {
	t.Parallel()
	real := openEmbedded(t)
	flaky := &flakyStore{Store: real, down: true}
	e := newEnv(t, withStore(flaky))
	flaky.arm(1)
	const n = 40
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.browser().login("resident", "juan@example.com", residentPassword)
			if r.status != http.StatusServiceUnavailable {
				t.Errorf("login with the store down: %d %s", r.status, r.body)
			}
		}()
	}
	wg.Wait()
	failed := e.logLines("request failed")
	if len(failed) != 1 {
		t.Fatalf("%d request failed lines for a burst of %d failures, want 1", len(failed), n)
	}
	if failed[0]["kind"] != "unavailable store POST /v1/{realm}/login" || failed[0]["suppressed"] != float64(0) {
		t.Errorf("the first failure is logged %v", failed[0])
	}

	e.clock.Advance(httpapi.FailureLogInterval)
	e.browser().login("resident", "juan@example.com", residentPassword)
	failed = e.logLines("request failed")
	if len(failed) != 2 || failed[1]["suppressed"] != float64(n-1) || failed[1]["error"] == nil || failed[1]["request_id"] == nil {
		t.Fatalf("after the interval: %v, want a second line with the %d held back", failed, n-1)
	}
	// The access line is written once the answer went out: the client
	// may read the last answer a moment before its line is there.
	statuses := 0
	for deadline := time.Now().Add(time.Second); ; time.Sleep(5 * time.Millisecond) {
		statuses = 0
		for _, l := range e.logLines("request") {
			if l["route"] == "POST /v1/{realm}/login" && l["status"] == float64(http.StatusServiceUnavailable) {
				statuses++
			}
		}
		if statuses >= n+1 || time.Now().After(deadline) {
			break
		}
	}
	if statuses != n+1 {
		t.Errorf("%d access lines with status 503 for %d failed logins", statuses, n+1)
	}
}
