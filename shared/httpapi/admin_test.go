package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/store/backend"
)

var allRoles = []account.Role{account.RoleSuperAdmin, account.RoleOperationsManager, account.RoleContentRewardsManager, account.RoleSecurityAnalyst}

// The permission matrix, route by route and role by role.
func TestPermissionMatrix(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		rid := e.approvedResident()
		for _, role := range allRoles {
			e.createAdmin(string(role), role, "Landayan")
		}
		target := e.createAdmin("target", account.RoleContentRewardsManager)
		routes := []struct {
			method, path string
			body         any
			allowed      []account.Role
		}{
			{"GET", "/v1/admin/residents", nil, []account.Role{account.RoleSuperAdmin, account.RoleOperationsManager}},
			{"GET", "/v1/admin/residents/" + rid, nil, []account.Role{account.RoleSuperAdmin, account.RoleOperationsManager}},
			{"POST", "/v1/admin/residents/" + rid + "/suspend", nil, []account.Role{account.RoleSuperAdmin, account.RoleOperationsManager}},
			{"GET", "/v1/admin/admins", nil, []account.Role{account.RoleSuperAdmin}},
			{"POST", "/v1/admin/admins", map[string]any{"username": "new-%s", "email": "new-%s@city.example.gov.ph", "full_name": "New Admin", "role": "security_analyst"}, []account.Role{account.RoleSuperAdmin}},
			{"PATCH", "/v1/admin/admins/" + target.ID, map[string]any{"full_name": "Renamed Admin"}, []account.Role{account.RoleSuperAdmin}},
			{"GET", "/v1/admin/security-events", nil, []account.Role{account.RoleSuperAdmin, account.RoleSecurityAnalyst}},
			{"DELETE", "/v1/admin/accounts/resident/" + rid + "/sessions", nil, []account.Role{account.RoleSuperAdmin, account.RoleSecurityAnalyst}},
		}
		res := e.browser()
		denials := 0
		for _, rt := range routes {
			for _, role := range allRoles {
				t.Run(rt.method+" "+rt.path+" as "+string(role), func(t *testing.T) {
					b := e.browser()
					b.mustLogin("admin", string(role), adminPassword)
					body := rt.body
					if m, ok := body.(map[string]any); ok && m["username"] != nil {
						body = map[string]any{"username": fmt.Sprintf("new-%s", role), "email": fmt.Sprintf("new-%s@city.example.gov.ph", role), "full_name": "New Admin", "role": "security_analyst"}
					}
					r := b.do(rt.method, rt.path, body)
					allowed := false
					for _, a := range rt.allowed {
						allowed = allowed || a == role
					}
					if allowed && r.status >= 400 {
						t.Fatalf("allowed role got %d %s", r.status, r.body)
					}
					if !allowed {
						wantStatus(t, "denied", r, 403, "forbidden")
						denials++
					}
					if rt.method == "POST" && rt.path == "/v1/admin/residents/"+rid+"/suspend" && allowed {
						b.do("POST", "/v1/admin/residents/"+rid+"/reactivate", nil)
					}
				})
			}
			// A live resident session is not an admin login.
			res.mustLogin("resident", "juan@example.com", residentPassword)
			if r := res.session("resident"); r.status != 200 {
				t.Fatalf("resident session: %d", r.status)
			}
			wantStatus(t, "resident cookie on "+rt.path, res.do(rt.method, rt.path, rt.body), 401, "unauthenticated")
		}
		if n := len(e.eventsOf(audit.AccessDenied)); n != denials {
			t.Fatalf("%d access_denied events for %d denials", n, denials)
		}
	})
}

