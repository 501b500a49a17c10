package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
)

// nextTOTPStep moves the clock into the next 30-second step: a step's code
// is refused once it was used.
func (s *system) nextTOTPStep() { s.clock.Advance(30 * time.Second) }

// shown is, for the pages the tests sign out from, what the page shows
// once its own requests are answered: signing out under them would fail
// them.
var shown = map[string]string{
	"account":         `document.querySelector('[data-session-id]') && (document.querySelector('[data-factor-id]') || !document.querySelector('[data-factors-none]').hidden)`,
	"admin-security":  `document.querySelector('[data-event-id]')`,
	"admin-residents": `document.querySelector('[data-resident-id]') || !document.querySelector('[data-empty]').hidden`,
}

// signOut signs the tab out with the header's button, once the page shows
// what it loads, and waits for the realm's login page.
func (tb *tab) signOut(loginPage string) {
	tb.t.Helper()
	page := eval[string](tb, `document.querySelector('main').dataset.page`)
	if js, ok := shown[page]; ok {
		tb.waitFor(page+" shown", js)
	}
	tb.click(`[data-action="logout"]`)
	tb.movedTo(loginPage, "signed_out")
}

// password sends identifier and password on the realm's login page the
// tab is on (the first step).
func (tb *tab) password(identifier, pw string) {
	tb.t.Helper()
	tb.fill("login", "identifier", identifier)
	tb.fill("login", "password", pw)
	tb.submit("login")
}

// secondStep waits for the second step of a login, form[data-form="mfa"],
// with the focus on its heading.
func (tb *tab) secondStep() {
	tb.t.Helper()
	tb.waitFor("the second step", `document.querySelector('form[data-form="mfa"]') && document.activeElement === document.querySelector('[data-step="mfa"] h1')`)
	if !eval[bool](tb, `document.querySelector('[data-step="password"]').hidden && document.querySelector('[data-step="password"] [name="password"]').value === '' && !document.querySelector('[data-notice]')`) {
		tb.fatalf("the password step is still shown, still holds the password, or its notice stays")
	}
}

// A resident with an authenticator app signs in: the password, then the
// second step (a wrong code explained; the app's code); then with a
// recovery code, which works once; a second step left for more than 5
// minutes has to start again. No cookie before the second step.
func TestResidentSignsInWithTheAppAndARecoveryCode(t *testing.T) {
	sys := startSystem(t)
	sys.resident("Juan", "juan@example.com", "0917 123 4567")
	b := startBrowser(t, sys)
	tb := b.tab("resident")
	tb.login("resident", "juan@example.com", residentPassword, false)
	secret, codes := tb.setUpApp("mfa-enroll", false)
	tb.click(`[data-action="continue"]`)
	tb.movedTo("account", "authenticator_added")
	tb.signOut("login")

	tb.open("/login?next=%2Faccount%3Fx%3D1", "login")
	tb.password("juan@example.com", residentPassword)
	tb.secondStep()
	if tb.sessionOf("resident") {
		t.Fatal("signed in before the second step")
	}
	if strings.Contains(tb.path(), "token") || eval[int](tb, `sessionStorage.length`) != 0 {
		t.Fatalf("the mfa_token left the page's memory (address %s)", tb.path())
	}
	if m := eval[string](tb, `document.querySelector('form[data-form="mfa"] [name="method"]').value`); m != "totp" {
		t.Fatalf("the second step starts with method %q, want totp", m)
	}
	if eval[bool](tb, `!document.querySelector('[data-way="passkey"]').hidden`) {
		t.Fatal("a passkey is offered to an account without one")
	}
	tb.check("login-mfa")
	sys.nextTOTPStep() // the confirming code's step is used
	tb.fill("mfa", "code", "000000")
	tb.submit("mfa")
	tb.errorShown("invalid_code")
	if got := tb.text(`#code-error`); !strings.Contains(got, "already used") {
		t.Fatalf("beside the code: %q, want the second step's words", got)
	}
	tb.check("login-mfa-error")
	tb.fill("mfa", "code", sys.totpCode(secret))
	tb.submit("mfa")
	tb.waitPage("account")
	if tb.path() != "/account?x=1" {
		t.Fatalf("after the second step: %s, want ?next=", tb.path())
	}

	// A recovery code, once.
	for i, want := range []string{"account", "invalid_code"} {
		tb.signOut("login")
		tb.password("juan@example.com", residentPassword)
		tb.secondStep()
		tb.click(`[data-action="use-recovery"]`)
		tb.waitFor("the recovery code", `document.querySelector('form[data-form="mfa"] [name="method"]').value === 'recovery' && document.activeElement.name === 'code'`)
		if i == 0 {
			tb.check("login-mfa-recovery")
		}
		tb.fill("mfa", "code", strings.ToUpper(codes[0]))
		tb.submit("mfa")
		if want == "account" {
			tb.waitPage("account")
		} else {
			tb.errorShown(want)
		}
	}

	// Too long: start again.
	tb.click(`[data-action="use-totp"]`)
	sys.clock.Advance(6 * time.Minute)
	tb.fill("mfa", "code", sys.totpCode(secret))
	tb.submit("mfa")
	tb.errorShown("invalid_token")
	tb.check("login-mfa-expired")
	tb.click(`.error-summary a`)
	tb.waitPage("login")
	tb.waitFor("the first step", `!document.querySelector('[data-step="password"]').hidden && !document.querySelector('form[data-form="mfa"]')`)

	tb.noErrors("/v1/resident/mfa/totp/confirm", "/v1/resident/login/mfa")
}

