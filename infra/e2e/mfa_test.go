package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/passkey"
)

// totpCode is the authenticator app: the code of secret (as the page
// shows it, in groups of four) at the system's clock.
func (s *system) totpCode(secret string) string {
	s.t.Helper()
	code, err := totp.GenerateCodeCustom(strings.ReplaceAll(secret, " ", ""), s.clock.Now(), totp.ValidateOpts{
		Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		s.t.Fatalf("totp code of %q: %v", secret, err)
	}
	return code
}

// setUpApp sets up an authenticator app from the account page the tab is
// on (both realms): the enrollment page, a wrong code, the right one. It
// returns the key the page showed and the recovery codes of a first
// factor (nil otherwise), and leaves the tab where that leads: the codes,
// or the account page.
func (tb *tab) setUpApp(enrollPage string, check bool) (secret string, codes []string) {
	tb.t.Helper()
	tb.click(`[data-action="add-totp"]`)
	tb.waitPage(enrollPage)
	tb.waitFor("the key", `document.querySelector('[data-secret]').textContent.trim() && document.querySelector('[data-qr] svg title')`)
	secret = tb.text(`[data-secret]`)
	if check {
		tb.check(enrollPage)
	}
	tb.fill("mfa-enroll", "code", "000000")
	tb.submit("mfa-enroll")
	tb.errorShown("invalid_code")
	if got := tb.text(`#code-error`); !strings.Contains(got, "the app shows now") {
		t := tb.t
		t.Errorf("the wrong code's message beside the field: %q, want the enrollment's words", got)
	}
	if check {
		tb.check(enrollPage + "-error")
	}
	tb.fill("mfa-enroll", "code", tb.sys.totpCode(secret))
	tb.submit("mfa-enroll")
	tb.waitFor("the codes, or the account", `document.querySelectorAll('[data-recovery-codes] li').length || document.querySelector('main[data-page$="account"]')`)
	if eval[bool](tb, `!!document.querySelector('main[data-page$="account"]')`) {
		return secret, nil
	}
	return secret, eval[[]string](tb, `[...document.querySelectorAll('[data-recovery-codes] li')].map(li => li.textContent)`)
}

// A resident sets up an authenticator app from the account page: the QR
// code (our own SVG, whole, nothing else) and the key beside it, a wrong
// code explained, the right one; ten recovery codes, copied and downloaded
// as a text file; back on the account page, the app is listed. New
// recovery codes and removing the app ask for the password when the last
// one was more than 5 minutes ago, then do what was asked.
func TestResidentSetsUpAnAuthenticatorApp(t *testing.T) {
	sys := startSystem(t)
	sys.resident("Juan", "juan@example.com", "0917 123 4567")
	b := startBrowser(t, sys)
	tb := b.tab("resident")
	tb.login("resident", "juan@example.com", residentPassword, false)
	tb.waitFor("no factor yet", `!document.querySelector('[data-factors-none]').hidden`)

	secret, codes := tb.setUpApp("mfa-enroll", true)
	if len(strings.ReplaceAll(secret, " ", "")) != 32 {
		t.Fatalf("the key shown: %q, want 32 base32 characters", secret)
	}
	if n := eval[int](tb, `document.querySelectorAll('[data-qr] svg *').length`); n != 3 {
		t.Fatalf("the QR code has %d elements, want its title, background and path", n)
	}
	if len(codes) != 10 {
		t.Fatalf("recovery codes %v, want 10", codes)
	}
	tb.waitFor("the codes focused", `document.activeElement === document.querySelector('[data-recovery] h2')`)
	if eval[bool](tb, `!document.querySelector('[data-back]').hidden || !document.querySelector('[data-enroll]').hidden`) {
		t.Fatal("the codes share the page with a way out or the enrollment form")
	}
	tb.check("mfa-enroll-codes")

	// Copied: the clipboard holds them, one a line.
	ctx := chromedp.FromContext(tb.ctx)
	if _, err := chromedp.CallBrowser(tb.ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
		Permission: &cdpbrowser.PermissionDescriptor{Name: "clipboard-read"}, Setting: cdpbrowser.PermissionSettingGranted,
		Origin: sys.url, BrowserContextID: ctx.BrowserContextID,
	}); err != nil {
		t.Fatal(err)
	}
	tb.click(`[data-action="copy-codes"]`)
	tb.waitFor("copied", `document.querySelector('[data-recovery-status]').dataset.i18n === 'recovery.copied'`)
	if got := eval[string](tb, `navigator.clipboard.readText()`); got != strings.Join(codes, "\n")+"\n" {
		t.Fatalf("the clipboard holds %q", got)
	}
	// Downloaded: a text file with every code.
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(tb.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir, BrowserContextID: ctx.BrowserContextID,
	}); err != nil {
		t.Fatal(err)
	}
	tb.click(`[data-action="download-codes"]`)
	file := filepath.Join(dir, "e-kolek-recovery-codes.txt")
	var saved []byte
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if b, err := os.ReadFile(file); err == nil && strings.Contains(string(b), codes[9]) {
			saved = b
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s with the codes", file)
		}
	}
	for _, c := range codes {
		if !strings.Contains(string(saved), c+"\r\n") {
			t.Fatalf("the downloaded file lacks %s:\n%s", c, saved)
		}
	}

	tb.click(`[data-action="continue"]`)
	tb.movedTo("account", "authenticator_added")
	tb.waitFor("the app listed", `document.querySelector('[data-factor-type="totp"][data-factor-id]')`)
	if got := tb.text(`[data-recovery-left]`); !strings.Contains(got, "10 of 10") {
		t.Fatalf("recovery codes left: %q", got)
	}
	tb.check("account-with-app")

	// New recovery codes, 6 minutes after the login: the password first.
	sys.clock.Advance(6 * time.Minute)
	tb.click(`[data-action="new-recovery-codes"]`)
	tb.click(`[data-action="confirm-new-codes"]`)
	tb.waitFor("the password asked for", `document.querySelector('form[data-form="reauth"]')`)
	tb.check("account-reauth")
	tb.fill("reauth", "password", "not my password at all")
	tb.submit("reauth")
	tb.errorShown("invalid_credentials")
	tb.fill("reauth", "password", residentPassword)
	tb.submit("reauth")
	tb.waitFor("new codes", `document.querySelectorAll('[data-recovery-codes] li').length === 10`)
	fresh := eval[[]string](tb, `[...document.querySelectorAll('[data-recovery-codes] li')].map(li => li.textContent)`)
	if strings.Join(fresh, " ") == strings.Join(codes, " ") {
		t.Fatal("the new recovery codes are the old ones")
	}
	if !eval[bool](tb, `document.querySelector('[data-factors-body]').hidden`) {
		t.Fatal("the factor list stays beside the new codes; the codes are the page's one action")
	}
	tb.click(`[data-action="continue"]`)
	tb.waitFor("the list back", `!document.querySelector('[data-factors-body]').hidden && document.querySelector('[data-factor-id]')`)

	// Removing it: the password was given a moment ago, so no question.
	tb.click(`[data-factor-type="totp"] [data-action="remove"]`)
	tb.waitFor("the confirmation", `document.querySelector('[data-action="confirm-remove"]')`)
	tb.check("account-remove-factor")
	tb.click(`[data-action="cancel"]`)
	tb.waitFor("closed", `!document.querySelector('[data-action="confirm-remove"]') && document.activeElement.dataset.action === 'remove'`)
	sys.clock.Advance(6 * time.Minute) // and now it is too long ago
	id := eval[string](tb, `document.querySelector('[data-factor-type="totp"]').dataset.factorId`)
	tb.click(`[data-factor-type="totp"] [data-action="remove"]`)
	tb.click(`[data-action="confirm-remove"]`)
	tb.waitFor("the password asked for", `document.querySelector('form[data-form="reauth"]')`)
	tb.fill("reauth", "password", residentPassword)
	tb.submit("reauth")
	tb.notice("factor_removed")
	tb.waitFor("none left", `!document.querySelector('[data-factor-id]') && !document.querySelector('[data-factors-none]').hidden`)
	tb.noErrors("/v1/resident/mfa/totp/confirm", "/v1/resident/mfa/recovery-codes", "/v1/resident/reauth", "/v1/resident/mfa/"+id)
}

