package e2e

import (
	"net/http"
	"time"
)

// pendingResident registers a resident and verifies both contacts through
// the API, leaving it waiting for approval.
func (s *system) pendingResident(first, email, phone string) string {
	s.t.Helper()
	c := s.client()
	var reg struct{ Account struct{ ID, Phone string } }
	c.call(http.MethodPost, "/v1/resident/register", map[string]string{
		"first_name": first, "last_name": "Santos", "email": email, "phone": phone,
		"barangay": "Landayan", "password": residentPassword,
	}, http.StatusCreated, &reg)
	for _, contact := range []string{email, reg.Account.Phone} {
		c.call(http.MethodPost, "/v1/resident/register/verify", map[string]string{"identifier": contact, "code": s.lastCode(contact)}, http.StatusNoContent, nil)
	}
	return reg.Account.ID
}

// checkConsole checks every page of the admin console (TestEveryPageIsAccessible)
// in the states an admin meets them in; tb is signed in as the super admin.
func checkConsole(sys *system, b *browser, tb *tab, resident string) {
	tb.t.Helper()
	tb.waitFor("the queue", `document.querySelectorAll('[data-resident-id]').length === 2`)
	tb.check("admin-residents")
	tb.click(`[data-resident-id][data-status="pending"] [data-action="reject"]`)
	tb.waitFor("the confirmation", `document.querySelector('form[data-form="status-change"]')`)
	tb.submit("status-change")
	tb.errorShown("invalid_request")
	tb.check("admin-residents-confirm")

	tb.open("/admin/residents/"+resident, "admin-resident")
	tb.waitFor("the resident", `!document.querySelector('[data-resident]').hidden`)
	tb.check("admin-resident")
	tb.click(`[data-action="end-sessions"]`)
	tb.waitFor("the confirmation", `document.querySelector('[data-action="confirm-end-sessions"]')`)
	tb.check("admin-resident-end-sessions")

	tb.open("/admin/admins", "admin-admins")
	tb.waitFor("the admins", `document.querySelector('[data-admin-id] [data-action="change"]')`)
	tb.check("admin-admins")
	tb.click(`[data-admin-id] [data-action="change"]`)
	tb.waitFor("the change form", `document.querySelector('form[data-form="admin-change"]')`)
	tb.check("admin-admins-change")

	tb.open("/admin/security", "admin-security")
	tb.waitFor("events", `document.querySelector('[data-event-id]')`)
	tb.check("admin-security")

	tb.open("/admin/account", "admin-account")
	tb.waitFor("devices", `document.querySelector('[data-session-id]')`)
	tb.check("admin-account")
	// Two-step sign-in, from the admin's own account.
	if _, codes := tb.setUpApp("admin-mfa-enroll", true); len(codes) != 10 {
		tb.t.Fatalf("an admin's first factor came with %d recovery codes", len(codes))
	}
	if got := eval[string](tb, `(document.querySelector('[data-console-nav] a[aria-current="page"]') || {}).textContent`); got != "Your account" {
		tb.t.Errorf("the menu marks %q as the current page of the enrollment, want Your account", got)
	}
	tb.check("admin-mfa-enroll-codes")
	tb.click(`[data-action="continue"]`)
	tb.movedTo("admin-account", "authenticator_added")
	tb.waitFor("the app listed", `document.querySelector('[data-factor-type="totp"]')`)
	tb.check("admin-account-with-app")

	// The idle warning, a minute before the end.
	tb.open("/admin/", "admin-residents")
	tb.waitFor("the queue", `document.querySelector('[data-resident-id]')`)
	sys.clock.Advance(29*time.Minute + 20*time.Second)
	tb.becomeVisible()
	tb.waitFor("the idle warning", `document.querySelector('[data-idle-warning]')`)
	tb.check("admin-idle-warning")
	tb.click(`[data-action="stay-signed-in"]`)
	tb.waitFor("the warning gone", `!document.querySelector('[data-idle-warning]')`)

	reset := b.other("admin reset")
	reset.open("/admin/reset", "admin-reset")
	reset.check("admin-reset")
	reset.click(`[data-action="have-code"]`)
	reset.waitFor("the code step", `!document.querySelector('[data-step="verify"]').hidden`)
	reset.check("admin-reset-code")

	ops := b.other("operations manager")
	ops.login("admin", "ops", adminPassword, false)
	ops.open("/admin/admins", "admin-admins")
	ops.waitFor("the 403 page", `document.querySelector('[data-forbidden] h1')`)
	ops.check("admin-forbidden")
	tb.noErrors("/v1/admin/residents/", "/v1/admin/mfa/totp/confirm")
	reset.noErrors()
	ops.noErrors()
}
