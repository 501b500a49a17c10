package httpapi_test

import (
	"context"
	"slices"
	"testing"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/password"
)

const (
	joseNFC = "jos\u00e9@example.com"  // é precomposed
	joseNFD = "jose\u0301@example.com" // e and a combining acute accent
)

// One person, one account: an email typed in NFD is the account registered
// in NFC, at registration, login, contact verification and reset alike.
func TestLookAlikeEmailsAreOneAccount(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		b := e.browser()
		r := b.do("POST", "/v1/resident/register", map[string]string{"first_name": "Jose", "last_name": "Rizal",
			"email": joseNFC, "phone": "09171112222", "barangay": "Landayan", "password": residentPassword})
		if r.status != 201 {
			t.Fatalf("register: %d %s", r.status, r.body)
		}
		id := r.str("account", "id")
		r = b.do("POST", "/v1/resident/register", map[string]string{"first_name": "Jose", "last_name": "Rizal",
			"email": joseNFD, "phone": "09173334444", "barangay": "Landayan", "password": residentPassword})
		wantStatus(t, "the same email in NFD", r, 409, "already_registered")
		// The same, with the accent as a JSON escape.
		r = b.do("POST", "/v1/resident/register", `{"first_name":"Jose","last_name":"Rizal","email":"jose\u0301@example.com",`+
			`"phone":"09175556666","barangay":"Landayan","password":"mango tricycle umbrella 42"}`)
		wantStatus(t, "the same email in NFD, escaped", r, 409, "already_registered")

		code, _ := e.lastCode(joseNFC)
		if r := b.do("POST", "/v1/resident/register/verify", map[string]string{"identifier": joseNFD, "code": code}); r.status != 204 {
			t.Fatalf("verify by the NFD email: %d %s", r.status, r.body)
		}
		e.changeStatus(id, "approve")
		if r := e.browser().login("resident", joseNFD, residentPassword); r.status != 200 || r.str("account", "id") != id {
			t.Fatalf("login by the NFD email: %d %s", r.status, r.body)
		}
		before := len(e.outbox())
		if r := b.do("POST", "/v1/resident/password-reset", map[string]string{"identifier": joseNFD, "channel": "email"}); r.status != 202 {
			t.Fatalf("reset: %d %s", r.status, r.body)
		}
		if got := e.outbox(); len(got) != before+1 || got[len(got)-1].To != joseNFC {
			t.Fatalf("a reset asked by the NFD email sent %d messages, want one to %s", len(got)-before, joseNFC)
		}
	})
}

// Invisible characters (format characters and C1 controls) are refused in
// every text field; other text is stored in NFC.
func TestInvisibleTextIsRefused(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		b := e.browser()
		reg := func(field, value string) *response {
			body := map[string]string{"first_name": "Juan", "last_name": "Dela Cruz", "email": "juan@example.com",
				"phone": "09171234567", "barangay": "Landayan", "password": residentPassword}
			body[field] = value
			return b.do("POST", "/v1/resident/register", body)
		}
		for _, c := range []struct{ field, value, what string }{
			{"first_name", "Ju\u200ban", "zero-width space"},
			{"first_name", "Juan\u200d", "zero-width joiner"},
			{"last_name", "\u202eZURC ALED", "right-to-left override"},
			{"last_name", "Dela\u2066 Cruz\u2069", "bidi isolates"},
			{"first_name", "\ufeffJuan", "byte order mark"},
			{"first_name", "Juan\u0085", "C1 next line"},
			{"barangay", "Landa\u200byan", "zero-width space in the barangay"},
			{"barangay", "\u202dLandayan", "left-to-right override in the barangay"},
			{"email", "juan\u200b@example.com", "zero-width space in the email"},
			{"phone", "0917\u200b1234567", "zero-width space in the phone"},
			{"language", "en\u200b", "zero-width space in the language"},
		} {
			r := reg(c.field, c.value)
			wantStatus(t, c.what, r, 400, "invalid_request")
			if _, ok := r.get("error", "fields").(map[string]any)[c.field]; !ok {
				t.Errorf("%s: fields %v do not name %s", c.what, r.get("error", "fields"), c.field)
			}
		}
		if _, err := e.app.Store.LookupIdentifier(t.Context(), account.Resident, account.Identifier{Kind: account.KindEmail, Value: "juan@example.com"}); err == nil {
			t.Fatal("a refused registration stored an account")
		}
		// NFD names are stored in NFC.
		r := reg("first_name", "Nin\u0303o")
		if r.status != 201 || r.str("account", "first_name") != "Ni\u00f1o" {
			t.Fatalf("register with an NFD name: %d %s", r.status, r.body)
		}
		// Admin fields and a login identifier alike.
		e.createAdmin("boss", account.RoleSuperAdmin)
		boss := e.browser()
		boss.mustLogin("admin", "boss", adminPassword)
		r = boss.do("POST", "/v1/admin/admins", map[string]any{"username": "ana", "email": "ana@city.example.gov.ph",
			"full_name": "Ana\u200b Reyes", "role": "security_analyst"})
		wantStatus(t, "zero-width space in an admin's name", r, 400, "invalid_request")
		r = boss.do("POST", "/v1/admin/residents/"+account.NewID()+"/approve", map[string]string{"reason": "ok\u202e"})
		wantStatus(t, "override in a reason", r, 400, "invalid_request")
		wantStatus(t, "zero-width space in a login identifier", e.browser().login("admin", "bo\u200bss", adminPassword), 400, "invalid_request")
	})
}

