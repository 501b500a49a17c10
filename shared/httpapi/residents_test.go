package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ekolek/identity/shared/account"
)

func TestRegistration(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		b := e.browser()
		r := b.do("POST", "/v1/resident/register", map[string]string{
			"first_name": " Juan ", "last_name": "Dela Cruz", "email": "Juan@Example.com", "phone": "0917 123 4567",
			"barangay": "Landayan", "password": residentPassword,
		})
		if r.status != http.StatusCreated {
			t.Fatalf("register: %d %s", r.status, r.body)
		}
		for k, want := range map[string]string{"status": "pending", "email": "juan@example.com", "phone": "+639171234567", "first_name": "Juan", "realm": "resident"} {
			if got := r.str("account", k); got != want {
				t.Errorf("account.%s = %q, want %q", k, got, want)
			}
		}
		if _, ok := r.get("account").(map[string]any)["password_hash"]; ok {
			t.Error("response shows the password hash")
		}

		dup := func(email, phone string) *response {
			return b.do("POST", "/v1/resident/register", map[string]string{
				"first_name": "Maria", "last_name": "Santos", "email": email, "phone": phone,
				"barangay": "Poblacion", "password": "sampaguita jeepney harbor 77",
			})
		}
		wantStatus(t, "same email, other case", dup("JUAN@example.com", "09181234567"), 409, "already_registered")
		wantStatus(t, "same phone, +63 form", dup("maria@example.com", "+63 917 123 4567"), 409, "already_registered")
		wantStatus(t, "same phone, 63 form", dup("maria@example.com", "639171234567"), 409, "already_registered")
		// The refused attempts claimed nothing: maria can still register.
		if r := dup("maria@example.com", "09181234567"); r.status != http.StatusCreated {
			t.Fatalf("maria after refused duplicates: %d %s", r.status, r.body)
		}
		// The same email may be an admin too: realms are separate.
		if _, err := e.app.Accounts.CreateAdmin(t.Context(), account.NewAdmin{Username: "juan", Email: "juan@example.com", FullName: "Juan Admin", Role: "security_analyst", Password: adminPassword}); err != nil {
			t.Fatalf("admin with a resident's email: %v", err)
		}

		weak := b.do("POST", "/v1/resident/register", map[string]string{
			"first_name": "Pedro", "last_name": "Reyes", "email": "pedro@example.com", "phone": "09191234567",
			"barangay": "Poblacion", "password": "09191234567pedro",
		})
		wantStatus(t, "weak password", weak, 400, "weak_password")
		if reasons, _ := weak.get("error", "reasons").([]any); len(reasons) == 0 {
			t.Fatalf("weak_password without reasons: %s", weak.body)
		}
		wantStatus(t, "short password", b.do("POST", "/v1/resident/register", map[string]string{
			"first_name": "Pedro", "last_name": "Reyes", "email": "pedro@example.com", "phone": "09191234567",
			"barangay": "Poblacion", "password": "Xy7#q",
		}), 400, "weak_password")
		missing := b.do("POST", "/v1/resident/register", map[string]string{"email": "x"})
		wantStatus(t, "missing fields", missing, 400, "invalid_request")
		fields, _ := missing.get("error", "fields").(map[string]any)
		for _, f := range []string{"first_name", "last_name", "email", "phone", "barangay", "password"} {
			if _, ok := fields[f]; !ok {
				t.Errorf("fields %v do not name %s", fields, f)
			}
		}
	})
}

func TestStatusIsToldOnlyAfterACorrectPassword(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.createAdmin("boss", account.RoleSuperAdmin)
		ids := map[string]string{}
		for i, st := range []string{"pending", "approved", "rejected", "suspended"} {
			ids[st] = e.register(e.browser(), st+"@example.com", fmt.Sprintf("0917000000%d", i))
		}
		e.changeStatus(ids["approved"], "approve")
		e.changeStatus(ids["rejected"], "reject")
		e.changeStatus(ids["suspended"], "approve")
		e.changeStatus(ids["suspended"], "suspend")

		var wrongBodies []string
		for _, st := range []string{"pending", "approved", "rejected", "suspended"} {
			b := e.browser()
			r := b.login("resident", st+"@example.com", "not the password at all")
			wantStatus(t, st+" wrong password", r, 401, "invalid_credentials")
			wrongBodies = append(wrongBodies, string(r.body))
			r = b.login("resident", st+"@example.com", residentPassword)
			if st == "approved" {
				if r.status != 200 {
					t.Fatalf("approved: %d", r.status)
				}
				continue
			}
			wantStatus(t, st+" right password", r, 403, "account_"+st)
			if b.cookie("ekolek_session") != "" {
				t.Fatalf("%s got a session cookie", st)
			}
		}
		unknown := e.browser().login("resident", "nobody@example.com", "not the password at all")
		wantStatus(t, "unknown account", unknown, 401, "invalid_credentials")
		wrongBodies = append(wrongBodies, string(unknown.body))
		for _, body := range wrongBodies[1:] {
			if body != wrongBodies[0] {
				t.Fatalf("wrong-password answers differ:\n%s\n%s", wrongBodies[0], body)
			}
		}
		// A suspended admin is refused the same way.
		e.createAdmin("gone", account.RoleSecurityAnalyst)
		gone, _ := e.app.Accounts.Get(t.Context(), account.Admin, lookup(t, e, "gone"))
		gone.Status = account.StatusSuspended
		if err := e.app.Store.UpdateAccount(t.Context(), gone); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, "suspended admin", e.browser().login("admin", "gone", adminPassword), 403, "account_suspended")
		wantStatus(t, "suspended admin wrong password", e.browser().login("admin", "gone", "nope nope nope"), 401, "invalid_credentials")
	})
}

