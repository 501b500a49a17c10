package httpapi_test

import (
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/throttle"
)

// mariasRegistration is one registration, as a form sends it again.
func mariasRegistration(changes ...string) map[string]string {
	in := map[string]string{
		"first_name": "Maria", "last_name": "Santos", "email": "maria@example.com", "phone": "0918 123 4567",
		"barangay": "Poblacion", "password": "sampaguita jeepney harbor 77",
	}
	for i := 0; i+1 < len(changes); i += 2 {
		in[changes[i]] = changes[i+1]
	}
	return in
}

// A registration is safe to retry: sent again exactly (after its answer was
// lost, or came back 503 outcome_unknown) while the account is pending, it
// answers 200 with that account, in the 201's shape. Anything else that
// meets a taken email or phone (another password, other details, an
// account no longer pending) is the 409 it always was, byte for byte.
func TestRegistrationRetryGetsTheAccount(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		b := e.browser()
		register := func(in map[string]string) *response { return b.do("POST", "/v1/resident/register", in) }

		first := register(mariasRegistration())
		wantStatus(t, "registration", first, http.StatusCreated, "")
		id := first.str("account", "id")
		again := register(mariasRegistration("phone", "+63 918 123 4567", "first_name", " Maria "))
		wantStatus(t, "the same registration again", again, http.StatusOK, "")
		if !reflect.DeepEqual(again.json, first.json) {
			t.Errorf("the retry answered %s, the registration %s", again.body, first.body)
		}
		// Within the cooldown the codes of the first answer stand.
		if _, n := e.lastCode("maria@example.com"); n != 1 {
			t.Errorf("%d emails after the retry within the cooldown, want the registration's one", n)
		}

		// Today's 409, as a registration with someone else's email gets it.
		taken := register(map[string]string{"first_name": "Mario", "last_name": "Cruz", "email": "maria@example.com",
			"phone": "09189990000", "barangay": "Landayan", "password": "mango tricycle umbrella 42"})
		wantStatus(t, "another person with the email", taken, http.StatusConflict, "already_registered")
		for what, in := range map[string]map[string]string{
			"another password": mariasRegistration("password", "sampaguita jeepney harbor 78"),
			"another phone":    mariasRegistration("phone", "09187654321"),
			"only the phone":   mariasRegistration("email", "maria.s@example.com"),
			"another name":     mariasRegistration("last_name", "Santos-Reyes"),
			"another barangay": mariasRegistration("barangay", "Landayan"),
			"another language": mariasRegistration("language", "fil"),
		} {
			r := register(in)
			if r.status != http.StatusConflict || string(r.body) != string(taken.body) || !sameHeaders(r.header, taken.header) {
				t.Errorf("%s: %d %s, want the 409 of a taken email: %s", what, r.status, r.body, taken.body)
			}
		}

		// Once approved it is not a registration to finish any more. (An
		// hour on: the address has used up its registrations.)
		e.clock.Advance(time.Hour)
		e.changeStatus(id, "approve")
		wantStatus(t, "the same registration once approved", register(mariasRegistration()), http.StatusConflict, "already_registered")

		events, _, err := e.app.Store.QueryEvents(t.Context(), audit.Query{Type: audit.AccountRegistered, AccountID: id, Realm: account.Resident})
		if err != nil {
			t.Fatal(err)
		}
		repeats := 0
		for _, ev := range events {
			if ev.Details["repeated"] == "true" {
				repeats++
			}
		}
		if len(events) != 2 || repeats != 1 {
			t.Errorf("account_registered events: %d, %d of them repeated; want the registration and its one retry", len(events), repeats)
		}
	})
}

// sameHeaders compares two answers' headers but those that differ by
// request (its id, the date).
func sameHeaders(a, b http.Header) bool {
	a, b = a.Clone(), b.Clone()
	for _, h := range []string{"X-Request-Id", "Date"} {
		a.Del(h)
		b.Del(h)
	}
	return reflect.DeepEqual(a, b)
}

// A registration whose first attempt was stored but whose codes never went
// out (its answer was lost before them: the write's outcome unknown, the
// function stopped) gets them on its retry, so the person can verify.
func TestRegistrationRetrySendsTheCodes(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		// The first attempt's write, and nothing after it.
		a, repeated, err := e.app.Accounts.Register(t.Context(), account.Registration{
			FirstName: "Maria", LastName: "Santos", Email: "maria@example.com", Phone: "09181234567",
			Barangay: "Poblacion", Password: "sampaguita jeepney harbor 77",
		})
		if err != nil || repeated {
			t.Fatalf("register: %v (repeated %v)", err, repeated)
		}
		if _, n := e.lastCode("maria@example.com"); n != 0 {
			t.Fatalf("%d emails before the retry", n)
		}
		b := e.browser()
		r := b.do("POST", "/v1/resident/register", mariasRegistration())
		wantStatus(t, "the retry", r, http.StatusOK, "")
		if r.str("account", "id") != a.ID {
			t.Fatalf("the retry answered account %s, the stored one is %s", r.str("account", "id"), a.ID)
		}
		email, n := e.lastCode("maria@example.com")
		sms, m := e.lastCode("+639181234567")
		if n != 1 || m != 1 {
			t.Fatalf("the retry sent %d emails and %d SMS, want one of each", n, m)
		}
		for contact, code := range map[string]string{"maria@example.com": email, "0918 123 4567": sms} {
			if r := b.do("POST", "/v1/resident/register/verify", map[string]string{"identifier": contact, "code": code}); r.status != http.StatusNoContent {
				t.Errorf("verify %s with the retry's code: %d %s", contact, r.status, r.body)
			}
		}
	})
}

// A login that the store cut short before its password was checked, or a
// password change that failed after it, is no failed attempt: retried, it
// succeeds, however many came before, where as many wrong passwords would
// have locked the identifier and refused the address.
func TestAttemptsCutShortByTheStoreAreNotCounted(t *testing.T) {
	t.Parallel()
	real := openEmbedded(t)
	flaky := &flakyStore{Store: real}
	e := newEnv(t, withStore(flaky))
	e.approvedResident()
	limits := throttle.DefaultLimits
	cutShort := func(what, method string, do func() *response) {
		t.Helper()
		flaky.armMethod(method)
		r := do()
		if failed := flaky.disarm(); failed != method {
			t.Fatalf("%s: %d %s, and the store's %s did not fail", what, r.status, r.body, method)
		}
		wantStatus(t, what+" with the store failing", r, http.StatusServiceUnavailable, "unavailable")
	}
	b := e.browser()
	for i := range limits.LoginIP.Max + 1 {
		identifier := "juan@example.com"
		if i%2 == 1 {
			identifier = fmt.Sprintf("nobody%d@example.com", i)
		}
		cutShort("login", "LookupIdentifier", func() *response { return b.login("resident", identifier, residentPassword) })
	}
	b.mustLogin("resident", "juan@example.com", residentPassword)

	change := map[string]string{"current_password": residentPassword, "new_password": "kalabasa sitaw talong 2026"}
	for range limits.LoginFailures.Max + 1 {
		cutShort("password change", "UpdateAccountEndSessionsExcept", func() *response { return b.do("POST", "/v1/resident/password", change) })
	}
	if r := b.do("POST", "/v1/resident/password", change); r.status != http.StatusNoContent {
		t.Fatalf("password change after the failures: %d %s", r.status, r.body)
	}
	e.browser().mustLogin("resident", "09171234567", "kalabasa sitaw talong 2026")
}
