package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/mfa"
	"github.com/ekolek/identity/shared/passkey/passkeytest"
	"github.com/ekolek/identity/shared/throttle"
	"github.com/ekolek/identity/shared/totp"
)

// The login's second step, an admin's first factor at the login that
// requires one, passkeys, renaming and a super admin's clearing, through
// the handler on both stores.

// nextStep moves the clock to the next TOTP time step: a code of the step
// just used (by a confirmation or a login) is refused again.
func (e *env) nextStep() { e.clock.Advance(totp.Period * time.Second) }

// loginDue logs in with a right password for an account whose login needs
// a second step (or a first factor), checks the answer sets no cookie,
// and returns it.
func (b *browser) loginDue(realm, identifier, pw string) *response {
	b.e.t.Helper()
	r := b.login(realm, identifier, pw)
	if r.status != http.StatusOK || r.str("mfa_token") == "" || r.get("session") != nil || r.get("csrf_token") != nil {
		b.e.t.Fatalf("login %s %s: %d %s, want a second step due", realm, identifier, r.status, r.body)
	}
	if c := r.header.Values("Set-Cookie"); len(c) > 0 {
		b.e.t.Fatalf("login %s %s with a second step due set cookies: %q", realm, identifier, c)
	}
	return r
}

// secondStep sends POST login/mfa.
func (b *browser) secondStep(realm, tok, method, code string) *response {
	return b.do("POST", "/v1/"+realm+"/login/mfa", map[string]string{"mfa_token": tok, "method": method, "code": code})
}

// loginTOTP logs in with the password and then the code of secret now.
func (b *browser) loginTOTP(realm, identifier, pw, secret string) *response {
	b.e.t.Helper()
	r := b.secondStep(realm, b.loginDue(realm, identifier, pw).str("mfa_token"), "totp", b.e.totpCode(secret))
	if r.status != http.StatusOK {
		b.e.t.Fatalf("second step of %s %s: %d %s", realm, identifier, r.status, r.body)
	}
	return r
}

// residentWithTOTP is juan, approved, with a confirmed TOTP factor (and so
// recovery codes), the clock at the next step.
func (e *env) residentWithTOTP() (secret string, codes []string) {
	e.t.Helper()
	e.approvedResident()
	b := e.browser()
	b.mustLogin("resident", "juan@example.com", residentPassword)
	en := b.enrollTOTP("resident")
	r := b.confirmTOTP("resident", en)
	if r.status != http.StatusOK {
		e.t.Fatalf("confirm: %d %s", r.status, r.body)
	}
	e.nextStep()
	return en.secret, r.strings("recovery_codes")
}

// adminLogin logs b in as the admin username (made by e.createAdmin) and
// passes the second step the env asks for: with EKOLEK_ADMIN_MFA=required
// a first TOTP factor at the first login (its secret kept in
// e.adminSecrets), its code after (the clock moved on to a fresh step).
func (b *browser) adminLogin(username string) *response {
	b.e.t.Helper()
	r := b.login("admin", username, adminPassword)
	switch {
	case r.status != http.StatusOK:
		b.e.t.Fatalf("login admin %s: %d %s", username, r.status, r.body)
	case r.get("mfa_enrollment_required") == true:
		tok := r.str("mfa_token")
		en := b.enrollFirstTOTP("admin", tok)
		if r = b.confirmFirstTOTP("admin", tok, en); r.status != http.StatusOK {
			b.e.t.Fatalf("first factor of %s: %d %s", username, r.status, r.body)
		}
		b.e.adminSecrets.Store(username, en.secret)
		b.e.nextStep()
	case r.get("mfa_required") == true:
		secret, ok := b.e.adminSecrets.Load(username)
		if !ok {
			b.e.t.Fatalf("admin %s has a factor adminLogin did not enroll", username)
		}
		if r = b.secondStep("admin", r.str("mfa_token"), "totp", b.e.totpCode(secret.(string))); r.status != http.StatusOK {
			b.e.t.Fatalf("second step of %s: %d %s", username, r.status, r.body)
		}
		b.e.nextStep()
	}
	return r
}

// enrollFirstTOTP starts a first TOTP factor with an enrollment token.
func (b *browser) enrollFirstTOTP(realm, tok string) enrolledTOTP {
	b.e.t.Helper()
	r := b.do("POST", "/v1/"+realm+"/mfa/totp", map[string]string{"mfa_token": tok})
	if r.status != http.StatusOK {
		b.e.t.Fatalf("enroll TOTP with a token: %d %s", r.status, r.body)
	}
	en := enrolledTOTP{id: r.str("id"), secret: r.str("secret")}
	b.e.secrets.Store(en.secret, true)
	return en
}

// confirmFirstTOTP confirms it with the code of now.
func (b *browser) confirmFirstTOTP(realm, tok string, en enrolledTOTP) *response {
	return b.do("POST", "/v1/"+realm+"/mfa/totp/confirm", map[string]string{"mfa_token": tok, "id": en.id, "code": b.e.totpCode(en.secret)})
}