// appBy sets up an authenticator app for a signed-in API client (another
// device) and returns its key.
func (c *apiClient) appBy(realm string) string {
	c.s.t.Helper()
	var key struct{ ID, Secret string }
	c.call(http.MethodPost, "/v1/"+realm+"/mfa/totp", map[string]any{}, http.StatusOK, &key)
	c.call(http.MethodPost, "/v1/"+realm+"/mfa/totp/confirm", map[string]any{"id": key.ID, "code": c.s.totpCode(key.Secret)}, http.StatusOK, nil)
	return key.Secret
}

// Five wrong codes at the second step end it, and the identifier is
// locked: a second step is no fresh way to guess (the password was right,
// the codes were not).
func TestFiveWrongCodesEndTheSecondStep(t *testing.T) {
	sys := startSystem(t)
	sys.resident("Juan", "juan@example.com", "0917 123 4567")
	c := sys.client()
	c.login("resident", "juan@example.com", residentPassword)
	secret := c.appBy("resident")
	sys.nextTOTPStep()
	tb := startBrowser(t, sys).tab("resident")
	tb.open("/login", "login")
	tb.password("juan@example.com", residentPassword)
	tb.secondStep()
	for range 5 {
		eval[bool](tb, `(() => { document.querySelectorAll('.error-summary').forEach(e => e.remove()); return true })()`)
		tb.fill("mfa", "code", "000000")
		tb.submit("mfa")
		tb.errorShown("invalid_code")
	}
	tb.fill("mfa", "code", sys.totpCode(secret))
	tb.submit("mfa")
	tb.errorShown("invalid_token")
	tb.click(`.error-summary a`)
	tb.waitPage("login")
	tb.password("juan@example.com", residentPassword)
	tb.errorShown("too_many_attempts")
	tb.noErrors("/v1/resident/login/mfa", "/v1/resident/login")
}

// An admin who must have two-step sign-in and has none signs in: the
// password leads to the enrollment page with no session (no menu, no sign
// out, the login's mfa_token in this tab's storage, never the address);
// the app's first code signs them in, with the recovery codes shown; they
// go on to the page they asked for. The next login asks for the code.
func TestAdminSetsUpTwoStepSignInAtFirstLogin(t *testing.T) {
	sys := startSystem(t, "EKOLEK_ADMIN_MFA", "required")
	sys.admin("boss", account.RoleSuperAdmin)
	tb := startBrowser(t, sys).tab("admin")
	tb.open("/admin/login?next=%2Fadmin%2Fsecurity", "admin-login")
	tb.password("boss", adminPassword)
	tb.waitPage("admin-mfa-enroll")
	tb.waitFor("the key", `document.querySelector('[data-secret]').textContent.trim()`)
	if tb.sessionOf("admin") {
		t.Fatal("signed in before a factor was set up")
	}
	if strings.Contains(tb.path(), "token") || !eval[bool](tb, `!!sessionStorage.getItem('ekolek.mfa-token.admin')`) {
		t.Fatalf("the mfa_token: address %s, want it in sessionStorage only", tb.path())
	}
	if eval[bool](tb, `!!document.querySelector('[data-action="logout"], [data-console-nav]') || document.querySelector('[data-required]').hidden || !document.querySelector('[data-back]').hidden`) {
		t.Fatal("the enrollment at first login shows a signed-in page's sign out or menu, or does not say why")
	}
	tb.check("admin-mfa-enroll-first-login")
	secret := tb.text(`[data-secret]`)
	tb.fill("mfa-enroll", "code", sys.totpCode(secret))
	tb.submit("mfa-enroll")
	tb.waitFor("the codes", `document.querySelectorAll('[data-recovery-codes] li').length === 10`)
	if !tb.sessionOf("admin") {
		t.Fatal("the confirmation did not sign the admin in")
	}
	if eval[bool](tb, `!!sessionStorage.getItem('ekolek.mfa-token.admin')`) {
		t.Fatal("the used mfa_token stays in storage")
	}
	tb.click(`[data-action="continue"]`)
	tb.waitPage("admin-security")

	tb.signOut("admin-login")
	sys.nextTOTPStep()
	tb.password("boss", adminPassword)
	tb.secondStep()
	tb.check("admin-login-mfa")
	tb.fill("mfa", "code", sys.totpCode(secret))
	tb.submit("mfa")
	tb.waitPage("admin-residents")
	tb.noErrors()
}

