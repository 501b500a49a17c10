package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
)

// weakLong is a weak new password of the policy's full 128 characters, the
// kind that once cost zxcvbn seconds.
var weakLong = strings.Repeat("juandelacruz", 11)[:128]

// Every route that takes a password applies its locks and throttles before
// any expensive work on it (a hash or the strength check): a refused caller
// is told so, not how weak the password was.
func TestLimitsComeBeforePasswordWork(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.verifiedResident(false)
		a := e.browser()
		a.mustLogin("resident", "juan@example.com", residentPassword)

		// Password change: the account's identifier is locked by five wrong
		// logins elsewhere; its own session, with the right current password
		// and a weak new one, is refused by the lock.
		x := e.browser()
		for i := 0; i < 5; i++ {
			wantStatus(t, "wrong login", x.login("resident", "juan@example.com", "not my password at all"), 401, "invalid_credentials")
		}
		for _, next := range []string{"juandelacruz", weakLong} {
			r := a.do("POST", "/v1/resident/password", map[string]string{"current_password": residentPassword, "new_password": next})
			wantStatus(t, "locked password change with a weak new password", r, 429, "too_many_attempts")
		}

		// Reset confirm: the reset token is checked before the new password.
		r := e.browser().do("POST", "/v1/resident/password-reset/confirm", map[string]string{"reset_token": "not.a.token", "new_password": weakLong})
		wantStatus(t, "reset confirm with a bad token and a weak password", r, 400, "invalid_token")

		// Registration: the per-address limit comes before the policy.
		b := e.browser()
		for i := 0; i < 10; i++ {
			b.do("POST", "/v1/resident/register", map[string]string{"first_name": "A", "last_name": "B",
				"email": fmt.Sprintf("r%d@example.com", i), "phone": "09181234567", "barangay": "Landayan", "password": weakLong})
		}
		r = b.do("POST", "/v1/resident/register", map[string]string{"first_name": "A", "last_name": "B",
			"email": "z@example.com", "phone": "09181234567", "barangay": "Landayan", "password": weakLong})
		wantStatus(t, "11th registration with a weak password", r, 429, "rate_limited")
	})
}