// authenticator is a software passkey authenticator for the default
// relying party (EKOLEK_WEBAUTHN_RP_ID and _ORIGINS unset).
func authenticator() *passkeytest.Authenticator {
	return passkeytest.New("localhost", "http://localhost:8080")
}

// options asks for passkey options at path (with tok, when given) and
// returns them as JSON.
func (b *browser) options(path, tok string) []byte {
	b.e.t.Helper()
	body := map[string]string{}
	if tok != "" {
		body["mfa_token"] = tok
	}
	r := b.do("POST", path, body)
	if r.status != http.StatusOK {
		b.e.t.Fatalf("POST %s: %d %s", path, r.status, r.body)
	}
	return r.body
}

// registerPasskey registers a passkey of authn for b's session (or, with
// tok, the account of an enrollment token).
func (b *browser) registerPasskey(realm string, authn *passkeytest.Authenticator, tok string) *response {
	b.e.t.Helper()
	answer, _, err := authn.Create(b.options("/v1/"+realm+"/mfa/webauthn/options", tok))
	if err != nil {
		b.e.t.Fatalf("authenticator: %v", err)
	}
	body := map[string]any{"credential": json.RawMessage(answer), "name": "Laptop"}
	if tok != "" {
		body["mfa_token"] = tok
	}
	return b.do("POST", "/v1/"+realm+"/mfa/webauthn", body)
}

// passkeyAnswer starts a passkey login (a second step with tok, or alone)
// and has authn answer it.
func (b *browser) passkeyAnswer(realm string, authn *passkeytest.Authenticator, tok string) json.RawMessage {
	b.e.t.Helper()
	answer, _, err := authn.Get(b.options("/v1/"+realm+"/login/webauthn/options", tok))
	if err != nil {
		b.e.t.Fatalf("authenticator: %v", err)
	}
	return answer
}

// passkeyLogin sends POST login/webauthn with answer (and tok, when given).
func (b *browser) passkeyLogin(realm string, answer json.RawMessage, tok string) *response {
	body := map[string]any{"credential": answer}
	if tok != "" {
		body["mfa_token"] = tok
	}
	return b.do("POST", "/v1/"+realm+"/login/webauthn", body)
}

// secondFactorOf is how b's session in realm passed its second step.
func (b *browser) secondFactorOf(realm string) string {
	b.e.t.Helper()
	r := b.session(realm)
	if r.status != http.StatusOK {
		b.e.t.Fatalf("session %s: %d %s", realm, r.status, r.body)
	}
	return r.str("session", "second_factor")
}

// TestLoginAsksForTheSecondFactor: a right password for an account with a
// factor answers the mfa_token and the methods, with no cookie; the second
// step ends like a login; the token is single use, of its realm only, and
// expires; a TOTP step once used is refused again.
func TestLoginAsksForTheSecondFactor(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store, adminMFARequired())
		secret, _ := e.residentWithTOTP()
		b := e.browser()
		r := b.loginDue("resident", "juan@example.com", residentPassword)
		tok := r.str("mfa_token")
		if r.get("mfa_required") != true || !slices.Equal(r.strings("methods"), []string{"totp", "recovery"}) ||
			r.str("expires_at") != e.clock.Now().Add(mfa.TokenTTL).Format(time.RFC3339) || r.get("account") != nil {
			t.Fatalf("login with a factor: %s", r.body)
		}
		wantStatus(t, "no session after the password alone", b.session("resident"), 401, "unauthenticated")

		code := e.totpCode(secret)
		wantStatus(t, "no token", b.do("POST", "/v1/resident/login/mfa", map[string]string{"method": "totp", "code": code}), 400, "invalid_request")
		wantStatus(t, "an unknown method", b.secondStep("resident", tok, "sms", code), 400, "invalid_request")
		wantStatus(t, "no code", b.secondStep("resident", tok, "totp", ""), 400, "invalid_request")
		wantStatus(t, "a resident's token at the admin realm", b.secondStep("admin", tok, "totp", code), 400, "invalid_token")
		wantStatus(t, "a token that is not one", b.secondStep("resident", "eyJhbGciOiJIUzI1NiJ9.e30.bm90IGEgdG9rZW4", "totp", code), 400, "invalid_token")
		wantStatus(t, "a wrong code", b.secondStep("resident", tok, "totp", wrongCode(code)), 400, "invalid_code")

		r = b.secondStep("resident", tok, "totp", code)
		if r.status != http.StatusOK || r.str("account", "id") == "" || r.str("csrf_token") == "" || r.str("session", "second_factor") != "totp" {
			t.Fatalf("second step: %d %s", r.status, r.body)
		}
		if b.cookie("ekolek_session") == "" || b.cookie("ekolek_csrftoken") != r.str("csrf_token") {
			t.Fatal("the second step set no session or CSRF cookie")
		}
		if got := b.secondFactorOf("resident"); got != "totp" {
			t.Errorf("the session says second_factor %q, want totp", got)
		}
		wantStatus(t, "the token again", e.browser().secondStep("resident", tok, "totp", code), 400, "invalid_token")

		// The same code in another login: its step is used.
		other := e.browser()
		wantStatus(t, "a used TOTP step", other.secondStep("resident", other.loginDue("resident", "juan@example.com", residentPassword).str("mfa_token"), "totp", code), 400, "invalid_code")
		// An expired token.
		late := other.loginDue("resident", "juan@example.com", residentPassword).str("mfa_token")
		e.clock.Advance(mfa.TokenTTL + time.Second)
		wantStatus(t, "an expired token", other.secondStep("resident", late, "totp", e.totpCode(secret)), 400, "invalid_token")

		for _, ty := range []string{"mfa_succeeded", "mfa_failed", "login_succeeded"} {
			if countEvents(t, e, ty) == 0 {
				t.Errorf("no %s event", ty)
			}
		}
	})
}