func TestBarangayScope(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.createAdmin("ops", account.RoleOperationsManager, "Landayan")
		mine := e.register(e.browser(), "juan@example.com", "09171234567") // Landayan
		r := e.browser().do("POST", "/v1/resident/register", map[string]string{
			"first_name": "Maria", "last_name": "Santos", "email": "maria@example.com", "phone": "09181234567",
			"barangay": "San Roque", "password": "sampaguita jeepney harbor 77",
		})
		other := r.str("account", "id")
		ops := e.browser()
		ops.mustLogin("admin", "ops", adminPassword)

		list := ops.do("GET", "/v1/admin/residents", nil)
		if got := list.get("residents").([]any); len(got) != 1 || got[0].(map[string]any)["id"] != mine {
			t.Fatalf("ops sees %s", list.body)
		}
		if got := ops.do("GET", "/v1/admin/residents?barangay=San%20Roque", nil).get("residents").([]any); len(got) != 0 {
			t.Fatalf("ops sees another barangay by asking: %v", got)
		}
		if r := ops.do("GET", "/v1/admin/residents/"+mine, nil); r.status != 200 {
			t.Fatalf("own resident: %d", r.status)
		}
		wantStatus(t, "other barangay's resident", ops.do("GET", "/v1/admin/residents/"+other, nil), 404, "not_found")
		for _, act := range []string{"approve", "reject", "suspend", "reactivate"} {
			wantStatus(t, act+" in another barangay", ops.do("POST", "/v1/admin/residents/"+other+"/"+act, nil), 404, "not_found")
		}
		if a, _ := e.app.Accounts.Get(t.Context(), account.Resident, other); a.Status != account.StatusPending {
			t.Fatalf("out-of-scope resident changed to %s", a.Status)
		}
		if r := ops.do("POST", "/v1/admin/residents/"+mine+"/approve", map[string]string{"reason": "documents checked"}); r.status != 200 {
			t.Fatalf("approve own: %d %s", r.status, r.body)
		}
		// The super admin sees everyone; search by name, email and phone prefix.
		e.createAdmin("boss", account.RoleSuperAdmin)
		boss := e.browser()
		boss.mustLogin("admin", "boss", adminPassword)
		for q, want := range map[string]int{"mar": 1, "SANTOS": 1, "juan@": 1, "0918": 1, "+63917": 1, "dela": 1, "zzz": 0} {
			r := boss.do("GET", "/v1/admin/residents?q="+urlQuery(q), nil)
			if got := len(r.get("residents").([]any)); got != want {
				t.Errorf("q=%s: %d residents, want %d (%s)", q, got, want, r.body)
			}
		}
		// Detail: verified flags, history (who, when, why), active sessions.
		e.browser().mustLogin("resident", "juan@example.com", residentPassword)
		d := boss.do("GET", "/v1/admin/residents/"+mine, nil)
		hist, _ := d.get("status_history").([]any)
		if d.status != 200 || len(hist) != 1 || d.get("active_sessions") != float64(1) {
			t.Fatalf("detail: %s", d.body)
		}
		h := hist[0].(map[string]any)
		if h["from"] != "pending" || h["to"] != "approved" || h["reason"] != "documents checked" || h["by"] == "" {
			t.Fatalf("history entry %v", h)
		}
		if _, ok := d.get("account").(map[string]any)["phone_verified"]; !ok {
			t.Fatal("no verified flags")
		}
	})
}

func urlQuery(s string) string {
	out := ""
	for _, r := range s {
		switch r {
		case '+':
			out += "%2B"
		case '@':
			out += "%40"
		default:
			out += string(r)
		}
	}
	return out
}

