package httpapi_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/ekolek/identity/shared/web"
)

// raw sends a request without following redirects and returns the answer
// and its body.
func (b *browser) raw(method, path string) (*http.Response, string) {
	b.e.t.Helper()
	req, err := http.NewRequest(method, b.e.srv.URL+path, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	c := *b.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

// The pages come through the same pipeline as the API (request id, the
// common security headers, HEAD as GET), under their own CSP and caching;
// the API's own paths keep answering in JSON, whatever the pages catch.
func TestPagesBesideTheAPI(t *testing.T) {
	for _, prod := range []bool{false, true} {
		t.Run(map[bool]string{false: "local", true: "production"}[prod], func(t *testing.T) {
			var opts []envOption
			if prod {
				opts = append(opts, production())
			}
			e := newEnv(t, opts...)
			b := e.browser()

			res, body := b.raw(http.MethodGet, "/login")
			h := res.Header
			if res.StatusCode != 200 || !strings.Contains(body, `data-page="login"`) {
				t.Fatalf("GET /login: %d %.200s", res.StatusCode, body)
			}
			for k, want := range map[string]string{
				"Content-Security-Policy": web.CSP, "Cache-Control": "no-cache", "Content-Type": "text/html; charset=utf-8",
				"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
			} {
				if h.Get(k) != want {
					t.Errorf("GET /login: %s is %q, want %q", k, h.Get(k), want)
				}
			}
			if h.Get("X-Request-Id") == "" || prod != (h.Get("Strict-Transport-Security") != "") {
				t.Errorf("GET /login: X-Request-Id %q, HSTS %q", h.Get("X-Request-Id"), h.Get("Strict-Transport-Security"))
			}

			head, headBody := b.raw(http.MethodHead, "/login")
			if head.StatusCode != 200 || headBody != "" || head.Header.Get("Content-Length") != strconv.Itoa(len(body)) || head.Header.Get("Content-Security-Policy") != web.CSP {
				t.Errorf("HEAD /login: %d, Content-Length %q (GET's body %d), body %d bytes", head.StatusCode, head.Header.Get("Content-Length"), len(body), len(headBody))
			}

			res, body = b.raw(http.MethodGet, "/no/such/page")
			if res.StatusCode != 404 || !strings.Contains(body, `data-page="not-found"`) || res.Header.Get("Content-Security-Policy") != web.CSP {
				t.Errorf("GET /no/such/page: %d %.100s", res.StatusCode, body)
			}
			for _, p := range []string{"/v1/nope", "/v1/resident/nope", "/v1", "/dev/nope"} {
				res, body = b.raw(http.MethodGet, p)
				if res.StatusCode != 404 || !strings.Contains(body, `"code":"not_found"`) || res.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("GET %s: %d %q, want the API's 404", p, res.StatusCode, body)
				}
			}
			res, body = b.raw(http.MethodPost, "/login")
			if res.StatusCode != 405 || res.Header.Get("Allow") != "GET, HEAD" || !strings.Contains(body, `"code":"method_not_allowed"`) {
				t.Errorf("POST /login: %d %v %s", res.StatusCode, res.Header.Get("Allow"), body)
			}
		})
	}
}

// / sends a browser with a resident session cookie to its account, any
// other to the login page; an admin's cookie is not a resident's.
func TestHomeSendsToTheAccountOrTheLogin(t *testing.T) {
	e := newEnv(t)
	e.approvedResident()
	e.createAdmin("ops", "operations_manager", "Landayan")
	where := func(b *browser) string {
		t.Helper()
		res, _ := b.raw(http.MethodGet, "/")
		if res.StatusCode != http.StatusFound || res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("GET /: %d %v", res.StatusCode, res.Header)
		}
		return res.Header.Get("Location")
	}
	b := e.browser()
	if got := where(b); got != "/login" {
		t.Fatalf("no session: / goes to %s", got)
	}
	b.mustLogin("admin", "ops", adminPassword)
	if got := where(b); got != "/login" {
		t.Fatalf("an admin session only: / goes to %s", got)
	}
	b.mustLogin("resident", "juan@example.com", residentPassword)
	if got := where(b); got != "/account" {
		t.Fatalf("a resident session: / goes to %s", got)
	}
}

// /admin as people type it opens the console; the API's paths are not
// touched by it.
func TestAdminWithoutTheSlashOpensTheConsole(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res, _ := e.browser().raw(http.MethodGet, "/admin")
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/admin/" {
		t.Fatalf("GET /admin: %d to %q, want 302 to /admin/", res.StatusCode, res.Header.Get("Location"))
	}
	if res, body := e.browser().raw(http.MethodGet, "/admin/"); res.StatusCode != http.StatusOK || !strings.Contains(body, `data-page="admin-residents"`) {
		t.Fatalf("GET /admin/: %d %.200s", res.StatusCode, body)
	}
}
