package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
)

// setCookieNames lists the cookie names a response sets or clears.
func setCookieNames(r *response) []string {
	var names []string
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		names = append(names, c.Name)
	}
	return names
}

// The old system kept both logins in one server session: logging out of one
// logged the browser out of the other. These are its failure cases.
func TestBothRealmsInOneBrowserAreIndependent(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.approvedResident()
		e.createAdmin("ops", account.RoleOperationsManager, "Landayan")
		b := e.browser()

		b.mustLogin("resident", "juan@example.com", residentPassword)
		b.mustLogin("admin", "ops", adminPassword)
		if r := b.session("resident"); r.status != 200 || r.str("account", "realm") != "resident" {
			t.Fatalf("resident session: %d %s", r.status, r.body)
		}
		if r := b.session("admin"); r.status != 200 || r.str("account", "username") != "ops" {
			t.Fatalf("admin session: %d %s", r.status, r.body)
		}

		t.Run("resident logout leaves admin", func(t *testing.T) {
			r := b.logout("resident")
			if r.status != http.StatusNoContent {
				t.Fatalf("logout: %d %s", r.status, r.body)
			}
			if got := setCookieNames(r); len(got) != 1 || got[0] != "ekolek_session" {
				t.Fatalf("logout touched cookies %v, want only ekolek_session", got)
			}
			wantStatus(t, "resident after logout", b.session("resident"), 401, "unauthenticated")
			if r := b.session("admin"); r.status != 200 {
				t.Fatalf("admin after resident logout: %d %s", r.status, r.body)
			}
		})

		t.Run("admin logout leaves resident", func(t *testing.T) {
			b.mustLogin("resident", "+639171234567", residentPassword)
			r := b.logout("admin")
			if got := setCookieNames(r); len(got) != 1 || got[0] != "ekolek_admin_session" {
				t.Fatalf("logout touched cookies %v, want only ekolek_admin_session", got)
			}
			wantStatus(t, "admin after logout", b.session("admin"), 401, "unauthenticated")
			if r := b.session("resident"); r.status != 200 {
				t.Fatalf("resident after admin logout: %d %s", r.status, r.body)
			}
		})

		t.Run("admin idle expiry leaves resident", func(t *testing.T) {
			b.mustLogin("admin", "ops", adminPassword)
			e.clock.Advance(31 * time.Minute) // admin idle 30m, resident idle 2h
			r := b.session("admin")
			wantStatus(t, "admin after idle", r, 401, "session_expired")
			if got := setCookieNames(r); len(got) != 1 || got[0] != "ekolek_admin_session" {
				t.Fatalf("expiry touched cookies %v, want only ekolek_admin_session", got)
			}
			if r := b.session("resident"); r.status != 200 {
				t.Fatalf("resident after admin expiry: %d %s", r.status, r.body)
			}
		})

		t.Run("a broken cookie of one realm clears only that realm", func(t *testing.T) {
			b.mustLogin("admin", "ops", adminPassword)
			b.mustLogin("resident", "juan@example.com", residentPassword)
			good := b.cookie("ekolek_session")
			b.setCookie("ekolek_session", good[:len(good)-4]+"AAAA")
			r := b.session("resident")
			wantStatus(t, "broken resident cookie", r, 401, "unauthenticated")
			if got := setCookieNames(r); len(got) != 1 || got[0] != "ekolek_session" {
				t.Fatalf("cleared cookies %v, want only ekolek_session", got)
			}
			if r := b.session("admin"); r.status != 200 {
				t.Fatalf("admin after the resident cookie broke: %d %s", r.status, r.body)
			}
			b.mustLogin("resident", "juan@example.com", residentPassword)
			b.setCookie("ekolek_admin_session", "garbage")
			wantStatus(t, "broken admin cookie", b.session("admin"), 401, "unauthenticated")
			if r := b.session("resident"); r.status != 200 {
				t.Fatalf("resident after the admin cookie broke: %d %s", r.status, r.body)
			}
			b.mustLogin("admin", "ops", adminPassword)
		})

		t.Run("logging in to one realm keeps the other realm working with the new CSRF token", func(t *testing.T) {
			b.mustLogin("admin", "ops", adminPassword)
			before := b.cookie("ekolek_csrftoken")
			r := b.mustLogin("resident", "juan@example.com", residentPassword)
			after := b.cookie("ekolek_csrftoken")
			if after == before || r.str("csrf_token") != after {
				t.Fatalf("resident login: CSRF cookie %q, body %q; want a fresh token in both (was %q)", after, r.str("csrf_token"), before)
			}
			// The admin page reads the cookie again for its next request.
			if r := b.logout("admin"); r.status != http.StatusNoContent {
				t.Fatalf("admin logout with the token of the resident login: %d %s", r.status, r.body)
			}
		})
	})
}

