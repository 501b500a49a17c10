package httpapi_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/httpapi"
)

// Every route of every function, served by a handler of its own function
// with only the parts the function's routes declare (servedAsFunctions),
// does its work: a route that uses a part it does not declare panics into
// a 500 here. Each step goes the way that uses the route's parts (phone
// numbers typed as people type them, new passwords, messages that really
// go out), and every route of the table needs a step.
func TestEveryRouteRunsWithOnlyTheDeclaredParts(t *testing.T) {
	e := newEnv(t, adminMFARequired())
	served := map[string]bool{}
	step := func(route string, r *response, status int) *response {
		t.Helper()
		if r.status != status {
			t.Fatalf("%s: %d %s, want %d", route, r.status, r.body, status)
		}
		served[route] = true
		return r
	}
	const typed, e164 = "0917 123 4567", "+639171234567"
	juan, boss := e.browser(), e.browser()

	step("GET /v1/barangays", juan.do("GET", "/v1/barangays", nil), 200)
	id := step("POST /v1/resident/register", juan.do("POST", "/v1/resident/register", map[string]string{
		"first_name": "Juan", "last_name": "Dela Cruz", "email": "juan@example.com", "phone": typed,
		"barangay": "Landayan", "password": residentPassword,
	}), 201).str("account", "id")
	e.clock.Advance(time.Minute + time.Second) // past the resend cooldown
	step("POST /v1/resident/register/resend", juan.do("POST", "/v1/resident/register/resend", map[string]string{"identifier": typed}), 202)
	if _, n := e.lastCode(e164); n != 2 {
		t.Fatalf("%d messages to %s, want the registration's and the resend's", n, e164)
	}
	code, _ := e.lastCode(e164)
	step("POST /v1/resident/register/verify", juan.do("POST", "/v1/resident/register/verify", map[string]string{"identifier": typed, "code": code}), 204)

	// The first login of an admin who must have a second factor enrolls
	// one (function mfa, with the login's token in place of a session).
	e.createAdmin("boss", account.RoleSuperAdmin)
	tok := step("POST /v1/{realm}/login", boss.login("admin", "boss", adminPassword), 200).str("mfa_token")
	first := boss.enrollFirstTOTP("admin", tok)
	served["POST /v1/{realm}/mfa/totp"] = true
	step("POST /v1/{realm}/mfa/totp/confirm", boss.confirmFirstTOTP("admin", tok, first), 200)
	e.adminSecrets.Store("boss", first.secret)
	e.nextStep()
	step("GET /v1/admin/residents", boss.do("GET", "/v1/admin/residents?status=pending", nil), 200)
	step("GET /v1/admin/residents/{id}", boss.do("GET", "/v1/admin/residents/"+id, nil), 200)
	step("POST /v1/admin/residents/{id}/{action}", boss.do("POST", "/v1/admin/residents/"+id+"/approve", nil), 200)
	step("GET /v1/admin/admins", boss.do("GET", "/v1/admin/admins", nil), 200)
	r := step("POST /v1/admin/admins", boss.do("POST", "/v1/admin/admins", map[string]any{
		"username": "ana", "email": "ana@city.example.gov.ph", "full_name": "Ana Reyes", "role": "security_analyst",
	}), 201)
	if r.get("invitation_sent") != true {
		t.Fatalf("POST /v1/admin/admins: no invitation went out: %s", r.body)
	}
	ana := r.str("account", "id")
	step("PATCH /v1/admin/admins/{id}", boss.do("PATCH", "/v1/admin/admins/"+ana, map[string]any{"full_name": "Ana R. Reyes"}), 200)

	step("POST /v1/{realm}/login", juan.login("resident", typed, residentPassword), 200)
	other := e.browser()
	other.mustLogin("resident", "juan@example.com", residentPassword)
	e.browser().mustLogin("resident", "juan@example.com", residentPassword)
	step("GET /v1/{realm}/session", juan.session("resident"), 200)
	var otherKey string
	for _, v := range step("GET /v1/{realm}/sessions", other.do("GET", "/v1/resident/sessions", nil), 200).get("sessions").([]any) {
		if s := v.(map[string]any); s["current"] != true {
			otherKey = s["id"].(string)
		}
	}
	step("DELETE /v1/{realm}/sessions/{id}", other.do("DELETE", "/v1/resident/sessions/"+otherKey, nil), 204)
	step("DELETE /v1/{realm}/sessions", other.do("DELETE", "/v1/resident/sessions", nil), 200)
	const changed = "kalabasa sitaw talong 2026"
	step("POST /v1/{realm}/password", other.do("POST", "/v1/resident/password", map[string]string{
		"current_password": residentPassword, "new_password": changed,
	}), 204)
	step("POST /v1/{realm}/logout", other.logout("resident"), 204)

	e.clock.Advance(time.Hour) // a new hour's code sends
	step("POST /v1/{realm}/password-reset", juan.do("POST", "/v1/resident/password-reset", map[string]string{"identifier": typed, "channel": "sms"}), 202)
	code, _ = e.lastCode(e164)
	token := step("POST /v1/{realm}/password-reset/verify", juan.do("POST", "/v1/resident/password-reset/verify", map[string]string{
		"identifier": typed, "code": code,
	}), 200).str("reset_token")
	step("POST /v1/{realm}/password-reset/confirm", juan.do("POST", "/v1/resident/password-reset/confirm", map[string]string{
		"reset_token": token, "new_password": "ampalaya upo patola 2027",
	}), 204)

	step("POST /v1/{realm}/login/mfa", boss.adminLogin("boss"), 200) // an hour idle ended the last session
	step("GET /v1/admin/security-events", boss.do("GET", "/v1/admin/security-events?realm=resident&account="+id, nil), 200)
	step("DELETE /v1/admin/accounts/{accountRealm}/{id}/sessions", boss.do("DELETE", "/v1/admin/accounts/resident/"+id+"/sessions", nil), 200)

	// The second factor: TOTP made and checked by function mfa alone;
	// passkeys by function passkey alone.
	step("GET /v1/{realm}/mfa", boss.do("GET", "/v1/admin/mfa", nil), 200)
	en := boss.enrollTOTP("admin")
	step("POST /v1/{realm}/mfa/totp/confirm", boss.confirmTOTP("admin", en), 200)
	step("PATCH /v1/{realm}/mfa/{id}", boss.do("PATCH", "/v1/admin/mfa/"+en.id, map[string]string{"name": "Spare phone"}), 200)
	step("POST /v1/{realm}/reauth", boss.do("POST", "/v1/admin/reauth", map[string]string{"password": adminPassword}), 200)
	step("POST /v1/{realm}/mfa/recovery-codes", boss.do("POST", "/v1/admin/mfa/recovery-codes", nil), 200)
	step("DELETE /v1/{realm}/mfa/{id}", boss.do("DELETE", "/v1/admin/mfa/"+en.id, nil), 204)
	authn := authenticator()
	answer, _, err := authn.Create(step("POST /v1/{realm}/mfa/webauthn/options", boss.do("POST", "/v1/admin/mfa/webauthn/options", nil), 200).body)
	if err != nil {
		t.Fatal(err)
	}
	step("POST /v1/{realm}/mfa/webauthn", boss.do("POST", "/v1/admin/mfa/webauthn", map[string]any{"credential": json.RawMessage(answer)}), 200)
	pk := e.browser()
	tok = pk.loginDue("admin", "boss", adminPassword).str("mfa_token")
	answer, _, err = authn.Get(step("POST /v1/{realm}/login/webauthn/options", pk.do("POST", "/v1/admin/login/webauthn/options", map[string]string{"mfa_token": tok}), 200).body)
	if err != nil {
		t.Fatal(err)
	}
	step("POST /v1/{realm}/login/webauthn", pk.passkeyLogin("admin", answer, tok), 200)
	step("DELETE /v1/admin/accounts/{accountRealm}/{id}/mfa", boss.do("DELETE", "/v1/admin/accounts/resident/"+id+"/mfa", nil), 200)

	// The pages: served by function web alone, from its embedded files.
	for route, path := range map[string]string{"GET /": "/", "GET /{proxy+}": "/login"} {
		res, body := juan.raw("GET", path)
		if want := map[string]int{"/": 302, "/login": 200}[path]; res.StatusCode != want {
			t.Fatalf("%s: %d %.200s, want %d", route, res.StatusCode, body, want)
		}
		served[route] = true
	}

	for _, r := range httpapi.Table {
		if !r.LocalOnly && !served[r.Method+" "+r.Path] {
			t.Errorf("no step for %s %s (function %s): add one that uses the parts it declares", r.Method, r.Path, r.Function)
		}
	}
}