func TestAdminInvitationAndManagement(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.createAdmin("boss", account.RoleSuperAdmin)
		boss := e.browser()
		boss.mustLogin("admin", "boss", adminPassword)
		r := boss.do("POST", "/v1/admin/admins", map[string]any{
			"username": "ana", "email": "ana@city.example.gov.ph", "full_name": "Ana Reyes",
			"role": "operations_manager", "barangays": []string{"Landayan", "Poblacion"},
		})
		if r.status != 201 || r.str("account", "username") != "ana" || r.get("invitation_sent") != true {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		if sixDigits.Match(r.body) {
			t.Fatalf("the response holds a code: %s", r.body)
		}
		wantStatus(t, "duplicate username", boss.do("POST", "/v1/admin/admins", map[string]any{
			"username": "ana", "email": "other@city.example.gov.ph", "full_name": "Other", "role": "security_analyst",
		}), 409, "already_registered")
		wantStatus(t, "bad role", boss.do("POST", "/v1/admin/admins", map[string]any{
			"username": "x1", "email": "x1@city.example.gov.ph", "full_name": "X", "role": "god",
		}), 400, "invalid_request")
		// No password yet: nothing logs in.
		wantStatus(t, "invited admin before setting a password", e.browser().login("admin", "ana", "anything at all here"), 401, "invalid_credentials")
		// The invitation code sets a password through the reset flow.
		code, n := e.lastCode("ana@city.example.gov.ph")
		if n != 1 || code == "" {
			t.Fatalf("%d invitation messages", n)
		}
		ana := e.browser()
		v := ana.do("POST", "/v1/admin/password-reset/verify", map[string]string{"identifier": "ana", "code": code})
		if v.status != 200 {
			t.Fatalf("verify invitation: %d %s", v.status, v.body)
		}
		if r := ana.do("POST", "/v1/admin/password-reset/confirm", map[string]string{"reset_token": v.str("reset_token"), "new_password": "kalabasa sitaw talong 2026"}); r.status != 204 {
			t.Fatalf("set password: %d %s", r.status, r.body)
		}
		ana.mustLogin("admin", "ana", "kalabasa sitaw talong 2026")
		anaID := lookup(t, e, "ana")

		// Suspending ends her sessions at once.
		r = boss.do("PATCH", "/v1/admin/admins/"+anaID, map[string]any{"status": "suspended", "reason": "left the office"})
		if r.status != 200 || r.get("sessions_ended") != float64(1) {
			t.Fatalf("suspend: %d %s", r.status, r.body)
		}
		wantStatus(t, "suspended admin's session", ana.session("admin"), 401, "unauthenticated")
		wantStatus(t, "suspended admin's login", ana.login("admin", "ana", "kalabasa sitaw talong 2026"), 403, "account_suspended")

		// Nobody changes their own role or status.
		bossID := lookup(t, e, "boss")
		wantStatus(t, "suspend myself", boss.do("PATCH", "/v1/admin/admins/"+bossID, map[string]any{"status": "suspended"}), 409, "cannot_change_self")
		if r := boss.do("PATCH", "/v1/admin/admins/"+bossID, map[string]any{"full_name": "Boss Admin"}); r.status != 200 {
			t.Fatalf("rename myself: %d %s", r.status, r.body)
		}
		// The last active super admin cannot be demoted or suspended.
		e.createAdmin("boss2", account.RoleSuperAdmin)
		boss2 := e.browser()
		boss2.mustLogin("admin", "boss2", adminPassword)
		if r := boss2.do("PATCH", "/v1/admin/admins/"+bossID, map[string]any{"status": "suspended"}); r.status != 200 {
			t.Fatalf("suspend the other super admin: %d %s", r.status, r.body)
		}
		wantStatus(t, "suspended boss", boss.session("admin"), 401, "unauthenticated")
		boss2ID := lookup(t, e, "boss2")
		boss2.mustLogin("admin", "boss2", adminPassword)
		if r := boss2.do("PATCH", "/v1/admin/admins/"+bossID, map[string]any{"status": "active"}); r.status != 200 {
			t.Fatalf("reactivate boss: %d %s", r.status, r.body)
		}
		boss.mustLogin("admin", "boss", adminPassword)
		if r := boss.do("PATCH", "/v1/admin/admins/"+boss2ID, map[string]any{"role": "security_analyst"}); r.status != 200 {
			t.Fatalf("demote boss2: %d %s", r.status, r.body)
		}
		// boss is now the last active super admin; only another super admin
		// could act on him, so through the API the self rule guards him, and
		// the service refuses outright (TestLastSuperAdmin* cover it directly).
		wantStatus(t, "the last super admin demoting himself", boss.do("PATCH", "/v1/admin/admins/"+bossID, map[string]any{"role": "security_analyst"}), 409, "cannot_change_self")
		r = boss.do("PATCH", "/v1/admin/admins/"+anaID, map[string]any{"status": "active", "role": "super_admin"})
		if r.status != 200 {
			t.Fatalf("promote: %d %s", r.status, r.body)
		}
		ana.mustLogin("admin", "ana", "kalabasa sitaw talong 2026")
		if r := ana.do("PATCH", "/v1/admin/admins/"+bossID, map[string]any{"role": "security_analyst"}); r.status != 200 {
			t.Fatalf("demote with another super admin: %d %s", r.status, r.body)
		}
		list := boss.do("GET", "/v1/admin/admins", nil)
		wantStatus(t, "demoted boss listing admins", list, 403, "forbidden")
		if n := len(e.eventsOf(audit.AdminCreated)); n != 1 {
			t.Fatalf("%d admin_created events", n)
		}
		if n := len(e.eventsOf(audit.AdminUpdated)); n != 7 {
			t.Fatalf("%d admin_updated events", n)
		}
	})
}

