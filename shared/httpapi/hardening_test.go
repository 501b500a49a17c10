package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/audit"
)

// TestRightPasswordsEarnNoIPCredit: the IP limit counts failed logins
// only. Right passwords (of an approved account, or of a pending one, which
// is refused for its status) late in one window used to raise the limit
// of the next; now 30 failures are 30 failures.
func TestRightPasswordsEarnNoIPCredit(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.approvedResident()
		e.register(e.browser(), "pedro@example.com", "09181234567") // stays pending
		b := e.browser()
		fail := func(i int) *response {
			return b.login("resident", fmt.Sprintf("nobody%d@example.com", i), "wrong password here")
		}
		wantStatus(t, "first failure", fail(0), 401, "invalid_credentials")
		e.clock.Advance(10 * time.Minute)
		for range 20 {
			wantStatus(t, "pending account, right password", b.login("resident", "pedro@example.com", residentPassword), 403, "account_pending")
			b.mustLogin("resident", "juan@example.com", residentPassword)
		}
		e.clock.Advance(6 * time.Minute) // the first failure's window is over
		for i := 1; i <= 30; i++ {
			wantStatus(t, fmt.Sprintf("failure %d of the new window", i), fail(i), 401, "invalid_credentials")
		}
		wantStatus(t, "31st failure", fail(31), 429, "too_many_attempts")
		wantStatus(t, "right password from the throttled IP", b.login("resident", "juan@example.com", residentPassword), 429, "too_many_attempts")
	})
}

// TestFailedLoginEventsNameTheAccount: an analyst filtering by account sees
// the failed logins and the lock of that account's identifiers.
func TestFailedLoginEventsNameTheAccount(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		id := e.approvedResident()
		pending := e.register(e.browser(), "pedro@example.com", "09181234567")
		b := e.browser()
		for range 5 {
			b.login("resident", "JUAN@example.com", "wrong password here")
		}
		b.login("resident", "pedro@example.com", residentPassword)
		b.login("resident", "nobody@example.com", "wrong password here")
		byReason := map[string][]string{}
		for _, ev := range e.eventsOf(audit.LoginFailed) {
			byReason[ev.Details["reason"]] = append(byReason[ev.Details["reason"]], ev.AccountID)
		}
		for _, ids := range byReason {
			slices.Sort(ids)
		}
		want := map[string][]string{"invalid_credentials": {"", id, id, id, id, id}, "account_pending": {pending}}
		if fmt.Sprint(byReason) != fmt.Sprint(want) {
			t.Fatalf("login_failed account ids by reason = %v, want %v", byReason, want)
		}
		if evs := e.eventsOf(audit.LoginLocked); len(evs) != 1 || evs[0].AccountID != id {
			t.Fatalf("login_locked events: %+v, want one naming %s", evs, id)
		}
	})
}

// TestEveryLoginIssuesAFreshCSRFToken: a CSRF token planted before the
// login (a sibling site can set cookies) is not the logged-in session's.
func TestEveryLoginIssuesAFreshCSRFToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.approvedResident()
	e.createAdmin("ops", "operations_manager", "Poblacion")
	b := e.browser()
	planted := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	b.setCookie("ekolek_csrftoken", planted)
	r := b.mustLogin("resident", "juan@example.com", residentPassword)
	first := b.cookie("ekolek_csrftoken")
	if first == planted || r.str("csrf_token") != first {
		t.Fatalf("after login: cookie %q, body %q; want a new token in both (planted %q)", first, r.str("csrf_token"), planted)
	}
	wantStatus(t, "the planted token", b.do("POST", "/v1/resident/logout", nil, "X-CSRF-Token", planted), 403, "csrf_failed")
	b.mustLogin("admin", "ops", adminPassword)
	second := b.cookie("ekolek_csrftoken")
	if second == first {
		t.Fatal("a second login kept the CSRF token of the first")
	}
	// The resident realm's pages read the cookie again: the new token works there.
	if r := b.do("DELETE", "/v1/resident/sessions", nil); r.status != http.StatusOK {
		t.Fatalf("resident request with the token of the later login: %d %s", r.status, r.body)
	}
}

// TestResetLiftsTheLoginLock: anyone can lock an account with five wrong
// passwords; the owner who completes a reset gets back in at once.
func TestResetLiftsTheLoginLock(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.verifiedResident(true)
		attacker := e.browser()
		for range 5 {
			attacker.login("resident", "juan@example.com", "wrong password here")
			attacker.login("resident", "09171234567", "wrong password here")
		}
		owner := e.browser()
		wantStatus(t, "owner while locked", owner.login("resident", "juan@example.com", residentPassword), 429, "too_many_attempts")
		if r := e.resetPassword(owner, "juan@example.com", newResidentPassword); r.status != 204 {
			t.Fatalf("reset: %d %s", r.status, r.body)
		}
		owner.mustLogin("resident", "juan@example.com", newResidentPassword)
		owner.mustLogin("resident", "09171234567", newResidentPassword)
	})
}

// resetPassword runs the email reset flow for a resident in browser b:
// request, the code from the outbox, verify, confirm. It returns the first
// answer that is not the step's success, or the confirmation's.
func (e *env) resetPassword(b *browser, email, newPassword string) *response {
	e.t.Helper()
	if r := b.do("POST", "/v1/resident/password-reset", map[string]string{"identifier": email, "channel": "email"}); r.status != 202 {
		return r
	}
	code, _ := e.lastCode(email)
	r := b.do("POST", "/v1/resident/password-reset/verify", map[string]string{"identifier": email, "code": code})
	if r.status != 200 {
		return r
	}
	return b.do("POST", "/v1/resident/password-reset/confirm", map[string]string{"reset_token": r.str("reset_token"), "new_password": newPassword})
}