// TestWrongCodesBurnTheTokenAndLock: five wrong codes burn the token and
// lock the identifier (a right password then is 429); and a right password
// does not wipe the wrong codes before it, so a new token does not buy
// five new guesses.
func TestWrongCodesBurnTheTokenAndLock(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		secret, _ := e.residentWithTOTP()
		b := e.browser()
		tok := b.loginDue("resident", "juan@example.com", residentPassword).str("mfa_token")
		wrong := wrongCode(e.totpCode(secret))
		for i := range mfa.MaxAttempts {
			wantStatus(t, fmt.Sprintf("wrong code %d", i+1), b.secondStep("resident", tok, "totp", wrong), 400, "invalid_code")
		}
		wantStatus(t, "the right code on a burned token", b.secondStep("resident", tok, "totp", e.totpCode(secret)), 400, "invalid_token")
		wantStatus(t, "the right password on a locked identifier", b.login("resident", "juan@example.com", residentPassword), 429, "too_many_attempts")
		if countEvents(t, e, "login_locked") != 1 || countEvents(t, e, "mfa_failed") != mfa.MaxAttempts {
			t.Errorf("%d login_locked and %d mfa_failed events, want 1 and %d", countEvents(t, e, "login_locked"), countEvents(t, e, "mfa_failed"), mfa.MaxAttempts)
		}
		e.clock.Advance(15*time.Minute + time.Second)

		// Three wrong codes, a right password, two more: locked.
		tok = b.loginDue("resident", "juan@example.com", residentPassword).str("mfa_token")
		for range 3 {
			wantStatus(t, "a wrong code", b.secondStep("resident", tok, "totp", wrong), 400, "invalid_code")
		}
		tok = b.loginDue("resident", "juan@example.com", residentPassword).str("mfa_token")
		wantStatus(t, "the fourth wrong code", b.secondStep("resident", tok, "totp", wrong), 400, "invalid_code")
		wantStatus(t, "the fifth wrong code", b.secondStep("resident", tok, "totp", wrong), 400, "invalid_code")
		wantStatus(t, "the right code after five wrong ones across two tokens", b.secondStep("resident", tok, "totp", e.totpCode(secret)), 429, "too_many_attempts")

		// A passed second step clears the count.
		e.clock.Advance(15*time.Minute + time.Second)
		tok = b.loginDue("resident", "juan@example.com", residentPassword).str("mfa_token")
		for range 4 {
			b.secondStep("resident", tok, "totp", wrong)
		}
		e.nextStep()
		b.loginTOTP("resident", "juan@example.com", residentPassword, secret)
		tok = b.loginDue("resident", "juan@example.com", residentPassword).str("mfa_token")
		wantStatus(t, "a wrong code after a passed step", b.secondStep("resident", tok, "totp", wrong), 400, "invalid_code")
		b.loginDue("resident", "juan@example.com", residentPassword) // one wrong code since the pass: not locked
	})
}

// TestRecoveryCodeLogsInOnce: a recovery code passes a second step once,
// typed in any case and with spaces; the session says so and the answer
// how many are left.
func TestRecoveryCodeLogsInOnce(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		_, codes := e.residentWithTOTP()
		b := e.browser()
		typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", " - "))
		r := b.secondStep("resident", b.loginDue("resident", "juan@example.com", residentPassword).str("mfa_token"), "recovery", typed)
		if r.status != http.StatusOK || r.get("recovery_codes_left") != 9.0 || r.str("session", "second_factor") != "recovery" {
			t.Fatalf("recovery code: %d %s", r.status, r.body)
		}
		other := e.browser()
		wantStatus(t, "the recovery code again", other.secondStep("resident", other.loginDue("resident", "juan@example.com", residentPassword).str("mfa_token"), "recovery", codes[3]), 400, "invalid_code")
		if n := countEvents(t, e, "recovery_code_used"); n != 1 {
			t.Errorf("%d recovery_code_used events, want 1", n)
		}
		if left := b.do("GET", "/v1/resident/mfa", nil).get("recovery_codes_left"); left != 9.0 {
			t.Errorf("recovery codes left: %v, want 9", left)
		}
	})
}

