package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
)

// sessionCookie is the Set-Cookie of name in r, or nil.
func sessionCookie(r *response, name string) (*http.Cookie, string) {
	for _, raw := range r.header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(raw)
		if err == nil && c.Name == name {
			return c, raw
		}
	}
	return nil, ""
}

// Closing the browser: an admin's session cookie and a resident's are
// browser-session cookies (no Expires, no Max-Age), except a resident's
// who asked to be remembered, which lasts until the session's absolute
// expiry. The CSRF cookie is the same in every case.
func TestSessionCookiesOutliveTheBrowserOnlyForARememberedResident(t *testing.T) {
	for _, prod := range []bool{false, true} {
		name := map[bool]string{false: "local", true: "production"}[prod]
		t.Run(name, func(t *testing.T) {
			var opts []envOption
			prefix := ""
			if prod {
				opts = append(opts, production())
				prefix = "__Host-"
			}
			e := newEnv(t, opts...)
			e.approvedResident()
			e.createAdmin("ops", account.RoleOperationsManager, "Landayan")
			cases := []struct {
				name, realm, identifier, password, remember string
				persistent                                  bool
				life                                        time.Duration
			}{
				{"resident", "resident", "juan@example.com", residentPassword, "", false, 0},
				{"resident, remember false", "resident", "juan@example.com", residentPassword, "false", false, 0},
				{"resident, remember true", "resident", "juan@example.com", residentPassword, "true", true, 24 * time.Hour},
				{"admin", "admin", "ops", adminPassword, "", false, 0},
				{"admin, remember true", "admin", "ops", adminPassword, "true", false, 0},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					body := `{"identifier":"` + c.identifier + `","password":"` + c.password + `"`
					if c.remember != "" {
						body += `,"remember":` + c.remember
					}
					r := e.browser().do(http.MethodPost, "/v1/"+c.realm+"/login", body+"}")
					wantStatus(t, "login", r, http.StatusOK, "")
					cookie := map[string]string{"resident": "ekolek_session", "admin": "ekolek_admin_session"}[c.realm]
					sc, raw := sessionCookie(r, prefix+cookie)
					if sc == nil {
						t.Fatalf("no %s%s cookie in %v", prefix, cookie, r.header.Values("Set-Cookie"))
					}
					hasLifetime := strings.Contains(raw, "Expires=") || strings.Contains(raw, "Max-Age=")
					switch {
					case c.persistent && !hasLifetime:
						t.Fatalf("remembered resident's cookie has no lifetime: %s", raw)
					case c.persistent:
						want := e.clock.Now().Add(c.life)
						if sc.MaxAge != int(c.life/time.Second) || !sc.Expires.Equal(want.Truncate(time.Second)) {
							t.Fatalf("cookie lives Max-Age=%d Expires=%v, want %d and %v (the absolute expiry): %s", sc.MaxAge, sc.Expires, int(c.life/time.Second), want, raw)
						}
						if exp := r.str("session", "expires_at"); exp != want.Format(time.RFC3339) {
							t.Fatalf("session expires_at %s, want %s", exp, want.Format(time.RFC3339))
						}
					case hasLifetime:
						t.Fatalf("a browser-session cookie was expected, got %s", raw)
					}
					if prod != sc.Secure || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" {
						t.Fatalf("cookie attributes: %s", raw)
					}
					// The CSRF cookie is not a session's: one lifetime for all.
					csrf, rawCSRF := sessionCookie(r, prefix+"ekolek_csrftoken")
					if csrf == nil || csrf.MaxAge <= 0 || csrf.HttpOnly {
						t.Fatalf("CSRF cookie: %q", rawCSRF)
					}
				})
			}
		})
	}
}

func TestRememberMustBeABoolean(t *testing.T) {
	e := newEnv(t)
	e.approvedResident()
	for _, v := range []string{`"true"`, `1`, `null`, `{}`} {
		r := e.browser().do(http.MethodPost, "/v1/resident/login", `{"identifier":"juan@example.com","password":"`+residentPassword+`","remember":`+v+`}`)
		if v == "null" {
			// JSON null is an absent optional field.
			wantStatus(t, "remember null", r, http.StatusOK, "")
			continue
		}
		wantStatus(t, "remember "+v, r, http.StatusBadRequest, "invalid_request")
		if f, _ := r.get("error", "fields", "remember").(string); f == "" {
			t.Fatalf("remember %s: no fields.remember in %s", v, r.body)
		}
	}
}

// A page's background check (GET session?peek=1) never moves the idle
// deadline: a session nobody uses ends when its idle window does, however
// many tabs keep looking at it. A plain GET, which a person's action
// causes, does refresh it once half the window has passed.
func TestPeekNeverExtendsTheIdleWindow(t *testing.T) {
	for _, c := range []struct {
		realm, identifier, password string
		idle                        time.Duration
	}{
		{"resident", "juan@example.com", residentPassword, 2 * time.Hour},
		{"admin", "ops", adminPassword, 30 * time.Minute},
	} {
		t.Run(c.realm, func(t *testing.T) {
			e := newEnv(t)
			e.approvedResident()
			e.createAdmin("ops", account.RoleOperationsManager, "Landayan")
			looker, user := e.browser(), e.browser()
			start := e.clock.Now()
			looker.mustLogin(c.realm, c.identifier, c.password)
			user.mustLogin(c.realm, c.identifier, c.password)
			wantIdle := start.Add(c.idle).Format(time.RFC3339)
			peek := func(b *browser) *response { return b.do(http.MethodGet, "/v1/"+c.realm+"/session?peek=1", nil) }

			// Before and past half the window (where a refresh is due).
			for _, step := range []time.Duration{c.idle / 4, c.idle/4 + time.Minute} {
				e.clock.Advance(step)
				r := peek(looker)
				wantStatus(t, "peek", r, http.StatusOK, "")
				if got := r.str("session", "idle_expires_at"); got != wantIdle {
					t.Fatalf("peek at +%v moved idle_expires_at to %s, want %s", e.clock.Now().Sub(start), got, wantIdle)
				}
			}
			r := user.session(c.realm)
			wantStatus(t, "plain session check", r, http.StatusOK, "")
			if got, want := r.str("session", "idle_expires_at"), e.clock.Now().Add(c.idle).Format(time.RFC3339); got != want {
				t.Fatalf("a plain check left idle_expires_at at %s, want it refreshed to %s", got, want)
			}

			// The window ends for the session only looked at; the used one lives on.
			e.clock.Advance(start.Add(c.idle + time.Second).Sub(e.clock.Now()))
			wantStatus(t, "peek after the idle window", peek(looker), http.StatusUnauthorized, "session_expired")
			if r := peek(user); r.status != http.StatusOK {
				t.Fatalf("the session a person used: %d %s", r.status, r.body)
			}
		})
	}
}

func TestPeekTakesOnlyOne(t *testing.T) {
	e := newEnv(t)
	e.approvedResident()
	b := e.browser()
	b.mustLogin("resident", "juan@example.com", residentPassword)
	for _, q := range []string{"peek=0", "peek=true", "peek=", "peek=1&peek=1"} {
		r := b.do(http.MethodGet, "/v1/resident/session?"+q, nil)
		wantStatus(t, q, r, http.StatusBadRequest, "invalid_request")
		if f, _ := r.get("error", "fields", "peek").(string); f == "" {
			t.Fatalf("%s: no fields.peek in %s", q, r.body)
		}
	}
}
