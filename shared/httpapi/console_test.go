package httpapi_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
)

// An admin's session answer says what the role may do (the console's
// navigation shows only that); a resident's has no permissions.
func TestAdminSessionSaysWhatTheRoleMayDo(t *testing.T) {
	e := newEnv(t)
	e.approvedResident()
	for role, want := range map[account.Role][]string{
		account.RoleSuperAdmin:            {"residents:read", "residents:manage", "admins:manage", "security_events:read", "sessions:revoke", "mfa:clear"},
		account.RoleOperationsManager:     {"residents:read", "residents:manage"},
		account.RoleContentRewardsManager: {},
		account.RoleSecurityAnalyst:       {"security_events:read", "sessions:revoke"},
	} {
		e.createAdmin("a_"+string(role), role, "Landayan")
		b := e.browser()
		b.mustLogin("admin", "a_"+string(role), adminPassword)
		for _, q := range []string{"", "?peek=1"} {
			r := b.do(http.MethodGet, "/v1/admin/session"+q, nil)
			wantStatus(t, string(role), r, http.StatusOK, "")
			got := []string{}
			if list, ok := r.json["permissions"].([]any); ok {
				for _, p := range list {
					got = append(got, p.(string))
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s%s: permissions %v, want %v", role, q, got, want)
			}
		}
	}
	b := e.browser()
	b.mustLogin("resident", "juan@example.com", residentPassword)
	if r := b.session("resident"); r.json["permissions"] != nil {
		t.Errorf("a resident's session has permissions: %s", r.body)
	}
}

// Every answer's Date is the API's own clock, the clock of the times in
// its bodies, so a page can tell how far its own clock is off.
func TestDateIsTheAPIsClock(t *testing.T) {
	e := newEnv(t)
	e.clock.Advance(29 * time.Minute)
	r := e.browser().do(http.MethodGet, "/v1/barangays", nil)
	got, err := http.ParseTime(r.header.Get("Date"))
	if err != nil {
		t.Fatalf("Date %q: %v", r.header.Get("Date"), err)
	}
	if d := got.Sub(e.clock.Now()); d < -2*time.Second || d > time.Second {
		t.Fatalf("Date %s, the API's clock %s", got, e.clock.Now())
	}
}