// TestOneCodeWinsOnce: one TOTP code in two logins at once, one recovery
// code in two logins at once, and one token with its right code sent
// several times at once: exactly one of each passes.
func TestOneCodeWinsOnce(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		secret, codes := e.residentWithTOTP()
		race := func(what string, n int, send func(i int) *response) {
			t.Helper()
			rs := make([]*response, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { rs[i] = send(i) })
			}
			wg.Wait()
			ok := 0
			for _, r := range rs {
				switch {
				case r.status == 200:
					ok++
				case r.status != 400 || (r.errCode() != "invalid_code" && r.errCode() != "invalid_token"):
					t.Errorf("%s: %d %s", what, r.status, r.body)
				}
			}
			if ok != 1 {
				t.Errorf("%s: %d passed, want exactly 1", what, ok)
			}
		}
		logins := func(n int) ([]*browser, []string) {
			bs, toks := make([]*browser, n), make([]string, n)
			for i := range n {
				bs[i] = e.browser()
				toks[i] = bs[i].loginDue("resident", "juan@example.com", residentPassword).str("mfa_token")
			}
			return bs, toks
		}
		bs, toks := logins(2)
		code := e.totpCode(secret)
		race("one TOTP code in two logins", 2, func(i int) *response { return bs[i].secondStep("resident", toks[i], "totp", code) })
		bs, toks = logins(2)
		race("one recovery code in two logins", 2, func(i int) *response { return bs[i].secondStep("resident", toks[i], "recovery", codes[0]) })
		e.nextStep()
		bs, toks = logins(1)
		code = e.totpCode(secret)
		race("one token's right code four times", 4, func(int) *response { return bs[0].secondStep("resident", toks[0], "totp", code) })
	})
}

// TestAdminEnrollsAtFirstLogin: an admin who must have a second factor
// and has none gets an enrollment token and no cookie; the enrollment
// routes take it in place of a session; the confirmation ends like a login
// with the recovery codes. The token is for a first factor only, once.
func TestAdminEnrollsAtFirstLogin(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store, adminMFARequired())
		e.createAdmin("ana", account.RoleSecurityAnalyst)
		b := e.browser()
		r := b.loginDue("admin", "ana", adminPassword)
		tok := r.str("mfa_token")
		if r.get("mfa_enrollment_required") != true || r.get("methods") != nil {
			t.Fatalf("an admin without a factor: %s", r.body)
		}
		stale := e.browser().loginDue("admin", "ana", adminPassword).str("mfa_token")
		wantStatus(t, "the enrollment token at login/mfa", b.secondStep("admin", tok, "totp", "123456"), 400, "invalid_token")
		wantStatus(t, "the enrollment token in the resident realm", b.do("POST", "/v1/resident/mfa/totp", map[string]string{"mfa_token": tok}), 400, "invalid_token")
		wantStatus(t, "GET mfa without a session", b.do("GET", "/v1/admin/mfa", nil), 401, "unauthenticated")

		en := b.enrollFirstTOTP("admin", tok)
		code := e.totpCode(en.secret)
		wantStatus(t, "a wrong first code", b.do("POST", "/v1/admin/mfa/totp/confirm", map[string]string{"mfa_token": tok, "id": en.id, "code": wrongCode(code)}), 400, "invalid_code")
		r = b.confirmFirstTOTP("admin", tok, en)
		if r.status != http.StatusOK || len(r.strings("recovery_codes")) != mfa.RecoveryCount || r.str("factor", "id") != en.id ||
			r.str("session", "second_factor") != "totp" || r.str("csrf_token") == "" || b.cookie("ekolek_admin_session") == "" {
			t.Fatalf("the first factor's confirmation: %d %s", r.status, r.body)
		}
		if r := b.do("GET", "/v1/admin/mfa", nil); r.status != 200 || len(r.get("factors").([]any)) != 1 {
			t.Fatalf("the new session's factors: %d %s", r.status, r.body)
		}
		wantStatus(t, "the token again", e.browser().do("POST", "/v1/admin/mfa/totp", map[string]string{"mfa_token": tok}), 400, "invalid_token")
		wantStatus(t, "another enrollment token, once the account has a factor", e.browser().do("POST", "/v1/admin/mfa/totp", map[string]string{"mfa_token": stale}), 400, "invalid_token")
		if n := countEvents(t, e, "mfa_enrolled"); n != 1 {
			t.Errorf("%d mfa_enrolled events, want 1", n)
		}
		e.nextStep()
		next := e.browser()
		if r := next.loginDue("admin", "ana", adminPassword); r.get("mfa_required") != true {
			t.Fatalf("the next login: %s", r.body)
		}
		next.loginTOTP("admin", "ana", adminPassword, en.secret)
		// A login token does not enroll.
		wantStatus(t, "a login token at enrollment", e.browser().do("POST", "/v1/admin/mfa/totp",
			map[string]string{"mfa_token": e.browser().loginDue("admin", "ana", adminPassword).str("mfa_token")}), 400, "invalid_token")
	})
}