func TestMySessionsAcrossThreeBrowsers(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.approvedResident()
		other := e.register(e.browser(), "maria@example.com", "09181234567")
		e.changeStatus(other, "approve")
		phone, laptop, tablet := e.browser(), e.browser(), e.browser()
		for i, b := range []*browser{phone, laptop, tablet} {
			b.header.Set("User-Agent", fmt.Sprintf("device-%d", i))
			b.mustLogin("resident", "juan@example.com", residentPassword)
		}
		maria := e.browser()
		maria.mustLogin("resident", "maria@example.com", residentPassword)

		r := phone.do("GET", "/v1/resident/sessions", nil)
		list := r.get("sessions").([]any)
		if len(list) != 3 {
			t.Fatalf("%d sessions: %s", len(list), r.body)
		}
		current := 0
		var laptopID string
		for _, v := range list {
			s := v.(map[string]any)
			if s["current"] == true {
				current++
			}
			if s["user_agent"] == "device-1" {
				laptopID = s["id"].(string)
			}
			if s["id"] == sessionIDOf(t, phone.cookie("ekolek_session")) {
				t.Fatal("the handle is the raw session id")
			}
		}
		if current != 1 || laptopID == "" {
			t.Fatalf("current=%d laptop=%q", current, laptopID)
		}
		thief := e.browser()
		thief.setCookie("ekolek_session", laptopID)
		wantStatus(t, "a handle as a cookie", thief.session("resident"), 401, "unauthenticated")
		// Someone else's handle is not found.
		mariaID := maria.do("GET", "/v1/resident/sessions", nil).get("sessions").([]any)[0].(map[string]any)["id"].(string)
		wantStatus(t, "someone else's session", phone.do("DELETE", "/v1/resident/sessions/"+mariaID, nil), 404, "not_found")
		if r := maria.session("resident"); r.status != 200 {
			t.Fatal("maria's session ended")
		}
		if r := phone.do("DELETE", "/v1/resident/sessions/"+laptopID, nil); r.status != 204 {
			t.Fatalf("end laptop: %d %s", r.status, r.body)
		}
		wantStatus(t, "laptop", laptop.session("resident"), 401, "unauthenticated")
		r = phone.do("DELETE", "/v1/resident/sessions", nil)
		if r.status != 200 || r.get("revoked") != float64(1) {
			t.Fatalf("end others: %d %s", r.status, r.body)
		}
		wantStatus(t, "tablet", tablet.session("resident"), 401, "unauthenticated")
		if r := phone.session("resident"); r.status != 200 {
			t.Fatal("the current session ended")
		}
		wantStatus(t, "without CSRF", phone.do("DELETE", "/v1/resident/sessions", nil, "X-CSRF-Token", ""), 403, "csrf_failed")
	})
}

