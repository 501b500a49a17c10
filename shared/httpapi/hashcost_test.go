package httpapi_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/password"
)

// The tests in this file are the behaviour tests about the password hash
// itself, so they run with the production argon2id parameters
// (productionHash); every other env hashes with cheapHash.

// productionPHC starts every hash made with password.DefaultParams.
const productionPHC = "$argon2id$v=19$m=19456,t=2,p=1$"

// TestLoginAtProductionCost: at the production parameters a registration
// stores its hash at those parameters and the right password logs in; a
// wrong password for a real account and an identifier no account has are
// refused alike and take about as long (each spends one full verification,
// password.Hasher.Burn for the unknown one), so the time of a refusal does
// not tell who has an account.
func TestLoginAtProductionCost(t *testing.T) {
	t.Parallel()
	e := newEnv(t, productionHash())
	id := e.approvedResident()
	a, err := e.app.Accounts.Get(context.Background(), account.Resident, id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.PasswordHash, productionPHC) {
		t.Fatalf("registration stored %q, want a hash at the production parameters (%s...)", a.PasswordHash, productionPHC)
	}
	e.browser().mustLogin("resident", "juan@example.com", residentPassword)

	// Interleaved, so that a busy machine slows both alike; each round in a
	// fresh 16 minutes, so that no lock or per-address limit (which would
	// answer before any hash) is reached.
	timed := func(identifier string) time.Duration {
		start := time.Now()
		r := e.browser().login("resident", identifier, "not the password at all")
		took := time.Since(start)
		wantStatus(t, "wrong login for "+identifier, r, http.StatusUnauthorized, "invalid_credentials")
		return took
	}
	var known, unknown []time.Duration
	for range 7 {
		e.clock.Advance(16 * time.Minute)
		known = append(known, timed("juan@example.com"))
		unknown = append(unknown, timed("nobody@example.com"))
	}
	median := func(d []time.Duration) time.Duration { slices.Sort(d); return d[len(d)/2] }
	k, u := median(known), median(unknown)
	t.Logf("refused login, median of 7: known account %v, unknown identifier %v", k, u)
	// Without the burn an unknown identifier costs a fraction of a known
	// one (a few store calls against a 20 ms hash); with it, about the same.
	if u < k/2 {
		t.Errorf("an unknown identifier is refused in %v, a wrong password for a real account in %v: timing tells them apart", u, k)
	}
}

// TestLoginRehashesAtTheCurrentParameters: an account whose stored hash was
// made with other parameters (here cheapHash, as if the cost had been
// raised since) is rehashed at the production parameters when it logs in
// with the right password, and not by a wrong one.
func TestLoginRehashesAtTheCurrentParameters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, productionHash())
	old, err := password.NewHasher(cheapHash).Hash(residentPassword)
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	a := account.Account{Realm: account.Resident, ID: account.NewID(), Status: account.StatusPending, Language: "en",
		FirstName: "Pedro", LastName: "Penduko", Email: "pedro@example.com", Phone: "+639175550000",
		Barangay: "Landayan", PasswordHash: old, CreatedAt: now, UpdatedAt: now}
	if err := e.app.Store.CreateAccount(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	e.changeStatus(a.ID, "approve")
	stored := func() string {
		t.Helper()
		got, err := e.app.Accounts.Get(context.Background(), account.Resident, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.PasswordHash
	}

	wantStatus(t, "wrong password", e.browser().login("resident", "pedro@example.com", "not the password at all"), http.StatusUnauthorized, "invalid_credentials")
	if got := stored(); got != old {
		t.Fatalf("a wrong password rewrote the hash: %q, was %q", got, old)
	}
	e.browser().mustLogin("resident", "pedro@example.com", residentPassword)
	got := stored()
	if got == old || !strings.HasPrefix(got, productionPHC) {
		t.Fatalf("after a login the hash is %q, want a new one at the production parameters (%s...)", got, productionPHC)
	}
	if ok, rehash, err := password.NewHasher(password.DefaultParams).Verify(residentPassword, got); !ok || rehash || err != nil {
		t.Fatalf("the new hash does not verify the password: ok %v, rehash %v, %v", ok, rehash, err)
	}
	e.browser().mustLogin("resident", "pedro@example.com", residentPassword)
}