// TestInvitedAdminEnrollsAtFirstLogin: an admin invited through the API
// sets a password by the reset flow and meets the enrollment at the first
// login.
func TestInvitedAdminEnrollsAtFirstLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, adminMFARequired())
	e.createAdmin("boss", account.RoleSuperAdmin)
	boss := e.browser()
	boss.adminLogin("boss")
	if r := boss.do("POST", "/v1/admin/admins", map[string]any{"username": "rosa", "email": "rosa@city.example.gov.ph", "full_name": "Rosa Lim", "role": "operations_manager", "barangays": []string{"Landayan"}}); r.status != 201 {
		t.Fatalf("invite: %d %s", r.status, r.body)
	}
	code, _ := e.lastCode("rosa@city.example.gov.ph")
	rosa := e.browser()
	r := rosa.do("POST", "/v1/admin/password-reset/verify", map[string]string{"identifier": "rosa", "code": code})
	if r.status != 200 {
		t.Fatalf("verify the invitation: %d %s", r.status, r.body)
	}
	const pw = "bagong simula sa opisina 2026"
	if r := rosa.do("POST", "/v1/admin/password-reset/confirm", map[string]string{"reset_token": r.str("reset_token"), "new_password": pw}); r.status != 204 {
		t.Fatalf("set the password: %d %s", r.status, r.body)
	}
	e.secrets.Store(pw, true)
	if r := rosa.loginDue("admin", "rosa", pw); r.get("mfa_enrollment_required") != true {
		t.Fatalf("the invited admin's first login: %s", r.body)
	}
}

// TestPasskeys: a passkey registered by a session, then used as a login's
// second step and alone; challenges answer once and expire; a counter that
// does not move on is refused; an admin's first factor may be a passkey;
// the options for anyone are limited per IP.
func TestPasskeys(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store, adminMFARequired(), func(c *config.Config, _ *app.Options) {
			c.Limits.PasskeyIP = throttle.Limit{Max: 12, Window: 15 * time.Minute}
		})
		e.approvedResident()
		authn := authenticator()
		b := e.browser()
		b.mustLogin("resident", "juan@example.com", residentPassword)
		r := b.registerPasskey("resident", authn, "")
		if r.status != http.StatusOK || r.str("factor", "type") != "webauthn" || r.str("factor", "name") != "Laptop" || len(r.strings("recovery_codes")) != mfa.RecoveryCount {
			t.Fatalf("register: %d %s", r.status, r.body)
		}
		wantStatus(t, "registering without a session", e.browser().do("POST", "/v1/resident/mfa/webauthn/options", nil), 401, "unauthenticated")
		wantStatus(t, "a credential that is not an object", b.do("POST", "/v1/resident/mfa/webauthn", map[string]any{"credential": "x"}), 400, "invalid_request")
		wantStatus(t, "junk for a credential", b.do("POST", "/v1/resident/mfa/webauthn", map[string]any{"credential": map[string]string{"id": "x"}}), 400, "invalid_credential")

		// As a second step.
		p := e.browser()
		due := p.loginDue("resident", "juan@example.com", residentPassword)
		if !slices.Equal(due.strings("methods"), []string{"webauthn", "recovery"}) {
			t.Fatalf("methods: %s", due.body)
		}
		tok := due.str("mfa_token")
		answer := p.passkeyAnswer("resident", authn, tok)
		wantStatus(t, "the answer without its token", p.passkeyLogin("resident", answer, ""), 400, "invalid_credential")
		answer = p.passkeyAnswer("resident", authn, tok)
		if r := p.passkeyLogin("resident", answer, tok); r.status != 200 || r.str("session", "second_factor") != "webauthn" {
			t.Fatalf("a passkey as the second step: %d %s", r.status, r.body)
		}
		wantStatus(t, "the same answer again", e.browser().passkeyLogin("resident", answer, tok), 400, "invalid_credential")

		// Alone: a discoverable credential with user verification.
		alone := e.browser()
		answer = alone.passkeyAnswer("resident", authn, "")
		if r := alone.passkeyLogin("resident", answer, ""); r.status != 200 || r.str("session", "second_factor") != "webauthn" || r.str("account", "id") == "" {
			t.Fatalf("a passkey alone: %d %s", r.status, r.body)
		}
		wantStatus(t, "the same answer again", e.browser().passkeyLogin("resident", answer, ""), 400, "invalid_credential")
		answer = alone.passkeyAnswer("resident", authn, "")
		e.clock.Advance(mfa.CeremonyTTL + time.Second)
		wantStatus(t, "an answer after the challenge expired", alone.passkeyLogin("resident", answer, ""), 400, "invalid_credential")
		authn.NoUserVerification = true
		wantStatus(t, "a passkey alone without user verification", alone.passkeyLogin("resident", alone.passkeyAnswer("resident", authn, ""), ""), 400, "invalid_credential")
		authn.NoUserVerification = false
		wantStatus(t, "a resident's passkey in the admin realm", alone.passkeyLogin("admin", alone.passkeyAnswer("admin", authn, ""), ""), 400, "invalid_credential")

		// A clone's answer: the counter does not move past the stored one;
		// as a second step it counts as a wrong code.
		tok = p.loginDue("resident", "juan@example.com", residentPassword).str("mfa_token")
		opts := p.options("/v1/resident/login/webauthn/options", tok)
		_, cred, _ := authn.Get(opts)
		cred.Count = 1 // below the stored count: two logins have passed
		var o struct {
			PublicKey struct{ Challenge string } `json:"publicKey"`
		}
		_ = json.Unmarshal(opts, &o)
		cloned, err := authn.Assert(cred, o.PublicKey.Challenge)
		if err != nil {
			t.Fatal(err)
		}
		failed := countEvents(t, e, "mfa_failed")
		wantStatus(t, "a cloned authenticator's answer", p.passkeyLogin("resident", cloned, tok), 400, "invalid_credential")
		if countEvents(t, e, "mfa_failed") != failed+1 {
			t.Error("a cloned authenticator's answer in a second step was not counted as a wrong answer")
		}

		// An admin's first factor by passkey, with the enrollment token.
		e.createAdmin("ana", account.RoleSecurityAnalyst)
		adm := e.browser()
		atok := adm.loginDue("admin", "ana", adminPassword).str("mfa_token")
		key := authenticator()
		r = adm.registerPasskey("admin", key, atok)
		if r.status != 200 || len(r.strings("recovery_codes")) != mfa.RecoveryCount || r.str("session", "second_factor") != "webauthn" || adm.cookie("ekolek_admin_session") == "" {
			t.Fatalf("an admin's first factor by passkey: %d %s", r.status, r.body)
		}

		// The options anyone may ask for are limited per IP (12 here).
		for range 12 {
			if r := e.browser().do("POST", "/v1/resident/login/webauthn/options", nil); r.status != 200 && r.status != 429 {
				t.Fatalf("options: %d %s", r.status, r.body)
			}
		}
		wantStatus(t, "options past the IP's limit", e.browser().do("POST", "/v1/resident/login/webauthn/options", nil), 429, "rate_limited")
	})
}

