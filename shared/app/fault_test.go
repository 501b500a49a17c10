package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/app/allparts"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/emulator"
	"github.com/ekolek/identity/shared/logging"
	"github.com/ekolek/identity/shared/password"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
	"github.com/ekolek/identity/shared/throttle"
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
	accountID  string
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
		Error   struct{ Code string } `json:"error"`
		Account struct{ ID string }   `json:"account"`
	}
	_ = json.NewDecoder(res.Body).Decode(&e)
	return faultAnswer{status: res.StatusCode, code: e.Error.Code, retryAfter: res.Header.Get("Retry-After"),
		accountID: e.Account.ID, took: time.Since(start)}
}

// stallable is the app built as a function builds itself (awsenv, the
// request deadline) on a DynamoDB Local of its own, served over loopback,
// with a client of it: the test can pause (SIGSTOP) that DynamoDB Local,
// or kill it and start it again.
type stallable struct {
	t     *testing.T
	app   *app.App
	cfg   config.Config
	db    *emulator.Child
	raw   *dynamodb.Client // straight to that DynamoDB Local, to watch it
	table string
	url   string
	// paused is whether the test left it paused (resumed at the end).
	paused bool
}

const faultTable = "ekolek-fault"

// faultOptions change what newStallable builds.
type faultOptions struct {
	hash  password.Params
	log   io.Writer         // the app's log; nil discards it
	clock clock.Clock       // nil is the system's
	env   map[string]string // configuration beyond the store's
}

func newStallable(t *testing.T, o faultOptions) *stallable {
	t.Helper()
	db := dynamotest.Private(t)
	ep := db.Endpoint
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	raw := dynamotest.NewClient(ep)
	if err := dynamo.CreateTable(ctx, raw, faultTable); err != nil {
		t.Fatal(err)
	}
	s := &stallable{t: t, db: db, raw: raw, table: faultTable}
	s.warm()
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", ep)
	// The admins here log in by password alone: these tests are about a
	// failing store, not the second factor.
	env := map[string]string{"EKOLEK_STORE": "dynamodb", "EKOLEK_TABLE": faultTable, "EKOLEK_ADMIN_MFA": "optional"}
	maps.Copy(env, o.env)
	cfg := loadConfig(t, env)
	parts := allparts.Parts()
	parts.AWSConfig = nil // the functions' own loader (awsenv)
	if o.log == nil {
		o.log = io.Discard
	}
	a, err := app.Open(ctx, cfg, logging.New(o.log, slog.LevelInfo), app.Options{Parts: parts, Hash: &o.hash, Clock: o.clock, CodeRouteFloor: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	h, err := a.Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s.app, s.cfg, s.url = a, cfg, srv.URL
	t.Cleanup(func() {
		if s.paused {
			_ = db.Resume()
		}
	})
	return s
}

// client is a new browser of the app.
func (s *stallable) client() *faultClient {
	jar, _ := cookiejar.New(nil)
	return &faultClient{t: s.t, url: s.url, http: &http.Client{Jar: jar, Timeout: time.Minute}}
}

func (s *stallable) pause() {
	s.t.Helper()
	if err := s.db.Pause(); err != nil {
		s.t.Fatal(err)
	}
	s.paused = true
}

// kill ends that DynamoDB Local (SIGKILL), paused or not.
func (s *stallable) kill() {
	s.t.Helper()
	if err := s.db.Kill(); err != nil {
		s.t.Fatal(err)
	}
	s.paused = false
}

func (s *stallable) resume() {
	s.t.Helper()
	if err := s.db.Resume(); err != nil {
		s.t.Fatal(err)
	}
	s.paused = false
}

// warm waits until DynamoDB Local, just started again, reads the table in
// well under the clients' response timeout: its first reads after a start
// can take seconds.
func (s *stallable) warm() {
	s.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		ctx, cancel := context.WithTimeout(s.t.Context(), time.Second)
		start := time.Now()
		_, err := s.raw.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "warm"}, "SK": &types.AttributeValueMemberS{Value: "warm"}}})
		cancel()
		if err == nil && time.Since(start) < 200*time.Millisecond {
			return
		}
	}
	s.t.Fatal("DynamoDB Local does not read the table quickly 20 s after its start")
}