func lookup(t *testing.T, e *env, username string) string {
	t.Helper()
	id, err := e.app.Store.LookupIdentifier(t.Context(), account.Admin, account.Identifier{Kind: account.KindUsername, Value: username})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestApprovalRolesAndEffects(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		for _, role := range []account.Role{account.RoleSuperAdmin, account.RoleOperationsManager, account.RoleContentRewardsManager, account.RoleSecurityAnalyst} {
			e.createAdmin(string(role), role, "Landayan")
		}
		id := e.register(e.browser(), "juan@example.com", "09171234567")
		path := func(action string) string { return "/v1/admin/residents/" + id + "/" + action }

		for _, role := range []account.Role{account.RoleContentRewardsManager, account.RoleSecurityAnalyst} {
			b := e.browser()
			b.mustLogin("admin", string(role), adminPassword)
			wantStatus(t, string(role)+" list", b.do("GET", "/v1/admin/residents", nil), 403, "forbidden")
			wantStatus(t, string(role)+" approve", b.do("POST", path("approve"), nil), 403, "forbidden")
		}
		wantStatus(t, "anonymous list", e.browser().do("GET", "/v1/admin/residents", nil), 401, "unauthenticated")

		ops := e.browser()
		ops.mustLogin("admin", "operations_manager", adminPassword)
		r := ops.do("GET", "/v1/admin/residents?status=pending", nil)
		if r.status != 200 {
			t.Fatalf("list: %d %s", r.status, r.body)
		}
		if list, _ := r.get("residents").([]any); len(list) != 1 {
			t.Fatalf("pending list = %s", r.body)
		}
		wantStatus(t, "bad status filter", ops.do("GET", "/v1/admin/residents?status=deleted", nil), 400, "invalid_request")
		wantStatus(t, "bad limit", ops.do("GET", "/v1/admin/residents?limit=0", nil), 400, "invalid_request")
		wantStatus(t, "bad cursor", ops.do("GET", "/v1/admin/residents?cursor=zzz", nil), 400, "invalid_request")
		wantStatus(t, "suspend a pending resident", ops.do("POST", path("suspend"), nil), 409, "invalid_status_transition")
		wantStatus(t, "unknown resident", ops.do("POST", "/v1/admin/residents/"+account.NewID()+"/approve", nil), 404, "not_found")
		wantStatus(t, "malformed id", ops.do("POST", "/v1/admin/residents/nope/approve", nil), 404, "not_found")
		wantStatus(t, "oversized id", ops.do("POST", "/v1/admin/residents/"+strings.Repeat("a", 3000)+"/approve", nil), 404, "not_found")
		wantStatus(t, "unknown action", ops.do("POST", path("delete"), nil), 404, "not_found")
		if r := ops.do("POST", path("approve"), map[string]string{"reason": "documents checked"}); r.status != 200 || r.str("account", "status") != "approved" {
			t.Fatalf("approve: %d %s", r.status, r.body)
		}

		// Suspension ends every session of the resident at once, in both of his browsers.
		phone, laptop := e.browser(), e.browser()
		phone.mustLogin("resident", "juan@example.com", residentPassword)
		laptop.mustLogin("resident", "09171234567", residentPassword)
		r = ops.do("POST", path("suspend"), nil)
		if r.status != 200 || r.get("sessions_ended") != float64(2) {
			t.Fatalf("suspend: %d %s", r.status, r.body)
		}
		wantStatus(t, "phone after suspension", phone.session("resident"), 401, "unauthenticated")
		wantStatus(t, "laptop after suspension", laptop.session("resident"), 401, "unauthenticated")
		wantStatus(t, "login while suspended", phone.login("resident", "juan@example.com", residentPassword), 403, "account_suspended")
		if r := ops.do("POST", path("reactivate"), nil); r.status != 200 || r.str("account", "status") != "approved" {
			t.Fatalf("reactivate: %d %s", r.status, r.body)
		}
		phone.mustLogin("resident", "juan@example.com", residentPassword)

		// Rejection ends sessions too (a rejected, formerly approved account cannot linger).
		other := e.register(e.browser(), "maria@example.com", "09181234567")
		super := e.browser()
		super.mustLogin("admin", "super_admin", adminPassword)
		if r := super.do("POST", "/v1/admin/residents/"+other+"/reject", nil); r.status != 200 || r.str("account", "status") != "rejected" {
			t.Fatalf("reject: %d %s", r.status, r.body)
		}
		wantStatus(t, "rejected login", e.browser().login("resident", "maria@example.com", residentPassword), 403, "account_rejected")
	})
}

func TestResidentListingPages(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.createAdmin("boss", account.RoleSuperAdmin)
		for i := 0; i < 7; i++ {
			e.register(e.browser(), fmt.Sprintf("r%d@example.com", i), fmt.Sprintf("0917000000%d", i))
		}
		b := e.browser()
		b.mustLogin("admin", "boss", adminPassword)
		seen := map[string]bool{}
		cursor := ""
		for page := 0; page < 10; page++ {
			path := "/v1/admin/residents?limit=3"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			r := b.do("GET", path, nil)
			if r.status != 200 {
				t.Fatalf("page %d: %d %s", page, r.status, r.body)
			}
			for _, v := range r.get("residents").([]any) {
				id := v.(map[string]any)["id"].(string)
				if seen[id] {
					t.Fatalf("%s listed twice", id)
				}
				seen[id] = true
			}
			next, _ := r.get("next_cursor").(string)
			if next == "" {
				break
			}
			cursor = next
		}
		if len(seen) != 7 {
			t.Fatalf("listed %d of 7 residents", len(seen))
		}
	})
}