// TestRenameFactor: PATCH /v1/{realm}/mfa/{id} {name}.
func TestRenameFactor(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.approvedResident()
		b := e.browser()
		b.mustLogin("resident", "juan@example.com", residentPassword)
		id := confirmedFactor(e, b)
		r := b.do("PATCH", "/v1/resident/mfa/"+id, map[string]string{"name": "Lola's phone"})
		if r.status != 200 || r.str("factor", "name") != "Lola's phone" {
			t.Fatalf("rename: %d %s", r.status, r.body)
		}
		if f := b.do("GET", "/v1/resident/mfa", nil).get("factors").([]any)[0].(map[string]any); f["name"] != "Lola's phone" {
			t.Errorf("listed after the rename: %v", f)
		}
		wantStatus(t, "no name", b.do("PATCH", "/v1/resident/mfa/"+id, map[string]string{}), 400, "invalid_request")
		wantStatus(t, "a name too long", b.do("PATCH", "/v1/resident/mfa/"+id, map[string]string{"name": strings.Repeat("n", 65)}), 400, "invalid_request")
		wantStatus(t, "without CSRF", b.do("PATCH", "/v1/resident/mfa/"+id, map[string]string{"name": "x"}, "X-CSRF-Token", ""), 403, "csrf_failed")
		wantStatus(t, "an unknown factor", b.do("PATCH", "/v1/resident/mfa/"+account.NewID(), map[string]string{"name": "x"}), 404, "not_found")
		e.createAdmin("ana", account.RoleSecurityAnalyst)
		other := e.browser()
		other.mustLogin("admin", "ana", adminPassword)
		wantStatus(t, "someone else's factor", other.do("PATCH", "/v1/admin/mfa/"+id, map[string]string{"name": "mine"}), 404, "not_found")
	})
}