// counter is the throttle counter whose key starts with prefix (the item
// layout of package dynamo: PK=THROTTLE#<key>, count n), read straight
// from DynamoDB; found is false while there is none.
func (s *stallable) counter(prefix string) (n int, found bool) {
	s.t.Helper()
	out, err := s.raw.Scan(s.t.Context(), &dynamodb.ScanInput{
		TableName:                 aws.String(s.table),
		ConsistentRead:            aws.Bool(true),
		FilterExpression:          aws.String("begins_with(PK, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "THROTTLE#" + prefix}},
	})
	if err != nil {
		s.t.Fatal(err)
	}
	if len(out.Items) == 0 {
		return 0, false
	}
	v, _ := out.Items[0]["n"].(*types.AttributeValueMemberN)
	n, _ = strconv.Atoi(v.Value)
	return n, true
}

// pauseOnceCounted pauses DynamoDB as soon as a request in flight has
// counted past above on the throttle counter whose key starts with prefix:
// the request is then past its throttle, on its way to its own store
// calls. It waits a moment more, so that the counter's answer has reached
// the request (DynamoDB shows the count before the request has it).
func (s *stallable) pauseOnceCounted(prefix string, above int) {
	s.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if n, _ := s.counter(prefix); n > above {
			time.Sleep(20 * time.Millisecond)
			s.pause()
			return
		}
	}
	s.t.Fatalf("counter %s* not past %d within 10 s", prefix, above)
}

// cheapHash is argon2id at its least cost, for the tests not about it.
var cheapHash = password.Params{Memory: 8, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// eventually polls ok for up to 10 s.
func eventually(ok func() bool) bool { return eventuallyWithin(10*time.Second, ok) }

// eventuallyWithin polls ok for up to d.
func eventuallyWithin(d time.Duration, ok func() bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ok() {
			return true
		}
	}
	return false
}

