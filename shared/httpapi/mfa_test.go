package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/mfa"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
	"github.com/ekolek/identity/shared/totp"
)

// enrolledTOTP is a TOTP enrollment as the API answered it.
type enrolledTOTP struct {
	id, secret string
}

// enrollTOTP starts a TOTP factor for b's session in realm; the secret is
// a secret the logs must not hold.
func (b *browser) enrollTOTP(realm string) enrolledTOTP {
	b.e.t.Helper()
	r := b.do(http.MethodPost, "/v1/"+realm+"/mfa/totp", map[string]string{"name": "Phone"})
	if r.status != http.StatusOK {
		b.e.t.Fatalf("enroll TOTP: %d %s", r.status, r.body)
	}
	en := enrolledTOTP{id: r.str("id"), secret: r.str("secret")}
	b.e.secrets.Store(en.secret, true)
	return en
}

// totpCode is the code an authenticator app shows for secret now (the
// env's clock); the log scan looks for it.
func (e *env) totpCode(secret string) string {
	e.t.Helper()
	c, err := totp.Code(secret, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	e.codes.Store(c, true)
	return c
}

// confirmTOTP confirms en with the code of now and returns the answer.
func (b *browser) confirmTOTP(realm string, en enrolledTOTP) *response {
	b.e.t.Helper()
	r := b.do(http.MethodPost, "/v1/"+realm+"/mfa/totp/confirm", map[string]string{"id": en.id, "code": b.e.totpCode(en.secret)})
	for _, c := range r.strings("recovery_codes") {
		b.e.secrets.Store(c, true)
	}
	return r
}

// strings is the list of strings at keys.
func (r *response) strings(keys ...string) []string {
	var out []string
	l, _ := r.get(keys...).([]any)
	for _, v := range l {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

// wrongCode is a six-digit code that is not code.
func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

var recoveryFormat = regexp.MustCompile(`^[2-9a-hjkmnp-z]{5}-[2-9a-hjkmnp-z]{5}$`)

// TestSecondFactorEnrollmentAndManagement walks a resident through the
// second factor's routes: enrollment with a wrong and a right first code,
// the listing, and the recovery codes and removal that need a recent
// proof of the password.
func TestSecondFactorEnrollmentAndManagement(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.approvedResident()
		b := e.browser()
		b.mustLogin("resident", "juan@example.com", residentPassword)

		r := b.do("GET", "/v1/resident/mfa", nil)
		if r.status != 200 || len(r.get("factors").([]any)) != 0 || r.get("recovery_codes_left") != 0.0 || r.get("required") != false {
			t.Fatalf("GET mfa before any factor: %d %s", r.status, r.body)
		}
		wantStatus(t, "GET mfa without a session", e.browser().do("GET", "/v1/resident/mfa", nil), 401, "unauthenticated")
		wantStatus(t, "a name too long", b.do("POST", "/v1/resident/mfa/totp", map[string]string{"name": strings.Repeat("n", 65)}), 400, "invalid_request")
		wantStatus(t, "enrollment without CSRF", b.do("POST", "/v1/resident/mfa/totp", map[string]string{}, "X-CSRF-Token", ""), 403, "csrf_failed")

		// The answer gives the secret, its URI and the QR code.
		r = b.do("POST", "/v1/resident/mfa/totp", nil)
		if r.status != 200 {
			t.Fatalf("enroll: %d %s", r.status, r.body)
		}
		en := enrolledTOTP{id: r.str("id"), secret: r.str("secret")}
		e.secrets.Store(en.secret, true)
		u, err := url.Parse(r.str("otpauth_uri"))
		if err != nil || u.Scheme != "otpauth" || u.Query().Get("secret") != en.secret || u.Query().Get("issuer") != mfa.Issuer ||
			u.Path != "/E-KOLEK:juan@example.com" || !strings.HasPrefix(r.str("qr_svg"), "<svg") || !account.ValidID(en.id) {
			t.Fatalf("enrollment answer: %s", r.body)
		}
		if n := len(b.do("GET", "/v1/resident/mfa", nil).get("factors").([]any)); n != 0 {
			t.Errorf("a pending factor is listed (%d factors)", n)
		}

		code := e.totpCode(en.secret)
		wantStatus(t, "a wrong first code", b.do("POST", "/v1/resident/mfa/totp/confirm", map[string]string{"id": en.id, "code": wrongCode(code)}), 400, "invalid_code")
		wantStatus(t, "no id", b.do("POST", "/v1/resident/mfa/totp/confirm", map[string]string{"code": code}), 400, "invalid_request")
		wantStatus(t, "an unknown factor", b.do("POST", "/v1/resident/mfa/totp/confirm", map[string]string{"id": account.NewID(), "code": code}), 404, "not_found")
		r = b.confirmTOTP("resident", en)
		codes := r.strings("recovery_codes")
		if r.status != 200 || r.str("factor", "id") != en.id || r.str("factor", "type") != "totp" || len(codes) != mfa.RecoveryCount || !recoveryFormat.MatchString(codes[0]) {
			t.Fatalf("confirmation: %d %s", r.status, r.body)
		}
		wantStatus(t, "confirming again", b.confirmTOTP("resident", en), 404, "not_found")

		r = b.do("GET", "/v1/resident/mfa", nil)
		if fs := r.get("factors").([]any); len(fs) != 1 || r.get("recovery_codes_left") != 10.0 ||
			fs[0].(map[string]any)["id"] != en.id || fs[0].(map[string]any)["name"] != "" {
			t.Fatalf("GET mfa after the confirmation: %s", r.body)
		}
		if strings.Contains(string(r.body), en.secret) {
			t.Error("the listing shows the secret")
		}

		// The login proved the password a moment ago; six minutes later it
		// is too old for recovery codes and removal.
		if r := b.do("POST", "/v1/resident/mfa/recovery-codes", nil); r.status != 200 || len(r.strings("recovery_codes")) != 10 {
			t.Fatalf("new codes right after the login: %d %s", r.status, r.body)
		} else {
			for _, c := range r.strings("recovery_codes") {
				e.secrets.Store(c, true)
			}
		}
		e.clock.Advance(6 * time.Minute)
		wantStatus(t, "new codes, 6 minutes after the login", b.do("POST", "/v1/resident/mfa/recovery-codes", nil), 403, "reauth_required")
		wantStatus(t, "removal, 6 minutes after the login", b.do("DELETE", "/v1/resident/mfa/"+en.id, nil), 403, "reauth_required")
		wantStatus(t, "reauth with a wrong password", b.do("POST", "/v1/resident/reauth", map[string]string{"password": "not my password at all"}), 400, "invalid_credentials")
		wantStatus(t, "reauth without a password", b.do("POST", "/v1/resident/reauth", map[string]string{}), 400, "invalid_request")
		r = b.do("POST", "/v1/resident/reauth", map[string]string{"password": residentPassword})
		if r.status != 200 || r.str("reauth_expires_at") != e.clock.Now().Add(mfa.ReauthWindow).Format(time.RFC3339) {
			t.Fatalf("reauth: %d %s", r.status, r.body)
		}
		e.clock.Advance(mfa.ReauthWindow + time.Second)
		wantStatus(t, "removal past the reauth's 5 minutes", b.do("DELETE", "/v1/resident/mfa/"+en.id, nil), 403, "reauth_required")
		b.do("POST", "/v1/resident/reauth", map[string]string{"password": residentPassword})

		// Another account's factor is not found; then the resident removes
		// the last factor, and the recovery codes go with it.
		wantStatus(t, "removal of an unknown factor", b.do("DELETE", "/v1/resident/mfa/"+account.NewID(), nil), 404, "not_found")
		wantStatus(t, "removal of a malformed id", b.do("DELETE", "/v1/resident/mfa/..%2f", nil), 404, "not_found")
		if r := b.do("DELETE", "/v1/resident/mfa/"+en.id, nil); r.status != 204 {
			t.Fatalf("removal: %d %s", r.status, r.body)
		}
		r = b.do("GET", "/v1/resident/mfa", nil)
		if len(r.get("factors").([]any)) != 0 || r.get("recovery_codes_left") != 0.0 {
			t.Fatalf("after the removal: %s", r.body)
		}
		wantStatus(t, "new codes without a factor", b.do("POST", "/v1/resident/mfa/recovery-codes", nil), 409, "no_factor")
		for _, ty := range []string{"mfa_enrolled", "mfa_removed"} {
			if n := countEvents(t, e, ty); n == 0 {
				t.Errorf("no %s event", ty)
			}
		}
	})
}

// countEvents is how many stored events of type ty there are.
func countEvents(t *testing.T, e *env, ty string) int {
	t.Helper()
	return strings.Count(storedEvents(t, e), `"Type":"`+ty+`"`)
}

// TestAdminKeepsALastFactor: an admin who must have a second factor
// cannot remove the last one (409), and one of two removed at once leaves
// the other; another admin's factor is not found.
func TestAdminKeepsALastFactor(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store, adminMFARequired())
		e.createAdmin("ana", account.RoleSecurityAnalyst)
		e.createAdmin("ben", account.RoleSecurityAnalyst)
		b := e.browser()
		b.adminLogin("ana") // enrolls the first factor
		r := b.do("GET", "/v1/admin/mfa", nil)
		if r.get("required") != true || len(r.get("factors").([]any)) != 1 {
			t.Fatalf("an admin's GET mfa: %s, want required and the factor enrolled at login", r.body)
		}
		first := enrolledTOTP{id: r.get("factors").([]any)[0].(map[string]any)["id"].(string)}
		wantStatus(t, "an admin's last factor", b.do("DELETE", "/v1/admin/mfa/"+first.id, nil), 409, "last_factor")

		e.clock.Advance(30 * time.Second) // the second factor's first code in a step of its own
		second := b.enrollTOTP("admin")
		if r := b.confirmTOTP("admin", second); r.status != 200 || r.get("recovery_codes") != nil {
			t.Fatalf("a second factor: %d %s (no new recovery codes expected)", r.status, r.body)
		}
		other := e.browser()
		other.adminLogin("ben")
		wantStatus(t, "another admin's factor", other.do("DELETE", "/v1/admin/mfa/"+first.id, nil), 404, "not_found")
		wantStatus(t, "the admin's factor through the resident realm", b.do("DELETE", "/v1/resident/mfa/"+first.id, nil), 401, "unauthenticated")

		statuses := make([]int, 2)
		var wg sync.WaitGroup
		for i, id := range []string{first.id, second.id} {
			wg.Go(func() { statuses[i] = b.do("DELETE", "/v1/admin/mfa/"+id, nil).status })
		}
		wg.Wait()
		if !(statuses[0] == 204 && statuses[1] == 409 || statuses[0] == 409 && statuses[1] == 204) {
			t.Fatalf("two removals at once: %v, want one 204 and one 409", statuses)
		}
		if n := len(b.do("GET", "/v1/admin/mfa", nil).get("factors").([]any)); n != 1 {
			t.Fatalf("%d factors left, want 1", n)
		}
	})
}