func TestIPLiteralEmailDomainsAreRefused(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.createAdmin("boss", account.RoleSuperAdmin)
		boss := e.browser()
		boss.mustLogin("admin", "boss", adminPassword)
		for i, email := range []string{"a@[127.0.0.1]", "a@127.0.0.1", "a@[IPv6:::1]", "a@0x7f.1", "a@10.0.0.1"} {
			r := e.browser().do("POST", "/v1/resident/register", map[string]string{"first_name": "A", "last_name": "B",
				"email": email, "phone": "0917123456" + string(rune('0'+i)), "barangay": "Landayan", "password": residentPassword})
			wantStatus(t, "register "+email, r, 400, "invalid_request")
			if _, ok := r.get("error", "fields").(map[string]any)["email"]; !ok {
				t.Errorf("register %s: fields %v do not name email", email, r.get("error", "fields"))
			}
			r = boss.do("POST", "/v1/admin/admins", map[string]any{"username": "ana", "email": email, "full_name": "Ana Reyes", "role": "security_analyst"})
			wantStatus(t, "admin "+email, r, 400, "invalid_request")
		}
	})
}

// Barangays come from the directory: GET /v1/barangays lists it, and
// registration and admin assignments outside it are refused, while accounts
// that already hold a barangay outside it keep working.
func TestBarangayDirectory(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		b := e.browser()
		r := b.do("GET", "/v1/barangays", nil)
		if r.status != 200 {
			t.Fatalf("GET /v1/barangays: %d %s", r.status, r.body)
		}
		checkHeaders(t, r)
		var got []string
		for _, v := range r.get("barangays").([]any) {
			got = append(got, v.(string))
		}
		if !slices.Equal(got, config.DefaultBarangays) || len(got) != 27 || !slices.Contains(got, "Santo Ni\u00f1o") {
			t.Fatalf("barangays = %q, want San Pedro City's 27", got)
		}

		reg := func(email, phone, barangay string) *response {
			return b.do("POST", "/v1/resident/register", map[string]string{"first_name": "Juan", "last_name": "Dela Cruz",
				"email": email, "phone": phone, "barangay": barangay, "password": residentPassword})
		}
		for _, bad := range []string{"San Isidro", "Landayan City", "Pacita"} {
			r := reg("juan@example.com", "09171234567", bad)
			wantStatus(t, "register in "+bad, r, 400, "invalid_request")
			if r.str("error", "fields", "barangay") == "" {
				t.Errorf("register in %s: fields %v do not name barangay", bad, r.get("error", "fields"))
			}
		}
		// Case, spaces and Unicode form aside, the directory's spelling is stored.
		r = reg("juan@example.com", "09171234567", " santo nin\u0303o ")
		if r.status != 201 || r.str("account", "barangay") != "Santo Ni\u00f1o" {
			t.Fatalf("register in santo niño: %d %s", r.status, r.body)
		}

		e.createAdmin("boss", account.RoleSuperAdmin)
		boss := e.browser()
		boss.mustLogin("admin", "boss", adminPassword)
		r = boss.do("POST", "/v1/admin/admins", map[string]any{"username": "ops", "email": "ops@city.example.gov.ph",
			"full_name": "Olivia Ops", "role": "operations_manager", "barangays": []string{"Landayan", "San Isidro"}})
		wantStatus(t, "admin assigned outside the directory", r, 400, "invalid_request")
		if r.str("error", "fields", "barangays") == "" {
			t.Errorf("fields %v do not name barangays", r.get("error", "fields"))
		}
		r = boss.do("POST", "/v1/admin/admins", map[string]any{"username": "ops", "email": "ops@city.example.gov.ph",
			"full_name": "Olivia Ops", "role": "operations_manager", "barangays": []string{"landayan", "Santo Nin\u0303o"}})
		if r.status != 201 || !slices.Equal(stringsOf(r.get("account", "barangays")), []string{"Landayan", "Santo Ni\u00f1o"}) {
			t.Fatalf("create admin: %d %s", r.status, r.body)
		}
		ops := r.str("account", "id")
		r = boss.do("PATCH", "/v1/admin/admins/"+ops, map[string]any{"barangays": []string{"Nowhere"}})
		wantStatus(t, "admin reassigned outside the directory", r, 400, "invalid_request")
		if r.str("error", "fields", "barangays") == "" {
			t.Errorf("fields %v do not name barangays", r.get("error", "fields"))
		}

		// Accounts stored before the directory, with barangays outside it.
		ctx := context.Background()
		hash, err := password.NewHasher(cheapHash).Hash(residentPassword)
		if err != nil {
			t.Fatal(err)
		}
		old := account.Account{Realm: account.Resident, ID: account.NewID(), Status: account.StatusPending, Language: "en",
			FirstName: "Pedro", LastName: "Penduko", Email: "pedro@example.com", Phone: "+639175550000",
			Barangay: "San Isidro", PasswordHash: hash, CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
		oldOps := account.Account{Realm: account.Admin, ID: account.NewID(), Status: account.StatusActive, Language: "en",
			Username: "oldops", Email: "oldops@city.example.gov.ph", FullName: "Old Ops", Role: account.RoleOperationsManager,
			Barangays: []string{"San Isidro"}, EmailVerified: true, PasswordHash: hash, CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
		for _, a := range []account.Account{old, oldOps} {
			if err := e.app.Store.CreateAccount(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		if r := boss.do("GET", "/v1/admin/residents/"+old.ID, nil); r.status != 200 || r.str("account", "barangay") != "San Isidro" {
			t.Fatalf("read an old resident: %d %s", r.status, r.body)
		}
		e.changeStatus(old.ID, "approve")
		if r := e.browser().login("resident", "pedro@example.com", residentPassword); r.status != 200 || r.str("account", "barangay") != "San Isidro" {
			t.Fatalf("log in as an old resident: %d %s", r.status, r.body)
		}
		oldBrowser := e.browser()
		oldBrowser.mustLogin("admin", "oldops", residentPassword)
		r = oldBrowser.do("GET", "/v1/admin/residents?barangay=San%20Isidro", nil)
		if r.status != 200 || len(r.get("residents").([]any)) != 1 {
			t.Fatalf("an old operations manager lists an old barangay: %d %s", r.status, r.body)
		}
		// An assignment the admin holds may stay; new ones come from the directory.
		r = boss.do("PATCH", "/v1/admin/admins/"+oldOps.ID, map[string]any{"barangays": []string{"San Isidro", "Landayan"}, "full_name": "Old Ops Renamed"})
		if r.status != 200 || !slices.Equal(stringsOf(r.get("account", "barangays")), []string{"San Isidro", "Landayan"}) {
			t.Fatalf("keep an old assignment: %d %s", r.status, r.body)
		}
	})
}

// EKOLEK_BARANGAYS replaces the directory.
func TestBarangayDirectoryFromConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *config.Config, _ *app.Options) { c.Barangays = []string{"Malanday", "Santo Ni\u00f1o"} })
	r := e.browser().do("GET", "/v1/barangays", nil)
	if r.status != 200 || !slices.Equal(stringsOf(r.get("barangays")), []string{"Malanday", "Santo Ni\u00f1o"}) {
		t.Fatalf("GET /v1/barangays: %d %s", r.status, r.body)
	}
	r = e.browser().do("POST", "/v1/resident/register", map[string]string{"first_name": "Juan", "last_name": "Dela Cruz",
		"email": "juan@example.com", "phone": "09171234567", "barangay": "Landayan", "password": residentPassword})
	wantStatus(t, "a default barangay the configured directory lacks", r, 400, "invalid_request")
}

// strings is a JSON array of strings.
func stringsOf(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}
