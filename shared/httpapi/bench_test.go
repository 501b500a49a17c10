package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/app/allparts"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/logging"
	"github.com/ekolek/identity/shared/password"
)

// benchApp is the full handler on the embedded store with an approved resident.
func benchApp(b *testing.B, hash *password.Params, configure ...func(*config.Config)) (http.Handler, *app.App) {
	cfg := testConfig(b)
	for _, f := range configure {
		f(&cfg)
	}
	c := clock.NewManual(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC))
	a, err := app.Open(context.Background(), cfg, logging.New(io.Discard, slog.LevelInfo), app.Options{Clock: c, Hash: hash, Parts: allparts.Parts()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = a.Close() })
	acct, _, err := a.Accounts.Register(context.Background(), account.Registration{
		FirstName: "Juan", LastName: "Dela Cruz", Email: "juan@example.com", Phone: "09171234567", Barangay: "Landayan", Password: residentPassword,
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, _, _, err := a.Accounts.ChangeResidentStatus(context.Background(), account.Account{Realm: account.Admin, Role: account.RoleSuperAdmin}, acct.ID, account.ActionApprove, ""); err != nil {
		b.Fatal(err)
	}
	h, err := a.Handler()
	if err != nil {
		b.Fatal(err)
	}
	return h, a
}

func loginRequest() *http.Request {
	r := httptest.NewRequest("POST", "/v1/resident/login", strings.NewReader(`{"identifier":"juan@example.com","password":"`+residentPassword+`"}`))
	r.Header.Set("Content-Type", "application/json")
	return r
}

// BenchmarkSessionRequest is GET /v1/resident/session through the whole handler.
func BenchmarkSessionRequest(b *testing.B) {
	h, _ := benchApp(b, nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, loginRequest())
	cookie := w.Header().Values("Set-Cookie")[0]
	cookie = cookie[:strings.IndexByte(cookie, ';')]
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := httptest.NewRequest("GET", "/v1/resident/session", nil)
		r.Header.Set("Cookie", cookie)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

// BenchmarkLogin is a successful login through the whole handler with the
// production argon2id parameters; BenchmarkLoginCheapHash is the same with a
// nearly free hash, so the difference is the argon2id time and the cheap
// run is the login's own cost.
func BenchmarkLogin(b *testing.B) { benchLogin(b, nil) }

// BenchmarkLoginCheapHash: see BenchmarkLogin.
func BenchmarkLoginCheapHash(b *testing.B) {
	benchLogin(b, &cheapHash)
}

func benchLogin(b *testing.B, hash *password.Params) {
	h, _ := benchApp(b, hash)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, loginRequest())
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

// BenchmarkLoginRefused compares a wrong password for a real account with an
// identifier no account has: both spend one argon2id verification, so their
// times should match and timing tells nothing about who has an account.
func BenchmarkLoginRefused(b *testing.B) {
	// No lock and no IP limit: every iteration is a refused password check.
	h, _ := benchApp(b, nil, func(c *config.Config) {
		c.Limits.LoginFailures.Max, c.Limits.LoginIP.Max = 1<<30, 1<<30
	})
	for _, c := range []struct{ name, identifier string }{
		{"known", "juan@example.com"},
		{"unknown", "nobody@example.com"},
	} {
		b.Run(c.name, func(b *testing.B) {
			body := `{"identifier":"` + c.identifier + `","password":"not the right password"}`
			for b.Loop() {
				r := httptest.NewRequest("POST", "/v1/resident/login", strings.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != 401 {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}

// BenchmarkResetRequest compares a reset request for a real account with a
// verified email (a code is issued and a message sent) with one for an
// identifier nobody has, with the response floor that hides the difference
// and without it (the raw work, for comparison).
func BenchmarkResetRequest(b *testing.B) {
	for _, floor := range []struct {
		name string
		d    time.Duration
	}{{"floor", 0}, {"nofloor", time.Nanosecond}} {
		for _, c := range []struct{ name, identifier string }{
			{"known", "juan@example.com"},
			{"unknown", "nobody@example.com"},
		} {
			b.Run(floor.name+"/"+c.name, func(b *testing.B) {
				cfg := testConfig(b)
				clk := clock.NewManual(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC))
				a, err := app.Open(context.Background(), cfg, logging.New(io.Discard, slog.LevelInfo), app.Options{Clock: clk, CodeRouteFloor: floor.d, Parts: allparts.Parts()})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = a.Close() })
				acct, _, err := a.Accounts.Register(context.Background(), account.Registration{
					FirstName: "Juan", LastName: "Dela Cruz", Email: "juan@example.com", Phone: "09171234567", Barangay: "Landayan", Password: residentPassword,
				})
				if err != nil {
					b.Fatal(err)
				}
				acct.EmailVerified = true
				if err := a.Store.UpdateAccount(context.Background(), acct); err != nil {
					b.Fatal(err)
				}
				h, _ := a.Handler()
				body := `{"identifier":"` + c.identifier + `","channel":"email"}`
				for b.Loop() {
					// Past the cooldown and the hourly cap, so every known request sends.
					clk.Advance(2 * time.Hour)
					r := httptest.NewRequest("POST", "/v1/resident/password-reset", strings.NewReader(body))
					r.Header.Set("Content-Type", "application/json")
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if w.Code != 202 {
						b.Fatalf("%d %s", w.Code, w.Body)
					}
				}
			})
		}
	}
}

// BenchmarkLoginLocked is a login refused by the identifier lock: it is
// turned away before any password hash, so it costs a fraction of
// BenchmarkLogin.
func BenchmarkLoginLocked(b *testing.B) {
	h, _ := benchApp(b, nil)
	wrong := `{"identifier":"juan@example.com","password":"not the right password"}`
	for i := 0; i < 5; i++ {
		r := httptest.NewRequest("POST", "/v1/resident/login", strings.NewReader(wrong))
		r.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, loginRequest())
		if w.Code != 429 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}