// TestOneCodeConfirmsOnce: the same first code sent twice at once
// confirms the factor once; the other answer is refused.
func TestOneCodeConfirmsOnce(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.createAdmin("ana", account.RoleSecurityAnalyst)
		b := e.browser()
		b.mustLogin("admin", "ana", adminPassword)
		en := b.enrollTOTP("admin")
		code := e.totpCode(en.secret)
		const n = 4
		rs := make([]*response, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				rs[i] = b.do("POST", "/v1/admin/mfa/totp/confirm", map[string]string{"id": en.id, "code": code})
			})
		}
		wg.Wait()
		ok, sets := 0, 0
		for _, r := range rs {
			switch {
			case r.status == 200:
				ok++
				if len(r.strings("recovery_codes")) == mfa.RecoveryCount {
					sets++
				}
				for _, c := range r.strings("recovery_codes") {
					e.secrets.Store(c, true)
				}
			case r.status != 404 && r.status != 409:
				t.Errorf("a concurrent confirmation: %d %s", r.status, r.body)
			}
		}
		if ok != 1 || sets != 1 {
			t.Fatalf("%d of %d concurrent confirmations passed (%d with codes), want 1", ok, n, sets)
		}
		if r := b.do("GET", "/v1/admin/mfa", nil); len(r.get("factors").([]any)) != 1 || r.get("recovery_codes_left") != 10.0 {
			t.Fatalf("after concurrent confirmations: %s", r.body)
		}
	})
}