func TestRealmConfusionIsRefused(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.approvedResident()
		e.createAdmin("ops", account.RoleOperationsManager, "Landayan")
		b := e.browser()
		b.mustLogin("resident", "juan@example.com", residentPassword)
		b.mustLogin("admin", "ops", adminPassword)
		resTok, admTok := b.cookie("ekolek_session"), b.cookie("ekolek_admin_session")

		swapped := e.browser()
		swapped.setCookie("ekolek_admin_session", resTok)
		swapped.setCookie("ekolek_session", admTok)
		wantStatus(t, "resident token as admin", swapped.session("admin"), 401, "unauthenticated")
		wantStatus(t, "admin token as resident", swapped.session("resident"), 401, "unauthenticated")
		wantStatus(t, "resident token on an admin route", swapped.do("GET", "/v1/admin/residents", nil), 401, "unauthenticated")

		// A resident's own cookie on admin routes is simply not an admin login.
		res := e.browser()
		res.mustLogin("resident", "juan@example.com", residentPassword)
		wantStatus(t, "resident cookie on admin route", res.do("GET", "/v1/admin/residents", nil), 401, "unauthenticated")
	})
}

func TestForgedTokensAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.approvedResident()
	b := e.browser()
	b.mustLogin("resident", "juan@example.com", residentPassword)
	tok := b.cookie("ekolek_session")
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWT", tok)
	}
	b64 := func(s string) string { return strings.TrimRight(encodeB64URL([]byte(s)), "=") }
	payload := decodeB64URL(t, parts[1])

	cases := map[string]string{
		"garbage":            "not-a-token",
		"empty signature":    parts[0] + "." + parts[1] + ".",
		"flipped signature":  parts[0] + "." + parts[1] + "." + flip(parts[2]),
		"alg none":           b64(`{"alg":"none","typ":"JWT"}`) + "." + parts[1] + ".",
		"alg none with kid":  b64(`{"alg":"none","kid":"`+kidOf(t, parts[0])+`"}`) + "." + parts[1] + ".",
		"HS512 header":       b64(`{"alg":"HS512","kid":"`+kidOf(t, parts[0])+`"}`) + "." + parts[1] + "." + parts[2],
		"unknown kid":        b64(`{"alg":"HS256","kid":"0000000000000000"}`) + "." + parts[1] + "." + parts[2],
		"payload changed":    parts[0] + "." + b64(strings.Replace(payload, `"sub":"`, `"sub":"x`, 1)) + "." + parts[2],
		"audience changed":   parts[0] + "." + b64(strings.Replace(payload, `"resident"`, `"admin"`, 1)) + "." + parts[2],
		"other key":          signWith(t, []byte("0123456789abcdef0123456789abcdef"), payload, kidOf(t, parts[0])),
		"too long":           strings.Repeat("a", 5000),
		"two dots only":      "..",
		"valid but trailing": tok + ".x",
	}
	for name, forged := range cases {
		t.Run(name, func(t *testing.T) {
			f := e.browser()
			f.setCookie("ekolek_session", forged)
			wantStatus(t, name, f.session("resident"), 401, "unauthenticated")
		})
	}
	// The genuine token still works: the cases failed for their own reasons.
	if r := b.session("resident"); r.status != 200 {
		t.Fatalf("genuine token: %d", r.status)
	}
}

