package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/app/allparts"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/emulator"
	"github.com/ekolek/identity/shared/httpapi"
	"github.com/ekolek/identity/shared/logging"
	"github.com/ekolek/identity/shared/password"
	"github.com/ekolek/identity/shared/store/backend"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
)

// Passwords the tests use; the log scan checks none of them leaks.
const (
	residentPassword = "mango tricycle umbrella 42"
	adminPassword    = "correct horse battery staple"
)

// env is one running system: the handler the Lambda runs, served over HTTP
// on loopback, on an embedded store in a temp dir, with a clock tests move.
type env struct {
	t     *testing.T
	app   *app.App
	srv   *httptest.Server
	clock *clock.Manual
	logs  *emulator.Output
	// codes holds every one-time code the outbox has shown, and secrets
	// every token, CSRF token and raw session id handed out, for the log scan.
	codes, secrets sync.Map
	// armFailure, in store-failure scenarios, snapshots the store and arms
	// the injected failure.
	armFailure func()
	// adminSecrets are the TOTP secrets of the admins adminLogin enrolled,
	// by username.
	adminSecrets sync.Map
}

type envOption func(*config.Config, *app.Options)

// cheapHash is argon2id at its smallest cost (8 KiB, one pass): a real
// hash in the PHC format, hundreds of times cheaper than
// password.DefaultParams. Every env uses it except those built with
// productionHash, the tests about the hash's cost.
var cheapHash = password.Params{Memory: 8, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// productionHash builds the env with the production argon2id parameters
// (password.DefaultParams), for the tests about what the hash costs.
func productionHash() envOption {
	return func(_ *config.Config, o *app.Options) { o.Hash = nil }
}

func production() envOption {
	return func(c *config.Config, _ *app.Options) { c.Env = config.Production }
}

func withStore(s backend.Store) envOption {
	return func(_ *config.Config, o *app.Options) { o.Store = s }
}

// testConfig is the default configuration, but for admins' second
// factor: optional, so that the tests about everything else log admins in
// by password alone. The tests about the second factor ask for the
// default (adminMFARequired).
func testConfig(t testing.TB) config.Config {
	t.Helper()
	cfg, err := config.Load(func(k string) string {
		switch k {
		case "EKOLEK_DATA_DIR":
			return t.TempDir()
		case "EKOLEK_ADMIN_MFA":
			return "optional"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// adminMFARequired builds the env as deployed by default: every admin must
// have a second factor (EKOLEK_ADMIN_MFA=required).
func adminMFARequired() envOption {
	return func(c *config.Config, _ *app.Options) { c.AdminMFARequired = true }
}

// servedAsFunctions serves each route the way its Lambda function is built:
// by a handler of that function alone, which has only the parts the
// function's routes declare (app.PartTable). A route that uses a part it
// does not declare panics into a 500, which fails the test (checkNoPanic).
// What no function serves (unknown paths, wrong methods, /dev/outbox) goes
// to a's handler of every route.
func servedAsFunctions(t *testing.T, a *app.App) http.Handler {
	t.Helper()
	all, err := a.Handler()
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", all)
	for _, r := range httpapi.Table {
		if r.LocalOnly {
			// Else the pages' GET /{proxy...} would take it.
			mux.Handle(muxPattern(r), all)
		}
	}
	for _, f := range httpapi.Functions() {
		if httpapi.PagesOnly(f) {
			// As its Lambda function: no store, no key.
			h, err := app.PagesHandler(f, a.Config, a.Log, app.Parts{Pages: allparts.Parts().Pages})
			if err != nil {
				t.Fatal(err)
			}
			// API Gateway routes a path the API has (with any method) to
			// the API, never to the greedy pages resource.
			pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(r.URL.Path, "/v1/") || strings.HasPrefix(r.URL.Path, "/dev/") {
					all.ServeHTTP(w, r)
					return
				}
				h.ServeHTTP(w, r)
			})
			for _, r := range httpapi.Table {
				if r.Function == f {
					mux.Handle(muxPattern(r), pages)
				}
			}
			continue
		}
		h, err := a.Handler(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range httpapi.Table {
			if r.Function == f {
				mux.Handle(muxPattern(r), h)
			}
		}
	}
	return mux
}

// muxPattern is a route as a ServeMux pattern: "/" alone is "/{$}", API
// Gateway's greedy {name+} is {name...}.
func muxPattern(r httpapi.Route) string {
	p := strings.ReplaceAll(r.Path, "+}", "...}")
	if p == "/" {
		p = "/{$}"
	}
	return r.Method + " " + p
}

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	cfg := testConfig(t)
	c := clock.NewManual(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC))
	// Reset requests wait out a floor so timing hides accounts; tests need not.
	hash := cheapHash
	o := app.Options{Clock: c, CodeRouteFloor: time.Millisecond, Parts: allparts.Parts(), Hash: &hash}
	for _, f := range opts {
		f(&cfg, &o)
	}
	logs := &emulator.Output{}
	a, err := app.Open(context.Background(), cfg, logging.New(logs, slog.LevelDebug), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	h := servedAsFunctions(t, a)
	e := &env{t: t, app: a, clock: c, logs: logs}
	if cfg.Env == config.Production {
		// Secure cookies travel over HTTPS only, as in a browser.
		e.srv = httptest.NewTLSServer(h)
	} else {
		e.srv = httptest.NewServer(h)
	}
	t.Cleanup(e.srv.Close)
	t.Cleanup(func() {
		stored := storedEvents(t, e)
		checkLogs(t, stored)
		e.secrets.Range(func(v, _ any) bool {
			if strings.Contains(stored, v.(string)) {
				t.Errorf("stored security events contain a token or session id the server handed out")
			}
			return true
		})
		checkLogs(t, logs.String())
		checkNoPanic(t, logs.String())
		e.secrets.Range(func(v, _ any) bool {
			if strings.Contains(logs.String(), v.(string)) {
				t.Errorf("logs contain a token or session id the server handed out")
			}
			return true
		})
		e.codes.Range(func(c, _ any) bool {
			re := regexp.MustCompile(`(^|[^0-9.])` + c.(string) + `($|[^0-9])`)
			if re.MatchString(logs.String()) {
				t.Errorf("logs contain the code %s", c)
			}
			if re.MatchString(stored) {
				t.Errorf("stored security events contain the code %s", c)
			}
			return true
		})
	})
	return e
}

// noteSecret remembers a token the server handed out (and, for a session
// JWT, the raw session id inside it) for the log scan.
func (e *env) noteSecret(v string) {
	if len(v) < 16 {
		return
	}
	e.secrets.Store(v, true)
	if parts := strings.Split(v, "."); len(parts) == 3 {
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		var c struct {
			SID string `json:"sid"`
		}
		if err == nil && json.Unmarshal(payload, &c) == nil && c.SID != "" {
			e.secrets.Store(c.SID, true)
		}
	}
}

// storedEvents is every stored security event as JSON, for the secret scan.
func storedEvents(t *testing.T, e *env) string {
	var all []audit.Event
	cursor := ""
	for {
		// The test clock starts on 2026-11-27 and only moves forward.
		page, next, err := e.app.Store.QueryEvents(context.Background(), audit.Query{
			Since: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), Until: e.clock.Now().Add(time.Hour), Limit: 200, Cursor: cursor,
		})
		if err != nil {
			t.Errorf("reading events: %v", err)
			return ""
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	data, _ := json.Marshal(all)
	return string(data)
}

// checkLogs fails when a log line holds a password, a token or a raw
// identifier that should have been masked.
func checkLogs(t *testing.T, logs string) {
	t.Helper()
	for _, secret := range []string{residentPassword, adminPassword, "eyJ", "juan@example.com", "+639171234567", "09171234567"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
}

// checkNoPanic fails when a handler panicked, whatever status the test
// expected: the API turns a panic into a 500 and logs it. A route that uses
// a part its function does not declare panics (servedAsFunctions).
func checkNoPanic(t *testing.T, logs string) {
	t.Helper()
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `"msg":"panic"`) {
			t.Errorf("a handler panicked: %.600s", line)
		}
	}
}

// browser is one cookie jar: one person's browser.
type browser struct {
	e      *env
	client *http.Client
	// header is sent with every request (a User-Agent, say).
	header http.Header
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, client: &http.Client{Jar: jar, Transport: e.srv.Client().Transport}, header: http.Header{}}
}

type response struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

// errCode is the error code of an error response, or "".
func (r *response) errCode() string {
	if e, ok := r.json["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

// get walks r.json along keys: get("account", "status").
func (r *response) get(keys ...string) any {
	var v any = r.json
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func (r *response) str(keys ...string) string {
	s, _ := r.get(keys...).(string)
	return s
}

// do sends a request. body is JSON-encoded unless it is a string (sent as is).
// Unsafe methods get Content-Type application/json and, when the jar has
// one, the X-CSRF-Token header, like the web client does.
func (b *browser) do(method, path string, body any, hdr ...string) *response {
	b.e.t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	default:
		data, _ := json.Marshal(v)
		rd = bytes.NewReader(data)
		// Every password a test sends is a secret the logs must not hold.
		if m, ok := v.(map[string]string); ok {
			for _, k := range []string{"password", "new_password", "current_password"} {
				if len(m[k]) >= 8 {
					b.e.secrets.Store(m[k], true)
				}
			}
		}
	}
	req, err := http.NewRequest(method, b.e.srv.URL+path, rd)
	if err != nil {
		b.e.t.Fatal(err)
	}
	for k, v := range b.header {
		req.Header[k] = v
	}
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json")
		for _, name := range []string{"ekolek_csrftoken", "__Host-ekolek_csrftoken"} {
			if tok := b.cookie(name); tok != "" {
				req.Header.Set("X-CSRF-Token", tok)
			}
		}
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	for _, c := range res.Cookies() {
		b.e.noteSecret(c.Value)
	}
	out := &response{status: res.StatusCode, header: res.Header}
	out.body, _ = io.ReadAll(res.Body)
	if len(out.body) > 0 {
		if err := json.Unmarshal(out.body, &out.json); err != nil {
			b.e.t.Fatalf("%s %s: response is not JSON: %q", method, path, out.body)
		}
		b.e.noteSecret(out.str("csrf_token"))
		b.e.noteSecret(out.str("reset_token"))
		b.e.noteSecret(out.str("mfa_token"))
		for _, c := range out.strings("recovery_codes") {
			b.e.secrets.Store(c, true)
		}
	}
	return out
}

func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.e.srv.URL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// setCookie puts a cookie into the jar as if the server (or an attacker on a
// sibling site) had set it.
func (b *browser) setCookie(name, value string) {
	u, _ := url.Parse(b.e.srv.URL)
	b.client.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

func (b *browser) login(realm, identifier, pw string) *response {
	b.e.t.Helper()
	return b.do(http.MethodPost, "/v1/"+realm+"/login", map[string]string{"identifier": identifier, "password": pw})
}

func (b *browser) mustLogin(realm, identifier, pw string) *response {
	b.e.t.Helper()
	r := b.login(realm, identifier, pw)
	if r.status != http.StatusOK {
		b.e.t.Fatalf("login %s %s: %d %s", realm, identifier, r.status, r.body)
	}
	return r
}

func (b *browser) session(realm string) *response {
	return b.do(http.MethodGet, "/v1/"+realm+"/session", nil)
}

func (b *browser) logout(realm string) *response {
	return b.do(http.MethodPost, "/v1/"+realm+"/logout", nil)
}

// createAdmin makes an admin the way the operator CLI does.
func (e *env) createAdmin(username string, role account.Role, barangays ...string) account.Account {
	e.t.Helper()
	a, err := e.app.Accounts.CreateAdmin(context.Background(), account.NewAdmin{
		Username: username, Email: username + "@city.example.gov.ph", FullName: "Admin " + username,
		Role: string(role), Barangays: barangays, Password: adminPassword,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// resident registers a resident through the API; approve it with e.setStatus.
func (e *env) register(b *browser, email, phone string) string {
	e.t.Helper()
	r := b.do(http.MethodPost, "/v1/resident/register", map[string]string{
		"first_name": "Juan", "last_name": "Dela Cruz", "email": email, "phone": phone,
		"barangay": "Landayan", "password": residentPassword,
	})
	if r.status != http.StatusCreated {
		e.t.Fatalf("register: %d %s", r.status, r.body)
	}
	return r.str("account", "id")
}

// approvedResident registers juan@example.com and approves him through the admin API.
func (e *env) approvedResident() string {
	e.t.Helper()
	id := e.register(e.browser(), "juan@example.com", "0917 123 4567")
	e.changeStatus(id, "approve")
	return id
}

func (e *env) changeStatus(id, action string) *response {
	e.t.Helper()
	if _, err := e.app.Accounts.Get(context.Background(), account.Admin, e.superID()); err != nil {
		e.createAdmin("boss", account.RoleSuperAdmin)
	}
	b := e.browser()
	b.adminLogin("boss")
	r := b.do(http.MethodPost, "/v1/admin/residents/"+id+"/"+action, nil)
	if r.status != http.StatusOK {
		e.t.Fatalf("%s %s: %d %s", action, id, r.status, r.body)
	}
	return r
}

func (e *env) superID() string {
	id, err := e.app.Store.LookupIdentifier(context.Background(), account.Admin, account.Identifier{Kind: account.KindUsername, Value: "boss"})
	if err != nil {
		return "none"
	}
	return id
}

func wantStatus(t *testing.T, what string, r *response, status int, code string) {
	t.Helper()
	if r.status != status || r.errCode() != code {
		t.Fatalf("%s: got %d %q (%s), want %d %q", what, r.status, r.errCode(), r.body, status, code)
	}
}

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// forEachStore runs a behaviour test on the embedded store and on DynamoDB
// Local, at the same time: each has an env of its own.
func forEachStore(t *testing.T, test func(t *testing.T, store envOption)) {
	t.Run("embedded", func(t *testing.T) {
		t.Parallel()
		test(t, func(*config.Config, *app.Options) {})
	})
	t.Run("dynamodb", func(t *testing.T) {
		t.Parallel()
		client := dynamotest.Client(t)
		table := dynamotest.NewTable(t, client)
		test(t, withStore(dynamo.New(client, table)))
	})
}