// TestWrongReauthsLock: wrong passwords at reauth count toward the login
// lock like wrong logins; once locked, a reauth with the right password
// and a login are refused before any hash.
func TestWrongReauthsLock(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.approvedResident()
		b := e.browser()
		b.mustLogin("resident", "juan@example.com", residentPassword)
		for i := range 5 {
			wantStatus(t, fmt.Sprintf("wrong reauth %d", i+1), b.do("POST", "/v1/resident/reauth", map[string]string{"password": "wrong password number"}), 400, "invalid_credentials")
		}
		wantStatus(t, "reauth while locked", b.do("POST", "/v1/resident/reauth", map[string]string{"password": residentPassword}), 429, "too_many_attempts")
		wantStatus(t, "login while locked", e.browser().login("resident", "juan@example.com", residentPassword), 429, "too_many_attempts")
	})
}

// TestSecondFactorSessionCostsOneRead: a session that passed a second
// factor, and one whose password was proved again since, is checked with
// the same one DynamoDB read as any other (the session item says both), and
// says so.
func TestSecondFactorSessionCostsOneRead(t *testing.T) {
	t.Parallel()
	client := dynamotest.Client(t)
	counter := &dynamotest.CountingAPI{API: client}
	e := newEnv(t, withStore(dynamo.New(counter, dynamotest.NewTable(t, client))))
	e.createAdmin("ana", account.RoleSecurityAnalyst)
	acct, err := e.app.Accounts.Get(t.Context(), account.Admin, lookup(t, e, "ana"))
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := e.app.Sessions.StartAfterFactor(t.Context(), acct, "192.0.2.1", "test", "", string(mfa.MethodTOTP))
	if err != nil {
		t.Fatal(err)
	}
	e.noteSecret(tok)
	b := e.browser()
	b.setCookie("ekolek_admin_session", tok)
	b.setCookie("ekolek_csrftoken", strings.Repeat("c", 43)) // the length of a real one
	measure := func(what string) {
		t.Helper()
		counter.Reads.Store(0)
		counter.Writes.Store(0)
		if r := b.session("admin"); r.status != 200 {
			t.Fatalf("%s: %d %s", what, r.status, r.body)
		}
		if r, w := counter.Reads.Load(), counter.Writes.Load(); r != 1 || w != 0 {
			t.Fatalf("%s: %d reads, %d writes; want 1 and 0", what, r, w)
		}
	}
	measure("a session after a second factor")
	if r := b.do("POST", "/v1/admin/reauth", map[string]string{"password": adminPassword}); r.status != 200 {
		t.Fatalf("reauth: %d %s", r.status, r.body)
	}
	measure("the same session after a reauth")
	s, _, err := e.app.Sessions.Peek(t.Context(), account.Admin, tok)
	if err != nil || s.SecondFactor != string(mfa.MethodTOTP) || !s.AuthenticatedAt.Equal(e.clock.Now()) {
		t.Fatalf("session read back: %+v, %v", s, err)
	}
}
