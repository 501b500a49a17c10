package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The old guide's user dashboard: a resident signs in, sees the account,
// signs out, and nothing goes wrong on the way (no error shown, nothing in
// the console).
func TestResidentSignsInAndOut(t *testing.T) {
	sys := startSystem(t)
	sys.resident("Juan", "juan@example.com", "0917 123 4567")
	b := startBrowser(t, sys)
	tb := b.tab("resident")

	tb.do()
	tb.open("/", "login") // not signed in: / is the login page
	tb.login("resident", "juan@example.com", residentPassword, false)
	tb.waitFor("the account", `document.querySelector('[data-profile]').textContent.includes('juan@example.com')`)
	tb.waitFor("this device", `document.querySelector('[data-session-id][data-current="true"]')`)
	if got := tb.text(`[data-status-banner]`); !strings.Contains(got, "approved") {
		t.Fatalf("status banner %q", got)
	}
	tb.open("/", "account") // signed in: / is the account

	tb.click(`[data-action="logout"]`)
	tb.movedTo("login", "signed_out")
	if tb.sessionOf("resident") {
		t.Fatal("still signed in after signing out")
	}
	if n := eval[int](tb, `document.querySelectorAll('[role=alert]').length`); n != 0 {
		t.Fatalf("%d errors shown", n)
	}
	if strings.Contains(tb.path(), "next=") {
		t.Fatalf("a deliberate sign-out returns nowhere, but the login page has %s", tb.path())
	}
	tb.noErrors()
}

// A wrong password shows the error summary, which takes focus and names
// the problem; the fields keep what was typed.
func TestLoginErrorSummary(t *testing.T) {
	sys := startSystem(t)
	sys.resident("Juan", "juan@example.com", "0917 123 4567")
	tb := startBrowser(t, sys).tab("resident")
	tb.open("/login", "login")

	tb.submit("login") // nothing typed
	tb.errorShown("invalid_request")
	if id := eval[string](tb, `document.activeElement.getAttribute('data-error') || document.activeElement.id`); id != "invalid_request" {
		t.Fatalf("focus is on %q, want the error summary", id)
	}
	links := eval[[]string](tb, `[...document.querySelectorAll('.error-summary a')].map(a => a.getAttribute('href'))`)
	if strings.Join(links, " ") != "#identifier #password" {
		t.Fatalf("summary links %v, want #identifier #password", links)
	}
	for _, f := range []string{"identifier", "password"} {
		if eval[string](tb, `document.getElementById('`+f+`').getAttribute('aria-invalid')`) != "true" {
			t.Fatalf("%s not marked invalid", f)
		}
		if msg := tb.text(`#` + f + `-error`); msg == "" {
			t.Fatalf("no message beside %s", f)
		}
	}
	if title := eval[string](tb, `document.title`); !strings.HasPrefix(title, "Error:") {
		t.Fatalf("title %q does not start with Error:", title)
	}
	tb.click(`.error-summary a[href="#password"]`)
	if id := eval[string](tb, `document.activeElement.id`); id != "password" {
		t.Fatalf("the summary's link focused %q", id)
	}

	tb.fill("login", "identifier", "juan@example.com")
	tb.fill("login", "password", "not the password at all")
	tb.submit("login")
	tb.errorShown("invalid_credentials")
	if n := eval[int](tb, `document.querySelectorAll('.field-error').length`); n != 0 {
		t.Fatalf("%d field messages left from the first try", n)
	}
	if v := eval[string](tb, `document.getElementById('identifier').value`); v != "juan@example.com" {
		t.Fatalf("identifier is %q after the error", v)
	}
	tb.noErrors("/v1/resident/login")
}

// After a login, ?next= returns to the page the person came from, when it
// is a path of this realm on this origin; anything else goes to the
// account.
func TestNextRefusesOtherPlaces(t *testing.T) {
	sys := startSystem(t)
	sys.resident("Juan", "juan@example.com", "0917 123 4567")
	b := startBrowser(t, sys)
	for _, c := range []struct{ next, want string }{
		{"/account?tab=devices#devices", "/account?tab=devices"},
		{"//evil.example/account", "/account"},
		{"https://evil.example/", "/account"},
		{"/\\evil.example", "/account"},
		{"\\\\evil.example", "/account"},
		{"javascript:alert(1)", "/account"},
		{"/\t/evil.example", "/account"},
		{" //evil.example", "/account"},
		{"http:/evil.example", "/account"},
		{"/admin/account", "/account"},
		{"/login", "/account"},
	} {
		tb := b.other("next " + c.next)
		tb.open("/login?next="+url.QueryEscape(c.next), "login")
		tb.fill("login", "identifier", "juan@example.com")
		tb.fill("login", "password", residentPassword)
		tb.submit("login")
		tb.waitPage("account")
		origin := eval[string](tb, `location.origin`)
		if origin != sys.url || tb.path() != c.want {
			t.Errorf("next=%q took the browser to %s%s, want %s%s", c.next, origin, tb.path(), sys.url, c.want)
		}
	}
}

