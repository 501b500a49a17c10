package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ekolek/identity/shared/account"
)

func TestCSRFDoubleSubmit(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		id := e.register(e.browser(), "juan@example.com", "09171234567")
		e.createAdmin("boss", account.RoleSuperAdmin)
		b := e.browser()
		b.mustLogin("admin", "boss", adminPassword)
		token := b.cookie("ekolek_csrftoken")
		approve := "/v1/admin/residents/" + id + "/approve"

		cases := []struct {
			name   string
			header string
		}{
			{"missing header", ""},
			{"wrong header", strings.Repeat("A", len(token))},
			{"truncated header", token[:20]},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				hdr := c.header
				if hdr == "" {
					wantStatus(t, "approve", b.do("POST", approve, nil, "X-CSRF-Token", ""), 403, "csrf_failed")
				} else {
					wantStatus(t, "approve", b.do("POST", approve, nil, "X-CSRF-Token", hdr), 403, "csrf_failed")
				}
				wantStatus(t, "logout", b.do("POST", "/v1/admin/logout", nil, "X-CSRF-Token", hdr), 403, "csrf_failed")
			})
		}
		t.Run("header matching a cookie the attacker cannot read", func(t *testing.T) {
			// A cross-site form cannot set the header at all; a forged cookie
			// without the matching header is the same failure.
			b.setCookie("ekolek_csrftoken", strings.Repeat("B", len(token)))
			wantStatus(t, "approve", b.do("POST", approve, nil, "X-CSRF-Token", token), 403, "csrf_failed")
			b.setCookie("ekolek_csrftoken", token)
		})
		// Nothing changed and the session is still alive.
		if r := b.session("admin"); r.status != 200 {
			t.Fatalf("session after refused requests: %d", r.status)
		}
		if a, _ := e.app.Accounts.Get(t.Context(), account.Resident, id); a.Status != account.StatusPending {
			t.Fatalf("status changed to %s by refused requests", a.Status)
		}
		if r := b.do("POST", approve, nil); r.status != 200 {
			t.Fatalf("approve with the right header: %d %s", r.status, r.body)
		}
		// GET needs no header.
		if r := b.do("GET", "/v1/admin/residents", nil); r.status != 200 {
			t.Fatalf("list: %d", r.status)
		}
	})
}

func TestBadRequestsGetClearJSONErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	big := `{"identifier":"` + strings.Repeat("a", 17<<10) + `","password":"x"}`
	cases := []struct {
		name   string
		method string
		path   string
		body   string
		hdr    []string
		status int
		code   string
		field  string
	}{
		{"malformed JSON", "POST", "/v1/resident/login", `{"identifier":`, nil, 400, "invalid_request", ""},
		{"not an object", "POST", "/v1/resident/login", `["a","b"]`, nil, 400, "invalid_request", ""},
		{"null body", "POST", "/v1/resident/login", `null`, nil, 400, "invalid_request", ""},
		{"empty body", "POST", "/v1/resident/login", ``, nil, 400, "invalid_request", ""},
		{"wrong type", "POST", "/v1/resident/login", `{"identifier":42,"password":"x"}`, nil, 400, "invalid_request", "identifier"},
		{"unknown field", "POST", "/v1/resident/login", `{"identifier":"a@b.co","password":"x","admin":true}`, nil, 400, "invalid_request", "admin"},
		{"trailing data", "POST", "/v1/resident/login", `{"identifier":"a@b.co","password":"x"} {}`, nil, 400, "invalid_request", ""},
		{"missing fields", "POST", "/v1/resident/login", `{}`, nil, 400, "invalid_request", "password"},
		{"oversized", "POST", "/v1/resident/login", big, nil, 413, "payload_too_large", ""},
		{"oversized without length", "POST", "/v1/resident/register", big, []string{"Transfer-Encoding", "chunked"}, 413, "payload_too_large", ""},
		{"text/plain", "POST", "/v1/resident/login", `{}`, []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type", ""},
		{"form", "POST", "/v1/resident/login", `identifier=a`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", ""},
		{"no content type", "POST", "/v1/resident/login", `{}`, []string{"Content-Type", ""}, 415, "unsupported_media_type", ""},
		{"unknown realm", "POST", "/v1/staff/login", `{}`, nil, 404, "not_found", ""},
		{"register in admin realm", "POST", "/v1/admin/register", `{}`, nil, 404, "not_found", ""},
		{"unknown route", "GET", "/v1/resident/nothing", "", nil, 404, "not_found", ""},
		{"the API's root", "GET", "/v1", "", nil, 404, "not_found", ""},
		{"wrong method", "GET", "/v1/resident/login", "", nil, 405, "method_not_allowed", ""},
		{"wrong method on session", "DELETE", "/v1/admin/session", "", nil, 405, "method_not_allowed", ""},
		{"admin route without a session", "POST", "/v1/admin/residents/x/delete", `{}`, nil, 401, "unauthenticated", ""},
		{"register bad email", "POST", "/v1/resident/register", `{"first_name":"A","last_name":"B","email":"nope","phone":"09171234567","barangay":"Landayan","password":"mango tricycle umbrella 42"}`, nil, 400, "invalid_request", "email"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := b.do(c.method, c.path, c.body, c.hdr...)
			if r.status != c.status || r.errCode() != c.code {
				t.Fatalf("got %d %q (%s), want %d %q", r.status, r.errCode(), r.body, c.status, c.code)
			}
			if msg := r.str("error", "message"); msg == "" {
				t.Fatal("error without a message")
			}
			if c.field != "" {
				if _, ok := r.get("error", "fields").(map[string]any)[c.field]; !ok {
					t.Fatalf("fields %v do not name %q", r.get("error", "fields"), c.field)
				}
			}
			if c.status == 405 && r.header.Get("Allow") == "" {
				t.Fatal("405 without Allow")
			}
			checkHeaders(t, r)
		})
	}
}

