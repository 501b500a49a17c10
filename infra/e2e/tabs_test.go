package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// mark leaves a mark in the tab's current document; any navigation, even
// one straight back to the same page, loses it.
func (tb *tab) mark() {
	tb.t.Helper()
	eval[bool](tb, `window.e2eMark = true`)
}

// stays checks that a signed-in tab marked before is still the same
// document on its page, signed in, with no notice: nothing that happened
// in the other realm reached it.
func (tb *tab) stays(page, realm string) {
	tb.t.Helper()
	// Give a wrongly sent message time to arrive before looking.
	time.Sleep(300 * time.Millisecond)
	tb.waitPage(page)
	if !eval[bool](tb, `window.e2eMark === true`) {
		tb.fatalf("the tab left its page (and came back)")
	}
	if n := eval[int](tb, `document.querySelectorAll('[data-notice]').length`); n != 0 {
		tb.fatalf("a notice reached a tab of the other realm: %q", tb.text(`[data-notice]`))
	}
	if !tb.sessionOf(realm) {
		tb.fatalf("the %s session ended", realm)
	}
}

// The old system's failure: one browser, a resident in one tab and an
// admin in another; signing out of either left the other signed out too.
// Here each realm's sign-out moves that realm's tabs (also ones nobody
// touched) to its login page with a notice, without a reload, and leaves
// the other realm's tab alone.
func TestRealmsInTabsSignOutSeparately(t *testing.T) {
	sys := startSystem(t)
	sys.resident("Juan", "juan@example.com", "0917 123 4567")
	sys.admin("boss", "super_admin")
	b := startBrowser(t, sys)
	r1 := b.tab("resident tab 1")
	r1.login("resident", "juan@example.com", residentPassword, false)
	adm := r1.sibling("admin tab")
	adm.login("admin", "boss", adminPassword, false)
	r2 := r1.sibling("resident tab 2")
	r2.open("/account", "account")

	adm.mark()
	r2.click(`[data-action="logout"]`)
	r2.movedTo("login", "signed_out")
	r1.movedTo("login", "signed_out")
	adm.stays("admin-residents", "admin")

	r1.fill("login", "identifier", "juan@example.com")
	r1.fill("login", "password", residentPassword)
	r1.submit("login")
	r1.waitPage("account")
	r1.mark()
	adm.click(`[data-action="logout"]`)
	adm.movedTo("admin-login", "signed_out")
	r1.stays("account", "resident")
	for _, tb := range []*tab{r1, r2, adm} {
		tb.noErrors()
	}
}

// An admin session that expires (the console left idle past its window)
// moves every admin tab to the admin login page, all with the same notice,
// which returns to the page after signing in again; the resident tabs stay. A revocation (a super
// admin ends every session of the resident) then moves only the resident
// tabs.
func TestExpiryAndRevocationMoveOnlyThatRealmsTabs(t *testing.T) {
	sys := startSystem(t)
	juan := sys.resident("Juan", "juan@example.com", "0917 123 4567")
	sys.admin("ops", "super_admin")
	b := startBrowser(t, sys)
	r1 := b.tab("resident 1")
	r1.login("resident", "juan@example.com", residentPassword, false)
	r2 := r1.sibling("resident 2")
	r2.open("/account", "account")
	a1 := r1.sibling("admin 1")
	a1.login("admin", "ops", adminPassword, false)
	a2 := r1.sibling("admin 2")
	a2.open("/admin/account", "admin-account")
	r1.mark()
	r2.mark()

	sys.clock.Advance(31 * time.Minute) // admin idle 30 min, resident 2 h
	// Both admin tabs look at once: the first check finds the session
	// expired (and deletes it), the second finds none; both must say why.
	a2.becomeVisible()
	a1.becomeVisible()
	a2.movedTo("admin-login", "session_expired")
	a1.movedTo("admin-login", "session_expired")
	r1.stays("account", "resident")
	r2.stays("account", "resident")
	if p := a1.path(); !strings.Contains(p, "next=%2Fadmin%2F") {
		t.Fatalf("the expired admin tab's login page is %s; it should return to /admin/", p)
	}
	a1.fill("login", "identifier", "ops")
	a1.fill("login", "password", adminPassword)
	a1.submit("login")
	a1.waitPage("admin-residents")
	a1.mark()

	boss := sys.client()
	sys.admin("boss", "super_admin")
	boss.login("admin", "boss", adminPassword)
	boss.call(http.MethodDelete, "/v1/admin/accounts/resident/"+juan+"/sessions", nil, http.StatusOK, nil)
	r1.becomeVisible()
	r1.movedTo("login", "signed_out")
	r2.movedTo("login", "signed_out")
	a1.stays("admin-residents", "admin")
}