// A newcomer registers, checks the email and the mobile number with the
// codes sent to them (one at a time, the resend counting down its minute),
// is refused at sign-in while pending, is approved by the office, and
// signs in.
func TestRegisterVerifyApproveSignIn(t *testing.T) {
	sys := startSystem(t)
	sys.admin("boss", "super_admin")
	tb := startBrowser(t, sys).tab("newcomer")
	tb.open("/login", "login")
	tb.click(`a[href="/register"]`)
	tb.waitPage("register")
	tb.waitFor("barangays", `[...document.querySelectorAll('select[name="barangay"] option')].some(o => o.value === 'Landayan')`)
	tb.fill("register", "first_name", "Maria")
	tb.fill("register", "last_name", "Santos")
	tb.fill("register", "email", "maria@example.com")
	tb.fill("register", "phone", "0918 555 0142")
	tb.do(chromedp.SetValue(chromedp.CSS(`select[name="barangay"]`), "Landayan"))
	tb.fill("register", "password", "sampaguita jeepney harbor 77")
	if got := tb.text(`[data-password-count]`); !strings.Contains(got, "28") {
		t.Fatalf("the password's length as typed: %q", got)
	}
	tb.submit("register")
	tb.movedTo("verify", "registered")

	if v := eval[string](tb, `document.querySelector('form[data-form="verify"] [name="identifier"]').value`); v != "maria@example.com" {
		t.Fatalf("verify starts with %q, want the email", v)
	}
	resend := `form[data-form="resend"] button[type=submit]`
	if !eval[bool](tb, `document.querySelector('`+resend+`').disabled`) || !strings.Contains(tb.text(resend), " s)") {
		t.Fatalf("the resend button right after registering: %q, want it counting down its minute", tb.text(resend))
	}
	tb.fill("verify", "code", "000000")
	tb.submit("verify")
	tb.errorShown("invalid_code")
	tb.fill("verify", "code", sys.lastCode("maria@example.com"))
	tb.submit("verify")
	tb.notice("contact_verified_next")
	if v := eval[string](tb, `document.querySelector('form[data-form="verify"] [name="identifier"]').value`); v != "+639185550142" {
		t.Fatalf("after the email, verify goes on with %q, want the mobile number", v)
	}
	tb.fill("verify", "code", sys.lastCode("+639185550142"))
	tb.submit("verify")
	tb.notice("contact_verified")
	tb.waitFor("done", `!document.querySelector('[data-verify-done]').hidden`)

	tb.click(`[data-verify-done] a`)
	tb.waitPage("login")
	tb.fill("login", "identifier", "maria@example.com")
	tb.fill("login", "password", "sampaguita jeepney harbor 77")
	tb.submit("login")
	tb.errorShown("account_pending")

	var list struct{ Residents []struct{ ID, Email string } }
	boss := sys.client()
	boss.login("admin", "boss", adminPassword)
	boss.call(http.MethodGet, "/v1/admin/residents?status=pending", nil, http.StatusOK, &list)
	if len(list.Residents) != 1 || list.Residents[0].Email != "maria@example.com" {
		t.Fatalf("pending residents: %+v", list.Residents)
	}
	boss.call(http.MethodPost, "/v1/admin/residents/"+list.Residents[0].ID+"/approve", map[string]string{"reason": "documents checked"}, http.StatusOK, nil)

	tb.submit("login")
	tb.waitPage("account")
	tb.waitFor("both contacts verified", `document.querySelectorAll('[data-profile] .tag--ok').length === 2`)
	tb.noErrors("/v1/resident/register/verify", "/v1/resident/login")
}

