package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/app/allparts"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/emulator"
	"github.com/ekolek/identity/shared/httpapi"
	"github.com/ekolek/identity/shared/logging"
)

// startLocalAPI runs the local API's server as run builds it, on a free
// loopback port, and returns its address and its log.
func startLocalAPI(t *testing.T) (string, *emulator.Output) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Load(func(k string) string {
		if k == "EKOLEK_DATA_DIR" {
			return dir
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	logs := &emulator.Output{}
	a, err := app.Open(t.Context(), cfg, logging.New(logs, slog.LevelInfo), app.Options{Parts: allparts.Parts()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	h, err := a.Handler()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server(h)
	done := make(chan error, 1)
	go func() { done <- serve(srv, ln, h) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String(), logs
}

// The answers net/http gives by itself, before any handler sees the
// request, carry the same security headers and error shape as every other
// answer. Each request is written as raw bytes on a TCP connection.
func TestEarlyAnswersCarryTheSecurityHeaders(t *testing.T) {
	addr, _ := startLocalAPI(t)
	cases := []struct {
		name, request string
		status        int
		code          string
	}{
		{"malformed request line", "GARBAGE\r\n\r\n", 400, "invalid_request"},
		{"missing Host", "GET /v1/barangays HTTP/1.1\r\n\r\n", 400, "invalid_request"},
		{"malformed header", "GET /v1/barangays HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", 400, "invalid_request"},
		{"oversized headers", "GET /v1/barangays HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 64<<10) + "\r\n\r\n", 431, "headers_too_large"},
		{"oversized request line", "GET /v1/" + strings.Repeat("a", 64<<10) + " HTTP/1.1\r\nHost: x\r\n\r\n", 431, "headers_too_large"},
		{"unknown transfer encoding", "POST /v1/resident/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "not_implemented"},
		{"unsupported version", "GET /v1/barangays HTTP/3.0\r\nHost: x\r\n\r\n", 505, "http_version_not_supported"},
		{"unmeetable Expect", "GET /v1/barangays HTTP/1.1\r\nHost: x\r\nExpect: a-teapot\r\n\r\n", 417, "expectation_failed"},
		{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 404, "not_found"},
		{"a request the API answers", "GET /v1/barangays HTTP/1.1\r\nHost: x\r\n\r\n", 200, ""},
		// After an answered request on the same connection.
		{"malformed after a good one", "GET /v1/barangays HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n", 400, "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			// The server may answer and hang up before it has read all of
			// an oversized request; the answer is what counts.
			_, _ = io.WriteString(conn, c.request)
			r := bufio.NewReader(conn)
			res, err := http.ReadResponse(r, nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if strings.HasSuffix(c.name, "after a good one") { // the second answer is the one this case is about
				if res, err = http.ReadResponse(r, nil); err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(res.Body)
				res.Body.Close()
			}
			if res.StatusCode != c.status {
				t.Fatalf("status %d (%s), want %d", res.StatusCode, body, c.status)
			}
			for h, want := range map[string]string{
				"Cache-Control":          "no-store",
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "no-referrer",
				"X-Frame-Options":        "DENY",
				"Content-Type":           "application/json; charset=utf-8",
			} {
				if got := res.Header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			if !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
				t.Errorf("Content-Security-Policy = %q", res.Header.Get("Content-Security-Policy"))
			}
			if len(res.Header.Get("X-Request-Id")) < 16 {
				t.Errorf("X-Request-Id = %q", res.Header.Get("X-Request-Id"))
			}
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("body is not JSON: %q", body)
			}
			if e.Error.Code != c.code || c.code != "" && e.Error.Message == "" {
				t.Errorf("error %+v, want code %q", e.Error, c.code)
			}
		})
	}
}

// The log names where to open the pages: a loopback address by the name
// localhost, any other as it is.
func TestPagesURL(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:8080":    "http://localhost:8080/",
		"[::1]:9000":        "http://localhost:9000/",
		"192.0.2.10:8080":   "http://192.0.2.10:8080/",
		"ekolek.local:8080": "http://ekolek.local:8080/",
	} {
		if got := pagesURL(addr); got != want {
			t.Errorf("pagesURL(%q) = %q, want %q", addr, got, want)
		}
	}
}

// The access log says what went out: a client that hangs up before its
// answer is written (a reset request, which answers no sooner than
// httpapi.CodeRouteFloor) is logged with the status and bytes the API
// wrote and written false, not as a 202 it never got; an answered request
// is logged written.
func TestAccessLogSaysWhatWentOut(t *testing.T) {
	addr, logs := startLocalAPI(t)
	reset := func(ctx context.Context) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/v1/resident/password-reset",
			strings.NewReader(`{"identifier":"juan@example.com","channel":"email"}`))
		req.Header.Set("Content-Type", "application/json")
		return http.DefaultClient.Do(req)
	}
	ctx, cancel := context.WithTimeout(t.Context(), httpapi.CodeRouteFloor/4)
	defer cancel()
	if res, err := reset(ctx); err == nil {
		res.Body.Close()
		t.Fatalf("the hasty client got its answer: %d", res.StatusCode)
	}
	res, err := reset(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()

	var lines []map[string]any
	deadline := time.Now().Add(5 * time.Second)
	for len(lines) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		lines = nil
		for _, l := range strings.Split(logs.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "request" && m["route"] == "POST /v1/{realm}/password-reset" {
				lines = append(lines, m)
			}
		}
	}
	if len(lines) != 2 {
		t.Fatalf("%d access lines for the two reset requests:\n%s", len(lines), logs.String())
	}
	gone, answered := lines[0], lines[1]
	if gone["written"] == true {
		gone, answered = answered, gone
	}
	if gone["written"] != false || gone["write_error"] != "client went away" || gone["status"] == nil || gone["bytes"] == nil {
		t.Errorf("the request whose client hung up is logged %v, want its status and bytes, written false, client went away", gone)
	}
	if answered["written"] != true || answered["status"] != float64(http.StatusAccepted) || answered["bytes"].(float64) == 0 || answered["write_error"] != nil {
		t.Errorf("the answered request is logged %v, want 202, its bytes, written true", answered)
	}
}
