package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
)

// scopedAdmin creates an operations manager of barangays; its password is
// adminPassword.
func (s *system) scopedAdmin(username string, barangays ...string) account.Account {
	s.t.Helper()
	a, err := s.app.Accounts.CreateAdmin(s.t.Context(), account.NewAdmin{
		Username: username, Email: username + "@city.example.gov.ph", FullName: "Admin " + username,
		Role: string(account.RoleOperationsManager), Barangays: barangays, Password: adminPassword,
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return a
}

// The old guide's admin dashboard: sign in to the console, sign out, and a
// session left past the admin idle window ends with a notice.
func TestAdminDashboard(t *testing.T) {
	sys := startSystem(t)
	sys.resident("Juan", "juan@example.com", "0917 123 4567")
	tb := startBrowser(t, sys).tab("admin")
	tb.login("admin", "boss", adminPassword, false)
	tb.waitFor("the queue", `document.querySelector('[data-resident-id][data-status="approved"]')`)
	tb.click(`[data-action="logout"]`)
	tb.movedTo("admin-login", "signed_out")
	if tb.sessionOf("admin") {
		t.Fatal("still signed in after signing out")
	}

	tb.login("admin", "boss", adminPassword, false)
	tb.waitFor("the queue", `document.querySelector('[data-resident-id]')`)
	sys.clock.Advance(31 * time.Minute) // admin idle window: 30 min
	tb.becomeVisible()
	tb.movedTo("admin-login", "session_expired")
	tb.noErrors()
}

// Register → verify (TestRegisterVerifyApproveSignIn does both in the
// browser) → the admin approves in the console by clicking, with a
// reason → the resident signs in.
func TestAdminApprovesInTheConsole(t *testing.T) {
	sys := startSystem(t)
	sys.admin("boss", "super_admin")
	c := sys.client()
	var reg struct{ Account struct{ ID, Phone string } }
	c.call(http.MethodPost, "/v1/resident/register", map[string]string{
		"first_name": "Maria", "last_name": "Santos", "email": "maria@example.com", "phone": "0918 555 0142",
		"barangay": "Landayan", "password": residentPassword,
	}, http.StatusCreated, &reg)
	for _, contact := range []string{"maria@example.com", reg.Account.Phone} {
		c.call(http.MethodPost, "/v1/resident/register/verify", map[string]string{"identifier": contact, "code": sys.lastCode(contact)}, http.StatusNoContent, nil)
	}
	b := startBrowser(t, sys)
	resident := b.tab("resident")
	resident.open("/login", "login")
	resident.fill("login", "identifier", "maria@example.com")
	resident.fill("login", "password", residentPassword)
	resident.submit("login")
	resident.errorShown("account_pending")

	adm := b.other("admin")
	adm.login("admin", "boss", adminPassword, false)
	row := `[data-resident-id="` + reg.Account.ID + `"]`
	adm.waitFor("the waiting resident", `document.querySelector('`+row+`[data-status="pending"]')`)
	adm.click(row + ` [data-action="approve"]`)
	adm.waitFor("the confirmation", `document.querySelector('form[data-form="status-change"]')`)
	// No reason: the page asks for one, and nothing changes.
	adm.submit("status-change")
	adm.errorShown("invalid_request")
	adm.fill("status-change", "reason", "documents checked at the barangay hall")
	adm.submit("status-change")
	adm.notice("resident_approved")
	adm.waitFor("the row approved", `document.querySelector('`+row+`[data-status="approved"]')`)

	adm.click(row + ` a`)
	adm.waitPage("admin-resident")
	adm.waitFor("the history", `document.querySelector('[data-history]').textContent.includes('documents checked at the barangay hall')`)

	resident.submit("login")
	resident.waitPage("account")
	resident.noErrors("/v1/resident/login")
	adm.noErrors()
}

// A super admin invites an admin in /admin/admins; the new admin takes the
// code from the invitation email, sets a password on /admin/reset and
// signs in.
func TestInvitationAcceptedInTheBrowser(t *testing.T) {
	sys := startSystem(t)
	sys.admin("boss", "super_admin")
	b := startBrowser(t, sys)
	boss := b.tab("boss")
	boss.login("admin", "boss", adminPassword, false)
	boss.click(`nav a[href="/admin/admins"]`)
	boss.waitPage("admin-admins")
	boss.waitFor("the barangays", `document.querySelector('form[data-form="invite"] input[value="Landayan"]')`)
	boss.fill("invite", "full_name", "Rosa Reyes")
	boss.fill("invite", "username", "rosa.reyes")
	boss.fill("invite", "email", "rosa@city.example.gov.ph")
	boss.click(`form[data-form="invite"] input[value="Landayan"]`)
	boss.submit("invite")
	boss.notice("admin_invited")
	boss.waitFor("the new admin listed", `[...document.querySelectorAll('[data-admin-id]')].some(r => r.textContent.includes('rosa.reyes'))`)

	rosa := b.other("rosa")
	rosa.open("/admin/login", "admin-login")
	rosa.click(`a[href="/admin/reset"]`)
	rosa.waitPage("admin-reset")
	rosa.click(`[data-action="have-code"]`)
	rosa.waitFor("the code step", `!document.querySelector('[data-step="verify"]').hidden`)
	rosa.fill("reset-verify", "identifier", "rosa.reyes")
	rosa.fill("reset-verify", "code", sys.lastCode("rosa@city.example.gov.ph"))
	rosa.submit("reset-verify")
	rosa.waitFor("step 3", `!document.querySelector('[data-step="confirm"]').hidden`)
	rosa.fill("reset-confirm", "new_password", "bagoong calamansi rooftop 31")
	rosa.submit("reset-confirm")
	rosa.movedTo("admin-login", "password_set")
	rosa.fill("login", "identifier", "rosa.reyes")
	rosa.fill("login", "password", "bagoong calamansi rooftop 31")
	rosa.submit("login")
	rosa.waitPage("admin-residents")
	// The links are in the page from the start, hidden; the role's
	// permissions show some and remove the rest in one go.
	rosa.waitFor("the navigation", `document.querySelector('nav a[href="/admin/"]')?.closest('li').hidden === false`)
	if eval[bool](rosa, `!!document.querySelector('nav a[href="/admin/admins"], nav a[href="/admin/security"]')`) {
		t.Fatal("an operations manager's navigation links to admins or security events")
	}
	boss.noErrors()
	rosa.noErrors()
}

// A role sees links only to what it may do; opening another page shows the
// 403 page in the console, and the API refuses too.
func TestRoleSeesOnlyItsPages(t *testing.T) {
	sys := startSystem(t)
	sys.scopedAdmin("ops", "Landayan")
	sys.admin("content", "content_rewards_manager")
	sys.admin("analyst", "security_analyst")
	b := startBrowser(t, sys)

	ops := b.tab("ops")
	ops.login("admin", "ops", adminPassword, false)
	ops.waitFor("the navigation", `document.querySelector('nav a[href="/admin/account"]') && !document.querySelector('nav li[hidden]')`)
	if got := eval[[]string](ops, `[...document.querySelectorAll('nav a')].map(a => a.getAttribute('href'))`); len(got) != 2 || got[0] != "/admin/" || got[1] != "/admin/account" {
		t.Fatalf("an operations manager's links: %v", got)
	}
	for _, p := range []struct{ path, page string }{{"/admin/admins", "admin-admins"}, {"/admin/security", "admin-security"}} {
		ops.open(p.path, p.page)
		ops.waitFor("the 403 page", `document.querySelector('[data-forbidden] h1')`)
		if eval[bool](ops, `!!document.querySelector('[data-admins], [data-events], form[data-form="invite"]')`) {
			t.Fatalf("%s: the 403 page still shows the page", p.path)
		}
	}
	if status := eval[int](ops, `fetch('/v1/admin/admins').then(r => r.status)`); status != http.StatusForbidden {
		t.Fatalf("the API answered an operations manager's list of admins with %d", status)
	}

	content := b.other("content")
	content.open("/admin/login", "admin-login")
	content.fill("login", "identifier", "content")
	content.fill("login", "password", adminPassword)
	content.submit("login")
	content.waitPage("admin-account") // the residents are not theirs: home is their account
	content.waitFor("the navigation", `!document.querySelector('nav li[hidden]')`)
	if got := eval[[]string](content, `[...document.querySelectorAll('nav a')].map(a => a.getAttribute('href'))`); len(got) != 1 || got[0] != "/admin/account" {
		t.Fatalf("a content manager's links: %v", got)
	}
	content.open("/admin/security", "admin-security")
	content.waitFor("the 403 page", `document.querySelector('[data-forbidden] h1')`)

	analyst := b.other("analyst")
	analyst.open("/admin/login", "admin-login")
	analyst.fill("login", "identifier", "analyst")
	analyst.fill("login", "password", adminPassword)
	analyst.submit("login")
	analyst.waitPage("admin-security")
	analyst.waitFor("events", `document.querySelector('[data-event-id]')`)
	analyst.open("/admin/admins", "admin-admins")
	analyst.waitFor("the 403 page", `document.querySelector('[data-forbidden] h1')`)
	ops.noErrors("/v1/admin/admins")
	content.noErrors()
	analyst.noErrors()
}

// An idle console warns a minute before its session ends, not earlier;
// "stay signed in" extends it; left alone, it leaves at the deadline.
func TestIdleConsoleWarnsThenLeaves(t *testing.T) {
	sys := startSystem(t)
	sys.admin("boss", "super_admin")
	tb := startBrowser(t, sys).tab("console")
	tb.login("admin", "boss", adminPassword, false)
	// The queue's own requests are a person's doing (opening the page): they
	// extend the session, so they must be done before the clock moves.
	tb.waitFor("the queue loaded", `!document.querySelector('[data-empty]').hidden || document.querySelector('[data-resident-id]')`)
	warning := `document.querySelector('[data-idle-warning]')`

	sys.clock.Advance(28 * time.Minute) // two minutes left
	tb.becomeVisible()
	time.Sleep(500 * time.Millisecond)
	if eval[bool](tb, `!!`+warning) {
		t.Fatal("the idle warning shows two minutes before the end")
	}
	sys.clock.Advance(time.Minute + 5*time.Second) // 55 s left
	tb.checksUntil("the idle warning", warning)
	if !eval[bool](tb, `document.activeElement.dataset.action === 'stay-signed-in'`) {
		t.Fatal("the idle warning's button does not have the focus")
	}
	tb.click(`[data-action="stay-signed-in"]`)
	tb.waitFor("the warning gone", `!`+warning)
	sys.clock.Advance(5 * time.Minute) // past the old deadline
	if !tb.sessionOf("admin") {
		t.Fatal("stay signed in did not extend the session")
	}
	tb.mark()

	sys.clock.Advance(24*time.Minute + 50*time.Second) // 10 s left of the new window
	tb.checksUntil("the idle warning", warning)
	time.Sleep(10 * time.Second) // the deadline passes, nobody touches anything
	tb.movedTo("admin-login", "session_expired")
	tb.noErrors()
}

// checksUntil makes the page look at its session (as it does when it
// becomes visible) until js holds: the pages' own timers run on the
// browser's clock, which the test does not move, so the test prompts the
// check the page would make by itself at that moment.
func (tb *tab) checksUntil(what, js string) {
	tb.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tb.becomeVisible()
		time.Sleep(300 * time.Millisecond)
		if eval[bool](tb, `!!(`+js+`)`) {
			return
		}
		if time.Now().After(deadline) {
			tb.fatalf("timed out waiting for %s (%s) while the page checked its session", what, js)
		}
	}
}

// TestQueueShowsMoreByCursor: the queue shows a page of residents and
// "show more" appends the next by the API's cursor until there is none.
func TestQueueShowsMoreByCursor(t *testing.T) {
	sys := startSystem(t)
	sys.admin("boss", "super_admin")
	for i := range 52 {
		if _, _, err := sys.app.Accounts.Register(t.Context(), account.Registration{
			FirstName: "Resident", LastName: fmt.Sprintf("No %02d", i), Email: fmt.Sprintf("r%02d@example.com", i),
			Phone: fmt.Sprintf("0917 555 %04d", i), Barangay: "Landayan", Password: residentPassword,
		}); err != nil {
			t.Fatal(err)
		}
	}
	adm := startBrowser(t, sys).tab("admin")
	adm.login("admin", "boss", adminPassword, false)
	rows := `document.querySelectorAll('[data-resident-id]').length`
	more := `document.querySelector('[data-action="more"]')`
	adm.waitFor("the first page", rows+` === 50 && !`+more+`.hidden`)
	adm.click(`[data-action="more"]`)
	adm.waitFor("the next page", rows+` === 52 && `+more+`.hidden`)
	if n := eval[int](adm, `new Set([...document.querySelectorAll('[data-resident-id]')].map(e => e.dataset.residentId)).size`); n != 52 {
		t.Fatalf("%d different residents listed, want 52", n)
	}
	adm.noErrors()
}