func TestPasswordChange(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.verifiedResident(false)
		a, b := e.browser(), e.browser()
		a.mustLogin("resident", "juan@example.com", residentPassword)
		b.mustLogin("resident", "juan@example.com", residentPassword)
		change := func(cur, next string) *response {
			return a.do("POST", "/v1/resident/password", map[string]string{"current_password": cur, "new_password": next})
		}
		// A weak new password with the right current one is refused without
		// counting toward the lock, however often.
		for i := 0; i < 6; i++ {
			wantStatus(t, "weak", change(residentPassword, "juandelacruz"), 400, "weak_password")
		}
		wantStatus(t, "wrong current", change("not my password", "kalabasa sitaw talong 2026"), 400, "invalid_credentials")
		if r := change(residentPassword, "kalabasa sitaw talong 2026"); r.status != 204 {
			t.Fatalf("change: %d %s", r.status, r.body)
		}
		if r := a.session("resident"); r.status != 200 {
			t.Fatal("the changing session ended")
		}
		wantStatus(t, "other session", b.session("resident"), 401, "unauthenticated")
		e.browser().mustLogin("resident", "juan@example.com", "kalabasa sitaw talong 2026")
		notices := 0
		for _, m := range e.outbox() {
			if m.To == "juan@example.com" && !sixDigits.MatchString(m.Body) {
				notices++
			}
		}
		if notices != 1 {
			t.Fatalf("%d notices", notices)
		}
		// Wrong current passwords count toward the login lock.
		for i := 0; i < 5; i++ {
			change("not my password", "another good passphrase 99")
		}
		wantStatus(t, "login after 5 wrong current passwords", e.browser().login("resident", "juan@example.com", "kalabasa sitaw talong 2026"), 429, "too_many_attempts")
		e.clock.Advance(16 * time.Minute)
		e.browser().mustLogin("resident", "juan@example.com", "kalabasa sitaw talong 2026")
	})
}

func TestAdminRevokesEverySession(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		rid := e.approvedResident()
		e.createAdmin("analyst", account.RoleSecurityAnalyst)
		x, y := e.browser(), e.browser()
		x.mustLogin("resident", "juan@example.com", residentPassword)
		y.mustLogin("resident", "juan@example.com", residentPassword)
		sa := e.browser()
		sa.mustLogin("admin", "analyst", adminPassword)
		r := sa.do("DELETE", "/v1/admin/accounts/resident/"+rid+"/sessions", nil)
		if r.status != 200 || r.get("revoked") != float64(2) {
			t.Fatalf("revoke: %d %s", r.status, r.body)
		}
		wantStatus(t, "x", x.session("resident"), 401, "unauthenticated")
		wantStatus(t, "y", y.session("resident"), 401, "unauthenticated")
		wantStatus(t, "unknown account", sa.do("DELETE", "/v1/admin/accounts/resident/"+account.NewID()+"/sessions", nil), 404, "not_found")
		wantStatus(t, "bad realm", sa.do("DELETE", "/v1/admin/accounts/staff/"+rid+"/sessions", nil), 404, "not_found")
		_ = http.MethodDelete
	})
}