// With DynamoDB hung (SIGSTOP: connections open, nothing answers), the
// app built as a function builds itself (awsenv, the request deadline)
// answers a login, a session check and a registration 503 unavailable
// within its deadline instead of hanging (and the session function under
// a Lambda invocation's deadline answers before it); once DynamoDB runs again the
// same requests succeed, and the registration that got 503 was not
// half-written: retried, it registers.
func TestStalledDynamoDBAnswersWithinTheDeadline(t *testing.T) {
	s := newStallable(t, faultOptions{hash: cheapHash})
	a, cfg, ctx := s.app, s.cfg, t.Context()
	const pw = "correct horse battery staple"
	if _, err := a.Accounts.CreateAdmin(ctx, account.NewAdmin{Username: "boss", Email: "boss@example.com", FullName: "Boss", Role: "super_admin", Password: pw}); err != nil {
		t.Fatal(err)
	}
	c := s.client()

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

	s.pause()
	requests := map[string]func() faultAnswer{"login": login, "session check": session, "registration": register}
	// The session function as Lambda runs it, in a 3 s invocation: it must
	// answer before the invocation's deadline, not time out.
	u, _ := url.Parse(s.url)
	var cookie string
	for _, ck := range c.http.Jar.Cookies(u) {
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

	s.resume()
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

// A write in flight when DynamoDB stalls: DynamoDB Local is paused (SIGSTOP)
// once the request has passed its throttle, while it hashes the password
// (a slow hash, about 0.15 s here, leaves the time to do it).
//
// The registration's transaction is sent and gets no answer: 503
// outcome_unknown within the deadline, not "nothing was changed", and it
// was indeed saved once DynamoDB ran again. Sent again with the same
// details it gets that account (200); with another password, 409.
//
// The login stalls at its throttle counters, after a right password and
// before any session: 503, no session, and the address's failure count is
// back at zero once DynamoDB has run the counter's write it was sent; the
// retry logs in.
func TestWriteInFlightWhenDynamoDBStalls(t *testing.T) {
	s := newStallable(t, faultOptions{hash: password.Params{Memory: 19 << 10, Time: 16, Threads: 1, SaltLen: 16, KeyLen: 32}})
	ctx := t.Context()
	const adminPW = "correct horse battery staple"
	boss, err := s.app.Accounts.CreateAdmin(ctx, account.NewAdmin{Username: "boss", Email: "boss@example.com", FullName: "Boss", Role: "super_admin", Password: adminPW})
	if err != nil {
		t.Fatal(err)
	}
	c := s.client()
	limit := s.cfg.RequestTimeout + time.Second
	inFlight := func(do func() faultAnswer, counter string) faultAnswer {
		t.Helper()
		before, _ := s.counter(counter)
		answer := make(chan faultAnswer, 1)
		go func() { answer <- do() }()
		s.pauseOnceCounted(counter, before)
		r := <-answer
		s.resume()
		if r.took > limit {
			t.Errorf("answered in %v, over the deadline's %v", r.took, limit)
		}
		return r
	}

	register := func(n int, pw string) faultAnswer {
		return c.do(http.MethodPost, "/v1/resident/register", map[string]string{
			"first_name": "Maria", "last_name": "Santos", "email": fmt.Sprintf("maria%d@example.com", n), "phone": fmt.Sprintf("0917123456%d", n),
			"barangay": "Landayan", "password": pw,
		})
	}
	saved := func(n int) (string, error) {
		return s.app.Store.LookupIdentifier(ctx, account.Resident, account.Identifier{Kind: account.KindEmail, Value: fmt.Sprintf("maria%d@example.com", n)})
	}
	const pw = "mango tricycle umbrella 42"
	// The pause may still catch the counter's own answer on its way (503
	// unavailable, nothing saved): then another registration tries again.
	var n int
	var r faultAnswer
	for n = 1; n <= 5; n++ {
		r = inFlight(func() faultAnswer { return register(n, pw) }, string(throttle.RegisterIP)+":")
		t.Logf("registration, DynamoDB paused with its transaction in flight: %d %s in %v", r.status, r.code, r.took.Round(time.Millisecond))
		if r.status != http.StatusServiceUnavailable || r.code != "unavailable" {
			break
		}
		time.Sleep(time.Second) // what DynamoDB had buffered has run
		if _, err := saved(n); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a registration answered 503 unavailable was saved: %v", err)
		}
	}
	if r.status != http.StatusServiceUnavailable || r.code != "outcome_unknown" || r.retryAfter == "" {
		t.Fatalf("registration with its write in flight: %d %q Retry-After %q, want 503 outcome_unknown with Retry-After", r.status, r.code, r.retryAfter)
	}
	var stored string
	if !eventually(func() bool {
		stored, err = saved(n)
		return err == nil
	}) {
		t.Fatalf("the registration whose outcome was unknown was not saved once DynamoDB ran: %v", err)
	}
	if again := register(n, pw); again.status != http.StatusOK || again.accountID != stored {
		t.Errorf("the same registration again: %d %s account %q, want 200 with the saved account %s", again.status, again.code, again.accountID, stored)
	}
	if other := register(n, "sampaguita jeepney harbor 77"); other.status != http.StatusConflict || other.code != "already_registered" {
		t.Errorf("the registration with another password: %d %s, want 409 already_registered", other.status, other.code)
	}

	login := func() faultAnswer {
		return c.do(http.MethodPost, "/v1/admin/login", map[string]string{"identifier": "boss", "password": adminPW})
	}
	r = inFlight(login, "login-attempts:")
	t.Logf("login, DynamoDB paused while it checked the password: %d %s in %v", r.status, r.code, r.took.Round(time.Millisecond))
	if r.status != http.StatusServiceUnavailable || r.code != "unavailable" {
		t.Fatalf("login with DynamoDB paused: %d %q, want 503 unavailable", r.status, r.code)
	}
	if ss, err := s.app.Store.ListSessions(ctx, account.Admin, boss.ID); err != nil || len(ss) != 0 {
		t.Errorf("after the 503 login: %d sessions (%v), want none", len(ss), err)
	}
	if !eventually(func() bool { n, _ := s.counter("login-ip-failures:"); return n == 0 }) {
		n, _ := s.counter("login-ip-failures:")
		t.Errorf("the address has %d failed logins counted after a 503 login with the right password", n)
	}
	if r := login(); r.status != http.StatusOK {
		t.Fatalf("the login again: %d %s", r.status, r.code)
	}
	if ss, err := s.app.Store.ListSessions(ctx, account.Admin, boss.ID); err != nil || len(ss) != 1 {
		t.Errorf("after the retried login: %d sessions (%v), want its one", len(ss), err)
	}
}