func checkHeaders(t *testing.T, r *response) {
	t.Helper()
	want := map[string]string{
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
	}
	for k, v := range want {
		if got := r.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if !strings.Contains(r.header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("CSP %q lacks frame-ancestors 'none'", r.header.Get("Content-Security-Policy"))
	}
	if len(r.header.Get("X-Request-Id")) < 16 {
		t.Errorf("X-Request-Id %q", r.header.Get("X-Request-Id"))
	}
}

func TestEveryResponseHasSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.approvedResident()
	b := e.browser()
	for _, r := range []*response{
		b.mustLogin("resident", "juan@example.com", residentPassword),
		b.session("resident"),
		b.logout("resident"),
		b.session("resident"),
	} {
		checkHeaders(t, r)
		if r.header.Get("Strict-Transport-Security") != "" {
			t.Error("HSTS in local mode")
		}
	}
}

func TestProductionCookiesAndHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, production())
	e.approvedResident()
	b := e.browser()
	r := b.login("resident", "juan@example.com", residentPassword)
	if r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	if got := r.header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=31536000") {
		t.Fatalf("HSTS = %q", got)
	}
	cookies := (&http.Response{Header: r.header}).Cookies()
	names := map[string]*http.Cookie{}
	for _, c := range cookies {
		names[c.Name] = c
	}
	for _, name := range []string{"__Host-ekolek_session", "__Host-ekolek_csrftoken"} {
		c := names[name]
		if c == nil {
			t.Fatalf("no %s cookie in %v", name, cookies)
		}
		if !c.Secure || c.Path != "/" || c.Domain != "" || c.SameSite != http.SameSiteLaxMode {
			t.Errorf("%s: secure=%v path=%q domain=%q samesite=%v", name, c.Secure, c.Path, c.Domain, c.SameSite)
		}
	}
	if !names["__Host-ekolek_session"].HttpOnly || names["__Host-ekolek_csrftoken"].HttpOnly {
		t.Error("the session cookie must be HttpOnly and the CSRF cookie readable")
	}
}

func TestLocalCookies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.approvedResident()
	r := e.browser().mustLogin("resident", "juan@example.com", residentPassword)
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Secure || strings.HasPrefix(c.Name, "__Host-") {
			t.Errorf("local cookie %s: secure=%v", c.Name, c.Secure)
		}
		if c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
			t.Errorf("cookie %s: samesite=%v path=%q", c.Name, c.SameSite, c.Path)
		}
	}
}

// A body that two JSON readers could read two ways is refused: a key given
// twice (encoding/json keeps the last; a WAF or a log reader may keep the
// first) and a key that names a field only case-insensitively (encoding/json
// would take it for the field, Unicode case folding included).
func TestAmbiguousJSONIsRefused(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		b := e.browser()
		reg := func(pairs string) string {
			return `{"first_name":"Juan","last_name":"Dela Cruz","phone":"09171234567","barangay":"Landayan","password":"mango tricycle umbrella 42",` + pairs + `}`
		}
		cases := []struct {
			name, path, body, field string
		}{
			{"email and EMAIL", "/v1/resident/register", reg(`"email":"a@example.com","EMAIL":"boss@example.com"`), "EMAIL"},
			{"EMAIL alone", "/v1/resident/register", reg(`"EMAIL":"boss@example.com"`), "EMAIL"},
			{"email twice", "/v1/resident/register", reg(`"email":"a@example.com","email":"boss@example.com"`), "email"},
			{"email twice, once escaped", "/v1/resident/register", reg(`"email":"a@example.com","\u0065mail":"boss@example.com"`), "email"},
			{"identifier twice", "/v1/resident/login", `{"identifier":"a@example.com","identifier":"boss@example.com","password":"x"}`, "identifier"},
			{"Identifier", "/v1/resident/login", `{"Identifier":"boss@example.com","password":"x"}`, "Identifier"},
			{"password with long s (folds to s)", "/v1/resident/login", `{"identifier":"a@example.com","pa\u017f\u017fword":"x"}`, "paſſword"},
			{"key twice inside a list", "/v1/resident/register", reg(`"email":"a@example.com","language":[{"k":1,"k":2}]`), "language.k"},
		}
		for _, c := range cases {
			r := b.do("POST", c.path, c.body)
			wantStatus(t, c.name, r, 400, "invalid_request")
			if _, ok := r.get("error", "fields").(map[string]any)[c.field]; !ok {
				t.Errorf("%s: fields %v do not name %q", c.name, r.get("error", "fields"), c.field)
			}
		}
		for _, email := range []string{"a@example.com", "boss@example.com"} {
			if _, err := e.app.Store.LookupIdentifier(t.Context(), account.Resident, account.Identifier{Kind: account.KindEmail, Value: email}); err == nil {
				t.Errorf("%s was registered from an ambiguous body", email)
			}
		}
		// The same body without the ambiguity registers.
		if r := b.do("POST", "/v1/resident/register", reg(`"email":"a@example.com"`)); r.status != 201 {
			t.Fatalf("register: %d %s", r.status, r.body)
		}
	})
}
