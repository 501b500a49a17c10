package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/app/allparts"
	"github.com/ekolek/identity/shared/emulator"
	"github.com/ekolek/identity/shared/logging"
	"github.com/ekolek/identity/shared/password"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
)

// faultClient is a browser of the system under test: JSON in and out,
// cookies kept.
type faultClient struct {
	t    *testing.T
	url  string
	http *http.Client
}

type faultAnswer struct {
	status     int
	code       string
	retryAfter string
	took       time.Duration
}

func (c *faultClient) do(method, path string, body any) faultAnswer {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Errorf("%s %s: %v", method, path, err)
		return faultAnswer{took: time.Since(start)}
	}
	defer res.Body.Close()
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.NewDecoder(res.Body).Decode(&e)
	return faultAnswer{status: res.StatusCode, code: e.Error.Code, retryAfter: res.Header.Get("Retry-After"), took: time.Since(start)}
}

// With DynamoDB hung (SIGSTOP: connections open, nothing answers), the
// app built as a function builds itself (awsenv, the request deadline)
// answers a login, a session check and a registration 503 unavailable
// within its deadline instead of hanging (and the session function under
// a Lambda invocation's deadline answers before it); once DynamoDB runs again the
// same requests succeed, and the registration that got 503 was not
// half-written: retried, it registers.
func TestStalledDynamoDBAnswersWithinTheDeadline(t *testing.T) {
	ep, proc := dynamotest.Private(t)
	const table = "ekolek-fault"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := dynamo.CreateTable(ctx, dynamotest.NewClient(ep), table); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", ep)
	cfg := loadConfig(t, map[string]string{"EKOLEK_STORE": "dynamodb", "EKOLEK_TABLE": table})
	parts := allparts.Parts()
	parts.AWSConfig = nil // the functions' own loader (awsenv)
	hash := password.Params{Memory: 8, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	a, err := app.Open(ctx, cfg, logging.New(io.Discard, slog.LevelInfo), app.Options{Parts: parts, Hash: &hash, CodeRouteFloor: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	const pw = "correct horse battery staple"
	if _, err := a.Accounts.CreateAdmin(ctx, account.NewAdmin{Username: "boss", Email: "boss@example.com", FullName: "Boss", Role: "super_admin", Password: pw}); err != nil {
		t.Fatal(err)
	}
	h, err := a.Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &faultClient{t: t, url: srv.URL, http: &http.Client{Jar: jar, Timeout: time.Minute}}

	login := func() faultAnswer {
		return c.do(http.MethodPost, "/v1/admin/login", map[string]string{"identifier": "boss", "password": pw})
	}
	session := func() faultAnswer { return c.do(http.MethodGet, "/v1/admin/session", nil) }
	register := func() faultAnswer {
		return c.do(http.MethodPost, "/v1/resident/register", map[string]string{
			"first_name": "Maria", "last_name": "Santos", "email": "maria@example.com", "phone": "09171234567",
			"barangay": "Landayan", "password": "mango tricycle umbrella 42",
		})
	}
	if r := login(); r.status != http.StatusOK {
		t.Fatalf("login before the stall: %d %s", r.status, r.code)
	}

	if err := emulator.Pause(proc); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			_ = emulator.Resume(proc)
		}
	}()
	requests := map[string]func() faultAnswer{"login": login, "session check": session, "registration": register}
	// The session function as Lambda runs it, in a 3 s invocation: it must
	// answer before the invocation's deadline, not time out.
	u, _ := url.Parse(srv.URL)
	var cookie string
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "ekolek_admin_session" {
			cookie = ck.Name + "=" + ck.Value
		}
	}
	lambda := lambdaSession(t, a, 3*time.Second, cookie)
	var wg sync.WaitGroup
	var mu sync.Mutex
	answers := map[string]faultAnswer{}
	for name, do := range mapsWith(requests, "session check, Lambda (3 s invocation)", lambda) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := do()
			mu.Lock()
			answers[name] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	// The deadline, plus what the handler and the loopback take to answer.
	limit := cfg.RequestTimeout + time.Second
	for name, r := range answers {
		if r.status == 0 {
			continue // the invocation reported its own failure
		}
		t.Logf("%s with DynamoDB paused: %d %s in %v", name, r.status, r.code, r.took.Round(time.Millisecond))
		if r.status != http.StatusServiceUnavailable || r.code != "unavailable" || r.retryAfter == "" {
			t.Errorf("%s with DynamoDB paused: %d %q Retry-After %q, want 503 unavailable with Retry-After", name, r.status, r.code, r.retryAfter)
		}
		if r.took > limit {
			t.Errorf("%s with DynamoDB paused answered in %v, over the deadline's %v", name, r.took, limit)
		}
	}

	if err := emulator.Resume(proc); err != nil {
		t.Fatal(err)
	}
	resumed = true
	// Nothing of the registration that got 503 was written.
	if _, err := a.Store.LookupIdentifier(ctx, account.Resident, account.Identifier{Kind: account.KindEmail, Value: "maria@example.com"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after a 503 registration, its email is held: %v", err)
	}
	for name, want := range map[string]int{"session check": http.StatusOK, "login": http.StatusOK, "registration": http.StatusCreated} {
		if r := requests[name](); r.status != want {
			t.Errorf("%s after DynamoDB resumed: %d %s, want %d", name, r.status, r.code, want)
		}
	}
}

// mapsWith is m and one more entry.
func mapsWith(m map[string]func() faultAnswer, k string, v func() faultAnswer) map[string]func() faultAnswer {
	out := map[string]func() faultAnswer{k: v}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// lambdaSession invokes the session function's handler as Lambda would,
// with an invocation of length d, and fails the test if the answer is not
// 503 unavailable given before the invocation's deadline.
func lambdaSession(t *testing.T, a *app.App, d time.Duration, cookie string) func() faultAnswer {
	h, err := a.Handler("session")
	if err != nil {
		t.Fatal(err)
	}
	return func() faultAnswer {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		start := time.Now()
		res, err := httpadapter.New(h).ProxyWithContext(ctx, events.APIGatewayProxyRequest{
			Resource: "/v1/{realm}/session", Path: "/v1/admin/session", HTTPMethod: http.MethodGet,
			PathParameters: map[string]string{"realm": "admin"},
			Headers:        map[string]string{"Cookie": cookie},
		})
		took := time.Since(start)
		t.Logf("session check, Lambda (%v invocation) with DynamoDB paused: %d in %v", d, res.StatusCode, took.Round(time.Millisecond))
		switch {
		case err != nil:
			t.Errorf("Lambda session check: %v", err)
		case ctx.Err() != nil:
			t.Errorf("Lambda session check answered after the invocation's deadline (%v)", took)
		case res.StatusCode != http.StatusServiceUnavailable:
			t.Errorf("Lambda session check with DynamoDB paused: %d %s, want 503", res.StatusCode, res.Body)
		}
		return faultAnswer{}
	}
}