// addAuthenticator gives the tab a platform authenticator with passkeys
// (Chromium's virtual one: CTAP 2.1, internal, resident keys, user
// verification that passes), which the tab keeps across its pages.
func (tb *tab) addAuthenticator() {
	tb.t.Helper()
	if _, err := chromedp.Call(tb.ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		tb.fatalf("WebAuthn.enable: %v", err)
	}
	if _, err := chromedp.Call(tb.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
			Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
			IsUserVerified: true, AutomaticPresenceSimulation: true,
		},
	}); err != nil {
		tb.fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
}

// ceremony runs fn ("create" or "get") of the pages' webauthn.js in the
// tab with options as the API gives them (JSON), and returns what the
// module makes of the browser's answer, as the pages send it.
func (tb *tab) ceremony(fn string, options any) []byte {
	tb.t.Helper()
	opts, err := json.Marshal(options)
	if err != nil {
		tb.t.Fatal(err)
	}
	return []byte(eval[string](tb, `import('/assets/webauthn.js').then(m => m.`+fn+`(`+string(opts)+`)).then(JSON.stringify)`))
}

// webauthn.js, the pages' one converter between the API's JSON (base64url,
// as go-webauthn writes and reads it) and the browser's ArrayBuffers,
// carries a real ceremony both ways: Chromium's authenticator registers a
// passkey with the options go-webauthn made, go-webauthn verifies the
// attestation the module sent back; then a login by that passkey alone
// (a discoverable credential, user verified) names the account, and the
// passkey's counter moves on.
func TestWebAuthnModuleCarriesTheLibrarysCeremonies(t *testing.T) {
	sys := startSystem(t)
	id := sys.resident("Juan", "juan@example.com", "0917 123 4567")
	ctx := t.Context()
	svc, err := passkey.NewService(passkey.Config{RPID: "localhost", Origins: []string{sys.url}}, sys.app.Store, sys.app.MFA, sys.clock)
	if err != nil {
		t.Fatal(err)
	}
	juan, err := sys.app.Accounts.Get(ctx, account.Resident, id)
	if err != nil {
		t.Fatal(err)
	}
	tb := startBrowser(t, sys).tab("resident")
	tb.addAuthenticator()
	tb.open("/login", "login")

	creation, err := svc.RegistrationOptions(ctx, juan)
	if err != nil {
		t.Fatal(err)
	}
	registered, err := svc.Register(ctx, juan, "Chrome on Linux", tb.ceremony("create", creation), nil)
	if err != nil {
		t.Fatalf("go-webauthn refused what webauthn.js made of the registration: %v", err)
	}
	if len(registered.RecoveryCodes) != 10 || registered.Factor.Passkey == nil || !registered.Factor.Passkey.UserVerified {
		t.Fatalf("registered %+v", registered)
	}

	assertion, err := svc.LoginOptions(ctx, account.Resident, "")
	if err != nil {
		t.Fatal(err)
	}
	signedIn, err := svc.Login(ctx, account.Resident, "", tb.ceremony("get", assertion), "127.0.0.1")
	if err != nil {
		t.Fatalf("go-webauthn refused what webauthn.js made of the login: %v", err)
	}
	if signedIn.Account.ID != id || signedIn.FactorID != registered.Factor.ID {
		t.Fatalf("signed in as %s with factor %s, want %s with %s", signedIn.Account.ID, signedIn.FactorID, id, registered.Factor.ID)
	}
	_, factors, err := sys.app.Store.Factors(ctx, account.Resident, id)
	if err != nil || len(factors) != 1 || factors[0].Passkey.SignCount <= registered.Factor.Passkey.SignCount {
		t.Fatalf("after the login the passkey is %+v (%v), want its counter past %d", factors, err, registered.Factor.Passkey.SignCount)
	}
	tb.noErrors()
}