// TestAnalystCannotEndSuperAdminSessions: a security analyst ends the
// sessions of residents and of admins not above them, never a super
// admin's; a super admin ends anyone's.
func TestAnalystCannotEndSuperAdminSessions(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		boss := e.createAdmin("boss", account.RoleSuperAdmin)
		peer := e.createAdmin("peer", account.RoleSecurityAnalyst)
		ops := e.createAdmin("ops", account.RoleOperationsManager, "Poblacion")
		analyst := e.createAdmin("analyst", account.RoleSecurityAnalyst)
		bossBrowser, opsBrowser := e.browser(), e.browser()
		bossBrowser.mustLogin("admin", "boss", adminPassword)
		opsBrowser.mustLogin("admin", "ops", adminPassword)
		sa := e.browser()
		sa.mustLogin("admin", "analyst", adminPassword)

		wantStatus(t, "analyst ending a super admin's sessions", sa.do("DELETE", "/v1/admin/accounts/admin/"+boss.ID+"/sessions", nil), 403, "forbidden")
		if r := bossBrowser.session("admin"); r.status != 200 {
			t.Fatalf("the super admin was signed out by a refused revocation: %d %s", r.status, r.body)
		}
		for _, target := range []account.Account{peer, ops} {
			if r := sa.do("DELETE", "/v1/admin/accounts/admin/"+target.ID+"/sessions", nil); r.status != 200 {
				t.Fatalf("analyst ending %s's sessions: %d %s", target.Username, r.status, r.body)
			}
		}
		wantStatus(t, "ops after the analyst ended its sessions", opsBrowser.session("admin"), 401, "unauthenticated")
		if r := bossBrowser.do("DELETE", "/v1/admin/accounts/admin/"+analyst.ID+"/sessions", nil); r.status != 200 {
			t.Fatalf("super admin ending the analyst's sessions: %d %s", r.status, r.body)
		}
		wantStatus(t, "the analyst after a super admin ended its sessions", sa.session("admin"), 401, "unauthenticated")
	})
}

// sessionIDOf is the raw session id inside a session cookie.
func sessionIDOf(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	var c struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal([]byte(decodeB64URL(t, parts[1])), &c); err != nil || c.SID == "" {
		t.Fatalf("no sid in %q", token)
	}
	return c.SID
}

// laggingStore answers admin listings from a snapshot taken before the most
// recent writes, as DynamoDB's index can.
type laggingStore struct {
	backend.Store
	stale []account.Account
}

func (l *laggingStore) ListAccounts(ctx context.Context, q account.ListQuery) ([]account.Account, string, error) {
	if q.Realm == account.Admin && l.stale != nil {
		var out []account.Account
		for _, a := range l.stale {
			if q.Status == "" || a.Status == q.Status {
				out = append(out, a)
			}
		}
		return out, "", nil
	}
	return l.Store.ListAccounts(ctx, q)
}

// A listing that lags behind a demotion must not let the last super admin go.
func TestLastSuperAdminWithALaggingListing(t *testing.T) {
	t.Parallel()
	real := openEmbedded(t)
	lag := &laggingStore{Store: real}
	e := newEnv(t, withStore(lag))
	e.createAdmin("boss", account.RoleSuperAdmin)
	e.createAdmin("boss2", account.RoleSuperAdmin)
	before, _, err := real.ListAccounts(t.Context(), account.ListQuery{Realm: account.Admin, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.mustLogin("admin", "boss", adminPassword)
	if r := b.do("PATCH", "/v1/admin/admins/"+lookup(t, e, "boss2"), map[string]any{"role": "security_analyst"}); r.status != 200 {
		t.Fatalf("demote boss2: %d %s", r.status, r.body)
	}
	actor := account.Account{ID: account.NewID(), Realm: account.Admin, Role: account.RoleSuperAdmin}
	suspended, demoted := "suspended", "security_analyst"
	// boss is the last: refused with an up-to-date listing...
	for _, ch := range []account.AdminChange{{Status: &suspended}, {Role: &demoted}} {
		if _, _, _, err := e.app.Accounts.UpdateAdmin(t.Context(), actor, lookup(t, e, "boss"), ch); !errors.Is(err, account.ErrLastSuperAdmin) {
			t.Fatalf("changing the last super admin: %v", err)
		}
	}
	// ...and with a listing that still shows boss2 as an active super admin.
	lag.stale = before
	_, _, _, err = e.app.Accounts.UpdateAdmin(t.Context(), actor, lookup(t, e, "boss"), account.AdminChange{Status: &suspended})
	if !errors.Is(err, account.ErrLastSuperAdmin) {
		t.Fatalf("suspending the last super admin behind a lagging listing: %v", err)
	}
}