// TestSuperAdminClearsFactors: a super admin clears an account's factors;
// its sessions end, it logs in by password (an admin who must have one
// enrolls again), and the event names the actor. Others may not, nor may a
// super admin clear their own.
func TestSuperAdminClearsFactors(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store, adminMFARequired())
		juanSecret, _ := e.residentWithTOTP()
		juan := e.browser()
		juan.loginTOTP("resident", "juan@example.com", residentPassword, juanSecret)
		boss := e.browser()
		boss.adminLogin("boss")
		e.createAdmin("ana", account.RoleSecurityAnalyst)
		analyst := e.browser()
		analyst.adminLogin("ana")
		juanID := lookupResident(t, e, "juan@example.com")

		wantStatus(t, "an analyst", analyst.do("DELETE", "/v1/admin/accounts/resident/"+juanID+"/mfa", nil), 403, "forbidden")
		wantStatus(t, "my own", boss.do("DELETE", "/v1/admin/accounts/admin/"+lookup(t, e, "boss")+"/mfa", nil), 409, "cannot_change_self")
		wantStatus(t, "an unknown account", boss.do("DELETE", "/v1/admin/accounts/resident/"+account.NewID()+"/mfa", nil), 404, "not_found")
		wantStatus(t, "an unknown realm", boss.do("DELETE", "/v1/admin/accounts/staff/"+juanID+"/mfa", nil), 404, "not_found")
		wantStatus(t, "without CSRF", boss.do("DELETE", "/v1/admin/accounts/resident/"+juanID+"/mfa", nil, "X-CSRF-Token", ""), 403, "csrf_failed")

		r := boss.do("DELETE", "/v1/admin/accounts/resident/"+juanID+"/mfa", nil)
		if r.status != 200 || r.get("factors_removed") != 1.0 || r.get("sessions_ended") != 2.0 {
			t.Fatalf("clear: %d %s", r.status, r.body)
		}
		wantStatus(t, "juan's session after the clear", juan.session("resident"), 401, "unauthenticated")
		if r := e.browser().login("resident", "juan@example.com", residentPassword); r.status != 200 || r.get("mfa_required") != nil {
			t.Fatalf("juan's login after the clear: %d %s", r.status, r.body)
		}
		if n := countEvents(t, e, "mfa_cleared"); n != 1 {
			t.Errorf("%d mfa_cleared events, want 1", n)
		}
		if !strings.Contains(storedEvents(t, e), `"actor_id":"`+lookup(t, e, "boss")+`"`) {
			t.Error("the mfa_cleared event does not name the super admin")
		}

		// An admin's: the next login enrolls again.
		r = boss.do("DELETE", "/v1/admin/accounts/admin/"+lookup(t, e, "ana")+"/mfa", nil)
		if r.status != 200 || r.get("factors_removed") != 1.0 {
			t.Fatalf("clear an admin's: %d %s", r.status, r.body)
		}
		wantStatus(t, "the analyst's session after the clear", analyst.session("admin"), 401, "unauthenticated")
		if r := e.browser().loginDue("admin", "ana", adminPassword); r.get("mfa_enrollment_required") != true {
			t.Fatalf("the analyst's login after the clear: %s", r.body)
		}
	})
}

// TestStepUpAfterASecondFactor: a session that passed a second factor
// (or a passkey alone) proved itself at its login: for 5 minutes it may
// remove a factor and make new recovery codes, then it must reauth.
func TestStepUpAfterASecondFactor(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		secret, _ := e.residentWithTOTP()
		b := e.browser()
		b.loginTOTP("resident", "juan@example.com", residentPassword, secret)
		if r := b.do("POST", "/v1/resident/mfa/recovery-codes", nil); r.status != 200 {
			t.Fatalf("new codes right after a second step: %d %s", r.status, r.body)
		}
		e.clock.Advance(mfa.ReauthWindow + time.Second)
		wantStatus(t, "new codes 5 minutes after the login", b.do("POST", "/v1/resident/mfa/recovery-codes", nil), 403, "reauth_required")

		authn := authenticator()
		b.do("POST", "/v1/resident/reauth", map[string]string{"password": residentPassword})
		if r := b.registerPasskey("resident", authn, ""); r.status != 200 {
			t.Fatalf("register: %d %s", r.status, r.body)
		}
		e.clock.Advance(mfa.ReauthWindow + time.Second)
		alone := e.browser()
		if r := alone.passkeyLogin("resident", alone.passkeyAnswer("resident", authn, ""), ""); r.status != 200 {
			t.Fatalf("a passkey alone: %d %s", r.status, r.body)
		}
		factors := alone.do("GET", "/v1/resident/mfa", nil).get("factors").([]any)
		totpID := factors[0].(map[string]any)["id"].(string)
		if r := alone.do("DELETE", "/v1/resident/mfa/"+totpID, nil); r.status != 204 {
			t.Fatalf("removal right after a passkey login: %d %s", r.status, r.body)
		}
	})
}