// A resident adds a passkey from the account page (the first factor: its
// recovery codes), signs in with it alone, and with the password and the
// passkey as the second step.
func TestResidentAddsAPasskeyAndSignsInWithIt(t *testing.T) {
	sys := startSystem(t)
	sys.resident("Juan", "juan@example.com", "0917 123 4567")
	tb := startBrowser(t, sys).tab("resident")
	tb.addAuthenticator()
	tb.login("resident", "juan@example.com", residentPassword, false)
	tb.waitFor("the section", `!document.querySelector('[data-passkey-add]').hidden`)
	tb.click(`[data-action="add-passkey"]`)
	tb.waitFor("the codes", `document.querySelectorAll('[data-recovery-codes] li').length === 10`)
	tb.click(`[data-action="continue"]`)
	tb.notice("passkey_added")
	tb.waitFor("the passkey listed", `document.querySelector('[data-factor-type="webauthn"]')`)
	if got := tb.text(`[data-factor-type="webauthn"] .device`); !strings.Contains(got, "Chrome on Linux") {
		t.Fatalf("the passkey is called %q, want the device", got)
	}
	tb.check("account-with-passkey")

	tb.signOut("login")
	tb.click(`[data-action="passkey"]`)
	tb.waitPage("account")

	tb.signOut("login")
	tb.password("juan@example.com", residentPassword)
	tb.secondStep()
	if m := eval[string](tb, `document.querySelector('form[data-form="mfa"] [name="method"]').value`); m != "recovery" {
		t.Fatalf("without an app the code box takes %q, want a recovery code", m)
	}
	tb.check("login-mfa-passkey")
	tb.click(`[data-action="use-passkey"]`)
	tb.waitPage("account")
	tb.noErrors()
}

// An admin who must have two-step sign-in adds a passkey at the first
// login instead of the app, and signs in with it, with and without the
// password.
func TestAdminSetsUpAPasskeyAtFirstLogin(t *testing.T) {
	sys := startSystem(t, "EKOLEK_ADMIN_MFA", "required")
	sys.admin("ana", account.RoleSecurityAnalyst)
	tb := startBrowser(t, sys).tab("admin")
	tb.addAuthenticator()
	tb.open("/admin/login", "admin-login")
	tb.password("ana", adminPassword)
	tb.waitPage("admin-mfa-enroll")
	tb.waitFor("the passkey offered", `!document.querySelector('[data-passkey-instead]').hidden`)
	tb.click(`[data-action="add-passkey"]`)
	tb.waitFor("the codes", `document.querySelectorAll('[data-recovery-codes] li').length === 10`)
	tb.click(`[data-action="continue"]`)
	tb.waitPage("admin-security")

	tb.signOut("admin-login")
	tb.click(`[data-action="passkey"]`)
	tb.waitPage("admin-security")
	tb.signOut("admin-login")
	tb.password("ana", adminPassword)
	tb.secondStep()
	tb.click(`[data-action="use-passkey"]`)
	tb.waitPage("admin-security")
	tb.noErrors()
}

// A factor is renamed in the page; the name is what the list shows.
func TestRenameAFactor(t *testing.T) {
	sys := startSystem(t)
	sys.resident("Juan", "juan@example.com", "0917 123 4567")
	tb := startBrowser(t, sys).tab("resident")
	tb.login("resident", "juan@example.com", residentPassword, false)
	tb.setUpApp("mfa-enroll", false)
	tb.click(`[data-action="continue"]`)
	tb.movedTo("account", "authenticator_added")
	tb.click(`[data-factor-type="totp"] [data-action="rename"]`)
	tb.waitFor("the name form", `document.activeElement.name === 'name'`)
	tb.fill("factor-rename", "name", strings.Repeat("x", 65))
	tb.submit("factor-rename")
	tb.errorShown("invalid_request")
	tb.check("account-rename-error")
	tb.fill("factor-rename", "name", "My phone")
	tb.submit("factor-rename")
	tb.notice("factor_renamed")
	if got := tb.text(`[data-factor-type="totp"] .device`); !strings.HasPrefix(got, "My phone") {
		t.Fatalf("the renamed factor shows %q", got)
	}
	tb.noErrors("/v1/resident/mfa/totp/confirm", "/v1/resident/mfa/"+eval[string](tb, `document.querySelector('[data-factor-type="totp"]').dataset.factorId`))
}