func TestReplayAfterLogoutAndRevocation(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		id := e.approvedResident()
		b := e.browser()
		b.mustLogin("resident", "juan@example.com", residentPassword)
		stolen := b.cookie("ekolek_session")
		b.logout("resident")

		thief := e.browser()
		thief.setCookie("ekolek_session", stolen)
		wantStatus(t, "replay after logout", thief.session("resident"), 401, "unauthenticated")

		b.mustLogin("resident", "juan@example.com", residentPassword)
		stolen = b.cookie("ekolek_session")
		e.changeStatus(id, "suspend")
		thief.setCookie("ekolek_session", stolen)
		wantStatus(t, "replay after suspension", thief.session("resident"), 401, "unauthenticated")
		wantStatus(t, "suspended owner", b.session("resident"), 401, "unauthenticated")
	})
}

func TestLoginIssuesNewSessionAndEndsPresentedOne(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.approvedResident()

		// An attacker logs in and plants their session cookie in the victim's browser.
		attacker := e.browser()
		attacker.mustLogin("resident", "juan@example.com", residentPassword)
		planted := attacker.cookie("ekolek_session")

		victim := e.browser()
		victim.setCookie("ekolek_session", planted)
		r := victim.mustLogin("resident", "juan@example.com", residentPassword)
		fresh := victim.cookie("ekolek_session")
		if fresh == planted || fresh == "" {
			t.Fatal("login kept the presented session id")
		}
		if r.str("session", "id") == "" {
			t.Fatal("no session in login response")
		}
		wantStatus(t, "planted session after victim login", attacker.session("resident"), 401, "unauthenticated")
		if r := victim.session("resident"); r.status != 200 {
			t.Fatalf("fresh session: %d", r.status)
		}

		// Logging in twice from one browser also rotates.
		victim.mustLogin("resident", "juan@example.com", residentPassword)
		if victim.cookie("ekolek_session") == fresh {
			t.Fatal("second login reused the session id")
		}
		stale := e.browser()
		stale.setCookie("ekolek_session", fresh)
		wantStatus(t, "previous session after re-login", stale.session("resident"), 401, "unauthenticated")
	})
}

func TestIdleAndAbsoluteExpiry(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.approvedResident()
		b := e.browser()
		r := b.mustLogin("resident", "juan@example.com", residentPassword)
		idle0 := r.str("session", "idle_expires_at")

		// Early in the window: no refresh, the deadline stays.
		e.clock.Advance(30 * time.Minute)
		if r := b.session("resident"); r.str("session", "idle_expires_at") != idle0 {
			t.Fatalf("idle deadline moved with more than half the window left: %s → %s", idle0, r.str("session", "idle_expires_at"))
		}
		// Past half the window: refreshed to now + 2h.
		e.clock.Advance(31 * time.Minute)
		r = b.session("resident")
		want := e.clock.Now().Add(2 * time.Hour).Format(time.RFC3339)
		if got := r.str("session", "idle_expires_at"); got != want {
			t.Fatalf("idle deadline after refresh = %s, want %s", got, want)
		}
		// Busy all day: the absolute 24h limit still ends it.
		for i := 0; i < 30; i++ {
			e.clock.Advance(55 * time.Minute)
			if r := b.session("resident"); r.status != 200 {
				if r.errCode() != "session_expired" {
					t.Fatalf("got %d %s", r.status, r.body)
				}
				elapsed := time.Duration(i+1)*55*time.Minute + 61*time.Minute
				if elapsed < 24*time.Hour {
					t.Fatalf("expired after %v, before the absolute limit", elapsed)
				}
				if b.cookie("ekolek_session") != "" {
					t.Fatal("expired session cookie not cleared")
				}
				return
			}
		}
		t.Fatal("session outlived its absolute lifetime")
	})
}

func TestIdleExpiryWithoutActivity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.approvedResident()
	b := e.browser()
	b.mustLogin("resident", "juan@example.com", residentPassword)
	e.clock.Advance(2*time.Hour + time.Second)
	wantStatus(t, "after idle timeout", b.session("resident"), 401, "session_expired")
	// The item is gone too, not merely refused.
	wantStatus(t, "second look", b.session("resident"), 401, "unauthenticated")
}