// lookupResident is the id of the resident holding email.
func lookupResident(t *testing.T, e *env, email string) string {
	t.Helper()
	id, err := e.app.Store.LookupIdentifier(t.Context(), account.Resident, account.Identifier{Kind: account.KindEmail, Value: email})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestStepsWithoutAVerdictCountNothing: a login whose factors cannot be
// read, and a second step or a first factor's confirmation whose store
// fails before the code is judged, answer 503 and give their places back:
// the login's throttle places, the token's try. Retried, they find nothing
// counted.
func TestStepsWithoutAVerdictCountNothing(t *testing.T) {
	t.Parallel()
	flaky := &flakyStore{Store: openEmbedded(t)}
	e := newEnv(t, withStore(flaky), adminMFARequired())
	secret, _ := e.residentWithTOTP()
	b := e.browser()
	for i := range 2 * mfa.MaxAttempts {
		flaky.armMethod("Factors")
		wantStatus(t, fmt.Sprintf("login %d with the factors unreadable", i+1), b.login("resident", "juan@example.com", residentPassword), 503, "unavailable")
	}
	tok := b.loginDue("resident", "juan@example.com", residentPassword).str("mfa_token")
	for i := range mfa.MaxAttempts {
		flaky.armMethod("Factors")
		wantStatus(t, fmt.Sprintf("second step %d with the factors unreadable", i+1), b.secondStep("resident", tok, "totp", e.totpCode(secret)), 503, "unavailable")
	}
	for i := range mfa.MaxAttempts - 1 {
		wantStatus(t, fmt.Sprintf("wrong code %d", i+1), b.secondStep("resident", tok, "totp", wrongCode(e.totpCode(secret))), 400, "invalid_code")
	}
	if r := b.secondStep("resident", tok, "totp", e.totpCode(secret)); r.status != 200 {
		t.Fatalf("the right code on the token's fifth try: %d %s", r.status, r.body)
	}

	e.createAdmin("ana", account.RoleSecurityAnalyst)
	adm := e.browser()
	tok = adm.loginDue("admin", "ana", adminPassword).str("mfa_token")
	en := adm.enrollFirstTOTP("admin", tok)
	for i := range mfa.MaxAttempts {
		flaky.armMethod("GetFactor")
		wantStatus(t, fmt.Sprintf("confirmation %d with the factor unreadable", i+1), adm.confirmFirstTOTP("admin", tok, en), 503, "unavailable")
	}
	for range mfa.MaxAttempts - 1 {
		wantStatus(t, "a wrong first code", adm.do("POST", "/v1/admin/mfa/totp/confirm", map[string]string{"mfa_token": tok, "id": en.id, "code": wrongCode(e.totpCode(en.secret))}), 400, "invalid_code")
	}
	if r := adm.confirmFirstTOTP("admin", tok, en); r.status != 200 {
		t.Fatalf("the right first code on the token's fifth try: %d %s", r.status, r.body)
	}
}

// subjectsTo are the subjects of the messages to to, oldest first.
func (e *env) subjectsTo(to string) []string {
	e.t.Helper()
	var out []string
	for _, m := range e.outbox() {
		if m.To == to {
			out = append(out, m.Subject)
		}
	}
	return out
}

// TestSecondFactorNotices: the owner of an account is told by email of
// each factor added (the first at the login that required it, another, a
// new set of recovery codes), each removed, each recovery code used, and
// of a super admin's clearing; an address the account has not proved gets
// nothing.
func TestSecondFactorNotices(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store, adminMFARequired())
		e.createAdmin("boss", account.RoleSuperAdmin)
		boss := e.browser()
		boss.adminLogin("boss")
		e.createAdmin("ana", account.RoleSecurityAnalyst)
		const ana = "ana@city.example.gov.ph"
		b := e.browser()
		tok := b.loginDue("admin", "ana", adminPassword).str("mfa_token")
		first := b.enrollFirstTOTP("admin", tok)
		codes := b.confirmFirstTOTP("admin", tok, first).strings("recovery_codes")
		e.nextStep()
		second := b.enrollTOTP("admin")
		b.confirmTOTP("admin", second)
		b.do("POST", "/v1/admin/mfa/recovery-codes", nil)
		if r := b.do("DELETE", "/v1/admin/mfa/"+second.id, nil); r.status != 204 {
			t.Fatalf("removal: %d %s", r.status, r.body)
		}
		x := e.browser()
		r := x.secondStep("admin", x.loginDue("admin", "ana", adminPassword).str("mfa_token"), "recovery", codes[0])
		wantStatus(t, "an old recovery code (a new set replaced it)", r, 400, "invalid_code")
		if r := boss.do("DELETE", "/v1/admin/accounts/admin/"+lookup(t, e, "ana")+"/mfa", nil); r.status != 200 {
			t.Fatalf("clear: %d %s", r.status, r.body)
		}
		want := []string{
			"A way to sign in was added to your E-KOLEK account",     // the first factor, at the login
			"A way to sign in was added to your E-KOLEK account",     // the second
			"A way to sign in was added to your E-KOLEK account",     // new recovery codes
			"A way to sign in was removed from your E-KOLEK account", // the second, removed
			"The second step of signing in to E-KOLEK was reset",     // the super admin's clearing
		}
		if got := e.subjectsTo(ana); !slices.Equal(got, want) {
			t.Fatalf("messages to ana:\n%q\nwant\n%q", got, want)
		}

		// A recovery code used; a resident whose email is not verified is
		// told nothing.
		e.nextStep()
		tok = e.browser().loginDue("admin", "ana", adminPassword).str("mfa_token")
		en := b.enrollFirstTOTP("admin", tok)
		codes = b.confirmFirstTOTP("admin", tok, en).strings("recovery_codes")
		e.nextStep()
		x = e.browser()
		if r := x.secondStep("admin", x.loginDue("admin", "ana", adminPassword).str("mfa_token"), "recovery", codes[1]); r.status != 200 {
			t.Fatalf("a recovery code: %d %s", r.status, r.body)
		}
		if got := e.subjectsTo(ana); got[len(got)-1] != "A recovery code was used to sign in to E-KOLEK" {
			t.Fatalf("the last message to ana: %q", got[len(got)-1])
		}
		if body := e.outbox()[len(e.outbox())-1].Body; !strings.Contains(body, "9 recovery codes are left") {
			t.Errorf("the recovery notice does not say how many are left:\n%s", body)
		}
		e.residentWithTOTP() // juan@example.com, registered but never verified
		if got := e.subjectsTo("juan@example.com"); !slices.Equal(got, []string{"Your E-KOLEK verification code"}) {
			t.Errorf("messages to an unverified address: %q, want only its verification code", got)
		}
	})
}