// persistentOnly is what a browser keeps of cookies when it is closed
// and opened again: the ones with an expiry; browser-session cookies go.
func persistentOnly(all []*network.Cookie) []*network.CookieParam {
	var out []*network.CookieParam
	for _, c := range all {
		if c.Session {
			continue
		}
		out = append(out, &network.CookieParam{
			Name: c.Name, Value: c.Value, Domain: c.Domain, Path: c.Path, Secure: c.Secure,
			HTTPOnly: c.HTTPOnly, SameSite: c.SameSite, Expires: cdp.TimeSinceEpoch(c.Expires),
		})
	}
	return out
}

// reopen is the browser of tb closed and opened again: a new browser
// context that has only the persistent cookies of tb's.
func (tb *tab) reopen(b *browser, name string) *tab {
	tb.t.Helper()
	kept := persistentOnly(tb.cookies())
	next := b.other(name)
	if _, err := chromedp.Call(next.ctx, network.SetCookies, network.SetCookiesParams{Cookies: kept}); err != nil {
		tb.fatalf("set cookies: %v", err)
	}
	return next
}

// Closing the browser signs the admin out (a shared computer in a barangay
// hall), and the resident too unless "Keep me signed in on this device"
// was ticked.
func TestClosingTheBrowser(t *testing.T) {
	sys := startSystem(t)
	sys.resident("Juan", "juan@example.com", "0917 123 4567")
	sys.admin("boss", "super_admin")
	b := startBrowser(t, sys)

	for _, remember := range []bool{false, true} {
		before := b.other("before closing")
		before.login("resident", "juan@example.com", residentPassword, remember)
		other := before.sibling("admin")
		other.login("admin", "boss", adminPassword, false)
		for _, c := range before.cookies() {
			switch c.Name {
			case "ekolek_admin_session":
				if !c.Session {
					t.Fatalf("the admin cookie outlives the browser (expires %v)", c.Expires)
				}
			case "ekolek_session":
				if c.Session == remember {
					t.Fatalf("remember %v: the resident cookie is a browser-session cookie: %v", remember, c.Session)
				}
			}
		}

		after := before.reopen(b, "after reopening")
		after.do(chromedp.Navigate(sys.url + "/admin/account"))
		after.waitPage("admin-login")
		if after.sessionOf("admin") {
			t.Fatal("the admin is still signed in after the browser was closed")
		}
		after.do(chromedp.Navigate(sys.url + "/account"))
		if remember {
			after.waitPage("account")
			after.waitFor("the account", `document.querySelector('[data-profile]').textContent.includes('juan@example.com')`)
		} else {
			after.waitPage("login")
			if after.sessionOf("resident") {
				t.Fatal("the resident is still signed in after the browser was closed without remember")
			}
		}
	}
}

// Two browsers, one account: the one signs the other out from its list of
// devices (one device, then all others); the other's open page notices
// when it is looked at again.
func TestOneBrowserSignsTheOtherOut(t *testing.T) {
	sys := startSystem(t)
	sys.resident("Juan", "juan@example.com", "0917 123 4567")
	b := startBrowser(t, sys)
	phone, office := b.other("phone"), b.other("office")
	phone.login("resident", "juan@example.com", residentPassword, true)
	office.login("resident", "juan@example.com", residentPassword, false)

	for _, action := range []string{"revoke", "revoke-others"} {
		phone.open("/account", "account")
		phone.waitFor("two devices", `document.querySelectorAll('[data-session-id]').length === 2`)
		if n := eval[int](phone, `document.querySelectorAll('[data-session-id][data-current="true"]').length`); n != 1 {
			t.Fatalf("%d sessions marked as this device", n)
		}
		if action == "revoke" {
			phone.click(`[data-session-id]:not([data-current]) [data-action="revoke"]`)
			phone.notice("device_signed_out")
		} else {
			phone.click(`[data-action="revoke-others"]`)
			phone.notice("others_signed_out")
		}
		phone.waitFor("one device left", `document.querySelectorAll('[data-session-id]').length === 1 && document.querySelector('[data-current="true"]')`)
		office.becomeVisible()
		office.movedTo("login", "signed_out")
		if !phone.sessionOf("resident") {
			t.Fatal("the phone signed itself out")
		}
		office.fill("login", "identifier", "juan@example.com")
		office.fill("login", "password", residentPassword)
		office.submit("login")
		office.waitPage("account")
	}
	phone.noErrors()
	office.noErrors()
}