// A password reset from a browser signed in to both realms: the browser
// keeps both sessions (the old system logged it out), every other session
// of the resident ends, and the new password works.
func TestPasswordResetKeepsThisBrowserSignedIn(t *testing.T) {
	sys := startSystem(t)
	sys.resident("Juan", "juan@example.com", "0917 123 4567")
	sys.admin("boss", "super_admin")
	b := startBrowser(t, sys)
	tb := b.tab("resident")
	tb.login("resident", "juan@example.com", residentPassword, false)
	adm := tb.sibling("admin")
	adm.login("admin", "boss", adminPassword, false)
	adm.mark()
	elsewhere := b.other("another device")
	elsewhere.login("resident", "juan@example.com", residentPassword, false)

	tb.open("/reset", "reset")
	tb.fill("reset-request", "identifier", "juan@example.com")
	tb.click(`#channel-sms`)
	tb.submit("reset-request")
	tb.waitFor("step 2", `!document.querySelector('[data-step="verify"]').hidden`)
	tb.fill("reset-verify", "code", sys.lastCode("+639171234567"))
	tb.submit("reset-verify")
	tb.waitFor("step 3", `!document.querySelector('[data-step="confirm"]').hidden`)
	tb.fill("reset-confirm", "new_password", "kalabasa sitaw talong 2026")
	tb.submit("reset-confirm")
	tb.movedTo("account", "password_reset")

	if !tb.sessionOf("resident") {
		t.Fatal("the browser that reset the password was signed out of the resident realm")
	}
	adm.stays("admin-residents", "admin")
	elsewhere.becomeVisible()
	elsewhere.movedTo("login", "signed_out")
	elsewhere.fill("login", "identifier", "juan@example.com")
	elsewhere.fill("login", "password", "kalabasa sitaw talong 2026")
	elsewhere.submit("login")
	elsewhere.waitPage("account")
	tb.noErrors()
	adm.noErrors()
}

// The login page by keyboard alone: the first Tab reaches "Skip to main
// content", which leads into the form; typing, Tab and Enter sign in.
func TestSignInByKeyboard(t *testing.T) {
	sys := startSystem(t)
	sys.resident("Juan", "juan@example.com", "0917 123 4567")
	tb := startBrowser(t, sys).tab("keyboard")
	tb.open("/login", "login")
	focused := func() string {
		return eval[string](tb, `(e => e.id || e.getAttribute('name') || e.className)(document.activeElement)`)
	}
	tb.do(chromedp.KeyEvent(kb.Tab))
	if f := focused(); f != "skip-link" {
		t.Fatalf("the first Tab focused %q, want the skip link", f)
	}
	tb.do(chromedp.KeyEvent(kb.Enter))
	tb.waitFor("main focused", `document.activeElement === document.querySelector('main')`)
	tb.do(chromedp.KeyEvent(kb.Tab))
	if f := focused(); f != "identifier" {
		t.Fatalf("Tab after skipping focused %q, want the identifier", f)
	}
	tb.do(chromedp.KeyEvent("juan@example.com"), chromedp.KeyEvent(kb.Tab))
	if f := focused(); f != "password" {
		t.Fatalf("Tab focused %q, want the password", f)
	}
	tb.do(chromedp.KeyEvent(residentPassword + kb.Enter))
	tb.waitPage("account")
	tb.noErrors()
}

// Changing the password on the account page: a wrong current password and
// a weak new one are explained beside their fields; a good change keeps
// this browser signed in and signs the other device out.
func TestChangePasswordKeepsThisDevice(t *testing.T) {
	sys := startSystem(t)
	sys.resident("Juan", "juan@example.com", "0917 123 4567")
	b := startBrowser(t, sys)
	tb := b.other("phone")
	tb.login("resident", "juan@example.com", residentPassword, false)
	elsewhere := b.other("office")
	elsewhere.login("resident", "juan@example.com", residentPassword, false)

	tb.fill("password-change", "current_password", "not my password at all")
	tb.fill("password-change", "new_password", "kalabasa sitaw talong 2026")
	tb.submit("password-change")
	tb.errorShown("invalid_credentials")
	if msg := tb.text(`#current_password-error`); msg == "" {
		t.Fatal("no message beside the current password")
	}
	tb.fill("password-change", "current_password", residentPassword)
	tb.fill("password-change", "new_password", "juan dela cruz")
	tb.submit("password-change")
	tb.errorShown("weak_password")
	if n := eval[int](tb, `document.querySelectorAll('#new_password-error li').length`); n == 0 {
		t.Fatal("the weak password's reasons are not listed beside it")
	}
	tb.fill("password-change", "new_password", "kalabasa sitaw talong 2026")
	tb.submit("password-change")
	tb.notice("password_changed")
	if v := eval[string](tb, `document.getElementById('current_password').value`); v != "" {
		t.Fatal("the form keeps the old password after the change")
	}
	tb.waitFor("one device", `document.querySelectorAll('[data-session-id]').length === 1`)
	if !tb.sessionOf("resident") {
		t.Fatal("the change signed this browser out")
	}
	elsewhere.becomeVisible()
	elsewhere.movedTo("login", "signed_out")
	tb.noErrors("/v1/resident/password")
}
