// Package storetest is the conformance suite every store implementation
// passes: it checks the documented contract of the store ports
// (account.Store, session.Store, throttle.Store, code.Store, outbox.Store,
// audit.Store and the transactions of contact.Store and reset.Store),
// through those interfaces only.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/store/backend"
)

// Store is what the suite tests: every store port on one backing store.
type Store = backend.Store

// Run runs the suite. newStore returns a fresh, empty store for each subtest
// and arranges any clean-up (closing, deleting a table) with t.Cleanup; the
// suite itself never closes a store, as closing is not part of the ports.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"CreateAccount/RoundTrip", testCreateRoundTrip},
		{"CreateAccount/SameID", testCreateSameID},
		{"CreateAccount/ClaimsIdentifiers", testCreateClaims},
		{"CreateAccount/Concurrent", testCreateConcurrent},
		{"GetAccount/NotFound", testGetAccountNotFound},
		{"LookupIdentifier", testLookupIdentifier},
		{"UpdateAccount", testUpdateAccount},
		{"UpdateAccount/NotFound", testUpdateAccountNotFound},
		{"UpdateAccountEndSessions", testUpdateEndSessions},
		{"UpdateAccountEndSessions/Conflict", testUpdateEndSessionsConflict},
		{"UpdateAccountEndSessions/NotFound", testUpdateEndSessionsNotFound},
		{"UpdateAccountEndSessions/ManySessions", testUpdateEndSessionsMany},
		{"ListAccounts/Order", testListOrder},
		{"ListAccounts/Paging", testListPaging},
		{"ListAccounts/StatusFilter", testListStatusFilter},
		{"ListAccounts/FollowsStatusChange", testListStatusChange},
		{"ListAccounts/InvalidCursor", testListInvalidCursor},
		{"ListAccounts/Filters", testListFilters},
		{"ListAccounts/FilterPaging", testListFilterPaging},
		{"ListAccounts/CursorOtherFilters", testListCursorFilters},
		{"Account/History", testHistory},
		{"UpdateAccountEndSessionsExcept", testUpdateEndSessionsExcept},
		{"UpdateAccountEndSessionsExcept/Conflict", testUpdateEndSessionsExceptConflict},
		{"UpdateAccountEndSessionsExcept/ManySessions", testUpdateEndSessionsExceptMany},
		{"Roster/UpdateAdmin", testUpdateAdmin},
		{"Roster/Refused", testUpdateAdminRefused},
		{"Roster/ManySessions", testUpdateAdminMany},
		{"Roster/Concurrent", testUpdateAdminConcurrent},
		{"Session/RoundTrip", testSessionRoundTrip},
		{"Session/DuplicateKey", testSessionDuplicate},
		{"Session/Replace", testSessionReplace},
		{"Session/GetNotFound", testSessionNotFound},
		{"Session/GetSeesCurrentAccount", testSessionSeesAccount},
		{"Session/Touch", testTouch},
		{"Session/TouchConflict", testTouchConflict},
		{"Session/TouchNotFound", testTouchNotFound},
		{"Session/DeleteIdempotent", testDeleteSession},
		{"Session/ListOldestFirst", testListSessions},
		{"Session/EndAll", testEndSessions},
		{"Session/EndAllExcept", testEndSessionsExcept},
		{"Time/MillisecondRoundTrip", testTimePrecision},
		{"Throttle/Window", testHitWindow},
		{"Throttle/KeysIndependent", testHitKeys},
		{"Throttle/Peek", testPeek},
		{"Throttle/Clear", testClear},
		{"Throttle/Release", testRelease},
		{"Throttle/Concurrent", testHitConcurrent},
		{"Code/RoundTrip", testCodeRoundTrip},
		{"Code/Replace", testCodeReplace},
		{"Code/ReserveAttempt", testReserveAttempt},
		{"Code/ReserveAttemptConcurrent", testReserveAttemptConcurrent},
		{"Code/ReservedTryRedeems", testReservedTryRedeems},
		{"Code/RedeemPastLimit", testRedeemPastLimit},
		{"Code/MarkVerified", testMarkVerified},
		{"Code/MarkVerifiedConcurrent", testMarkVerifiedConcurrent},
		{"Code/BesideSessions", testCodesBesideSessions},
		{"VerifyContact", testVerifyContact},
		{"VerifyContact/Refused", testVerifyContactRefused},
		{"ResetPassword", testResetPassword},
		{"ResetPassword/Refused", testResetPasswordRefused},
		{"ResetPassword/ManySessions", testResetPasswordMany},
		{"Outbox/Order", testOutboxOrder},
		{"Outbox/SameInstant", testOutboxSameInstant},
		{"Outbox/ManyPages", testOutboxPages},
		{"Outbox/KeptUntilExpiry", testOutboxKept},
		{"Events/Empty", testEventsEmpty},
		{"Events/RoundTrip", testEventsRoundTrip},
		{"Events/Order", testEventsOrder},
		{"Events/FiltersAndPaging", testEventsFilters},
		{"Events/AccountNeedsRealm", testEventsAccountNeedsRealm},
		{"Events/CursorOtherFilters", testEventsCursorFilters},
		{"Events/GarbageCursor", testEventsGarbageCursor},
		{"Events/AccountsSeparate", testEventsAccountsSeparate},
		{"Events/ManyInOneDay", testEventsManyInOneDay},
		{"Events/Duplicate", testEventsDuplicate},
		{"Events/KeptUntilExpiry", testEventsKept},
		{"Events/Unbounded", testEventsUnbounded},
		{"Events/BesideSessions", testEventsBesideSessions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

// base is in a non-UTC zone with sub-millisecond digits, so the suite sees
// stores normalise zones and keep at least millisecond precision.
var base = time.Date(2025, 3, 1, 8, 0, 0, 123_456_789, time.FixedZone("PHT", 8*3600))

func at(minutes int) time.Time { return base.Add(time.Duration(minutes) * time.Minute) }

func ctx(t *testing.T) context.Context { return t.Context() }

func resident(id, email, phone string, status account.Status, created time.Time) account.Account {
	return account.Account{
		Realm: account.Resident, ID: id, Status: status,
		Email: email, EmailVerified: true, Language: "fil",
		FirstName: "Juan", LastName: "Dela Cruz " + id, Phone: phone, PhoneVerified: phone != "",
		Barangay: "San Roque", PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		CreatedAt: created, UpdatedAt: created,
	}
}

func admin(id, username, email string, status account.Status, created time.Time) account.Account {
	return account.Account{
		Realm: account.Admin, ID: id, Status: status,
		Email: email, EmailVerified: true, Username: username, FullName: "Admin " + id,
		Role: account.RoleOperationsManager, Barangays: []string{"San Roque", "Bagong Silang"},
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		CreatedAt:    created, UpdatedAt: created,
	}
}

func sess(realm account.Realm, accountID, key string, created time.Time) session.Session {
	return session.Session{
		Realm: realm, AccountID: accountID, Key: key,
		CreatedAt: created, LastSeenAt: created,
		IdleExpiresAt: created.Add(30 * time.Minute), ExpiresAt: created.Add(8 * time.Hour),
		IP: "203.0.113.7", UserAgent: "Mozilla/5.0 (storetest)",
	}
}

func mustCreate(t *testing.T, s Store, as ...account.Account) {
	t.Helper()
	for _, a := range as {
		if err := s.CreateAccount(ctx(t), a); err != nil {
			t.Fatalf("CreateAccount(%s/%s): %v", a.Realm, a.ID, err)
		}
	}
}

func mustCreateSessions(t *testing.T, s Store, ss ...session.Session) {
	t.Helper()
	for _, x := range ss {
		if err := s.CreateSession(ctx(t), x); err != nil {
			t.Fatalf("CreateSession(%s): %v", x.Key, err)
		}
	}
}

func mustGet(t *testing.T, s Store, realm account.Realm, id string) account.Account {
	t.Helper()
	a, err := s.GetAccount(ctx(t), realm, id)
	if err != nil {
		t.Fatalf("GetAccount(%s/%s): %v", realm, id, err)
	}
	return a
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

// ms is how times are compared: to the millisecond, in UTC.
func ms(tm time.Time) time.Time {
	if tm.IsZero() {
		return tm
	}
	return tm.Truncate(time.Millisecond).UTC()
}

func normAccount(a account.Account) account.Account {
	a.CreatedAt, a.UpdatedAt = ms(a.CreatedAt), ms(a.UpdatedAt)
	if len(a.Barangays) == 0 {
		a.Barangays = nil
	}
	if len(a.History) == 0 {
		a.History = nil
	} else {
		h := make([]account.StatusChange, len(a.History))
		for i, c := range a.History {
			c.At = ms(c.At)
			h[i] = c
		}
		a.History = h
	}
	return a
}

func normSession(x session.Session) session.Session {
	x.CreatedAt, x.LastSeenAt = ms(x.CreatedAt), ms(x.LastSeenAt)
	x.IdleExpiresAt, x.ExpiresAt = ms(x.IdleExpiresAt), ms(x.ExpiresAt)
	return x
}

func sameAccount(t *testing.T, what string, got, want account.Account) {
	t.Helper()
	if g, w := normAccount(got), normAccount(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

func sameSession(t *testing.T, what string, got, want session.Session) {
	t.Helper()
	if g, w := normSession(got), normSession(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

func sessionKeys(ss []session.Session) []string {
	keys := make([]string, len(ss))
	for i, x := range ss {
		keys[i] = x.Key
	}
	return keys
}

func accountIDs(as []account.Account) []string {
	ids := make([]string, len(as))
	for i, a := range as {
		ids[i] = a.ID
	}
	return ids
}

func testCreateRoundTrip(t *testing.T, s Store) {
	r := resident("r1", "juan@example.com", "+639171234567", account.StatusPending, at(0))
	r.Version = 7 // ignored: a new account is version 1
	a := admin("a1", "maria", "maria@example.com", account.StatusActive, at(1))
	mustCreate(t, s, r, a)

	r.Version, a.Version = 1, 1
	sameAccount(t, "resident", mustGet(t, s, account.Resident, "r1"), r)
	sameAccount(t, "admin", mustGet(t, s, account.Admin, "a1"), a)
}

func testCreateSameID(t *testing.T, s Store) {
	mustCreate(t, s, resident("r1", "a@example.com", "", account.StatusPending, at(0)))
	err := s.CreateAccount(ctx(t), resident("r1", "b@example.com", "", account.StatusPending, at(1)))
	wantErr(t, "second account with the same id", err, store.ErrConflict)
	_, err = s.LookupIdentifier(ctx(t), account.Resident, account.Identifier{Kind: account.KindEmail, Value: "b@example.com"})
	wantErr(t, "claim of the refused account", err, store.ErrNotFound)
	if got := mustGet(t, s, account.Resident, "r1"); got.Email != "a@example.com" {
		t.Errorf("first account overwritten: email %q", got.Email)
	}
}

func testCreateClaims(t *testing.T, s Store) {
	mustCreate(t, s,
		resident("r1", "juan@example.com", "+639171234567", account.StatusPending, at(0)),
		admin("a1", "maria", "maria@example.com", account.StatusActive, at(0)),
	)
	tests := []struct {
		name    string
		second  account.Account
		free    account.Identifier // the second account's identifier no one else holds
		wantErr error
	}{
		{"same email", resident("r2", "juan@example.com", "+639181111111", account.StatusPending, at(1)),
			account.Identifier{Kind: account.KindPhone, Value: "+639181111111"}, store.ErrConflict},
		{"same phone", resident("r3", "other@example.com", "+639171234567", account.StatusPending, at(1)),
			account.Identifier{Kind: account.KindEmail, Value: "other@example.com"}, store.ErrConflict},
		{"same username", admin("a2", "maria", "new@example.com", account.StatusActive, at(1)),
			account.Identifier{Kind: account.KindEmail, Value: "new@example.com"}, store.ErrConflict},
		{"same admin email", admin("a3", "pedro", "maria@example.com", account.StatusActive, at(1)),
			account.Identifier{Kind: account.KindUsername, Value: "pedro"}, store.ErrConflict},
		{"resident email in the admin realm", admin("a4", "juan", "juan@example.com", account.StatusActive, at(1)),
			account.Identifier{Kind: account.KindUsername, Value: "juan"}, nil},
		{"admin email in the resident realm", resident("r4", "maria@example.com", "", account.StatusPending, at(1)),
			account.Identifier{Kind: account.KindEmail, Value: "maria@example.com"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.CreateAccount(ctx(t), tc.second)
			realm, id := tc.second.Realm, tc.second.ID
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("CreateAccount: %v", err)
				}
				if got, err := s.LookupIdentifier(ctx(t), realm, tc.free); err != nil || got != id {
					t.Errorf("LookupIdentifier(%v) = %q, %v; want %q", tc.free, got, err, id)
				}
				return
			}
			wantErr(t, "CreateAccount", err, tc.wantErr)
			_, err = s.GetAccount(ctx(t), realm, id)
			wantErr(t, "GetAccount of the refused account", err, store.ErrNotFound)
			_, err = s.LookupIdentifier(ctx(t), realm, tc.free)
			wantErr(t, "LookupIdentifier of the refused account's other identifier", err, store.ErrNotFound)
		})
	}
	if got, err := s.LookupIdentifier(ctx(t), account.Resident,
		account.Identifier{Kind: account.KindEmail, Value: "juan@example.com"}); err != nil || got != "r1" {
		t.Errorf("first claim moved: got %q, %v", got, err)
	}
}

// oneWins runs op(0) … op(n-1) at once and returns the i whose op
// succeeded: exactly one must, and every other must fail with ErrConflict.
func oneWins(t *testing.T, n int, what string, op func(i int) error) int {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = op(i)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("%s: %d and %d both succeeded", what, winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("%s %d: got %v, want %v", what, i, err, store.ErrConflict)
		}
	}
	if winner < 0 {
		t.Fatalf("no %s succeeded", what)
	}
	return winner
}

func testCreateConcurrent(t *testing.T, s Store) {
	const n = 10
	// All claim the same email: one account is created.
	winner := oneWins(t, n, "CreateAccount", func(i int) error {
		return s.CreateAccount(ctx(t), resident(fmt.Sprintf("c%02d", i), "same@example.com", fmt.Sprintf("+6391700000%02d", i), account.StatusPending, at(i)))
	})
	want := fmt.Sprintf("c%02d", winner)
	got, err := s.LookupIdentifier(ctx(t), account.Resident, account.Identifier{Kind: account.KindEmail, Value: "same@example.com"})
	if err != nil || got != want {
		t.Errorf("email claimed by %q, %v; want the winner %q", got, err, want)
	}
	for i := range n {
		if i == winner {
			continue
		}
		_, err := s.GetAccount(ctx(t), account.Resident, fmt.Sprintf("c%02d", i))
		wantErr(t, fmt.Sprintf("loser %d", i), err, store.ErrNotFound)
	}
}

func testGetAccountNotFound(t *testing.T, s Store) {
	mustCreate(t, s, resident("r1", "juan@example.com", "", account.StatusPending, at(0)))
	_, err := s.GetAccount(ctx(t), account.Resident, "nope")
	wantErr(t, "unknown id", err, store.ErrNotFound)
	_, err = s.GetAccount(ctx(t), account.Admin, "r1")
	wantErr(t, "resident id in the admin realm", err, store.ErrNotFound)
}

func testLookupIdentifier(t *testing.T, s Store) {
	mustCreate(t, s,
		resident("r1", "juan#1@example.com", "+639171234567", account.StatusPending, at(0)),
		admin("a1", "maria", "maria@example.com", account.StatusActive, at(0)),
	)
	tests := []struct {
		realm account.Realm
		id    account.Identifier
		want  string // "" for ErrNotFound
	}{
		{account.Resident, account.Identifier{Kind: account.KindEmail, Value: "juan#1@example.com"}, "r1"},
		{account.Resident, account.Identifier{Kind: account.KindPhone, Value: "+639171234567"}, "r1"},
		{account.Admin, account.Identifier{Kind: account.KindUsername, Value: "maria"}, "a1"},
		{account.Admin, account.Identifier{Kind: account.KindEmail, Value: "maria@example.com"}, "a1"},
		{account.Admin, account.Identifier{Kind: account.KindEmail, Value: "juan#1@example.com"}, ""},
		{account.Resident, account.Identifier{Kind: account.KindEmail, Value: "maria@example.com"}, ""},
		{account.Resident, account.Identifier{Kind: account.KindEmail, Value: "juan#1"}, ""},
		{account.Admin, account.Identifier{Kind: account.KindEmail, Value: "maria"}, ""},
		{account.Resident, account.Identifier{Kind: account.KindEmail, Value: "nobody@example.com"}, ""},
	}
	for _, tc := range tests {
		got, err := s.LookupIdentifier(ctx(t), tc.realm, tc.id)
		if tc.want == "" {
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("LookupIdentifier(%s, %v) = %q, %v; want ErrNotFound", tc.realm, tc.id, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("LookupIdentifier(%s, %v) = %q, %v; want %q", tc.realm, tc.id, got, err, tc.want)
		}
	}
}

func testUpdateAccount(t *testing.T, s Store) {
	mustCreate(t, s, resident("r1", "juan@example.com", "+639171234567", account.StatusPending, at(0)))
	a := mustGet(t, s, account.Resident, "r1")

	a.Status, a.FirstName, a.PhoneVerified, a.UpdatedAt = account.StatusApproved, "Juanito", false, at(5)
	if err := s.UpdateAccount(ctx(t), a); err != nil {
		t.Fatalf("UpdateAccount: %v", err)
	}
	want := a
	want.Version = 2
	sameAccount(t, "after update", mustGet(t, s, account.Resident, "r1"), want)

	stale := a // still version 1
	stale.FirstName = "Stale"
	wantErr(t, "update from a stale version", s.UpdateAccount(ctx(t), stale), store.ErrConflict)
	ahead := want
	ahead.Version = 5
	wantErr(t, "update from a version never stored", s.UpdateAccount(ctx(t), ahead), store.ErrConflict)
	sameAccount(t, "after refused updates", mustGet(t, s, account.Resident, "r1"), want)

	if err := s.UpdateAccount(ctx(t), want); err != nil {
		t.Fatalf("UpdateAccount from version 2: %v", err)
	}
	if v := mustGet(t, s, account.Resident, "r1").Version; v != 3 {
		t.Errorf("version after two updates = %d, want 3", v)
	}
}

func testUpdateAccountNotFound(t *testing.T, s Store) {
	a := resident("ghost", "ghost@example.com", "", account.StatusPending, at(0))
	a.Version = 1
	wantErr(t, "UpdateAccount of a missing account", s.UpdateAccount(ctx(t), a), store.ErrNotFound)
	_, err := s.GetAccount(ctx(t), account.Resident, "ghost")
	wantErr(t, "GetAccount after refused update", err, store.ErrNotFound)
}

// endSessionsFixture is two residents and an admin with the first
// resident's id, each with sessions.
func endSessionsFixture(t *testing.T, s Store, n int) account.Account {
	t.Helper()
	mustCreate(t, s,
		resident("r1", "juan@example.com", "", account.StatusApproved, at(0)),
		resident("r2", "pedro@example.com", "", account.StatusApproved, at(0)),
		admin("r1", "maria", "maria@example.com", account.StatusActive, at(0)),
	)
	for i := range n {
		mustCreateSessions(t, s, sess(account.Resident, "r1", fmt.Sprintf("k1-%03d", i), at(i)))
	}
	mustCreateSessions(t, s,
		sess(account.Resident, "r2", "k2", at(0)),
		sess(account.Admin, "r1", "ka", at(0)),
	)
	return mustGet(t, s, account.Resident, "r1")
}

func checkOthersKept(t *testing.T, s Store) {
	t.Helper()
	for _, x := range []struct {
		realm   account.Realm
		id, key string
	}{{account.Resident, "r2", "k2"}, {account.Admin, "r1", "ka"}} {
		if _, _, err := s.GetSession(ctx(t), x.realm, x.id, x.key); err != nil {
			t.Errorf("session %s of %s/%s: %v (another account's session must survive)", x.key, x.realm, x.id, err)
		}
	}
}

func testUpdateEndSessions(t *testing.T, s Store) {
	a := endSessionsFixture(t, s, 3)
	a.Status = account.StatusSuspended
	n, err := s.UpdateAccountEndSessions(ctx(t), a)
	if err != nil || n != 3 {
		t.Fatalf("UpdateAccountEndSessions = %d, %v; want 3, nil", n, err)
	}
	got := mustGet(t, s, account.Resident, "r1")
	if got.Status != account.StatusSuspended || got.Version != 2 {
		t.Errorf("account after update: status %s version %d, want suspended 2", got.Status, got.Version)
	}
	wantNewEpoch(t, s, account.Resident, "r1", 2)
	if left, err := s.ListSessions(ctx(t), account.Resident, "r1"); err != nil || len(left) != 0 {
		t.Errorf("sessions left: %v, %v", sessionKeys(left), err)
	}
	checkOthersKept(t, s)

	got.Status = account.StatusApproved
	if n, err := s.UpdateAccountEndSessions(ctx(t), got); err != nil || n != 0 {
		t.Errorf("UpdateAccountEndSessions with no sessions = %d, %v; want 0, nil", n, err)
	}
	if v := mustGet(t, s, account.Resident, "r1").Version; v != 3 {
		t.Errorf("version = %d, want 3", v)
	}
}

func testUpdateEndSessionsConflict(t *testing.T, s Store) {
	a := endSessionsFixture(t, s, 3)
	a.Version = 2
	a.Status = account.StatusSuspended
	n, err := s.UpdateAccountEndSessions(ctx(t), a)
	wantErr(t, "UpdateAccountEndSessions from a stale version", err, store.ErrConflict)
	if n != 0 {
		t.Errorf("count on conflict = %d, want 0", n)
	}
	if got := mustGet(t, s, account.Resident, "r1"); got.Status != account.StatusApproved || got.Version != 1 {
		t.Errorf("account changed by a refused update: %s v%d", got.Status, got.Version)
	}
	if left, err := s.ListSessions(ctx(t), account.Resident, "r1"); err != nil || len(left) != 3 {
		t.Errorf("sessions after refused update: %d, %v; want all 3", len(left), err)
	}
	checkOthersKept(t, s)
}

func testUpdateEndSessionsNotFound(t *testing.T, s Store) {
	mustCreateSessions(t, s, sess(account.Resident, "ghost", "kg", at(0)))
	a := resident("ghost", "ghost@example.com", "", account.StatusSuspended, at(0))
	a.Version = 1
	_, err := s.UpdateAccountEndSessions(ctx(t), a)
	wantErr(t, "UpdateAccountEndSessions of a missing account", err, store.ErrNotFound)
	if left, err := s.ListSessions(ctx(t), account.Resident, "ghost"); err != nil || len(left) != 1 {
		t.Errorf("sessions after refused update: %d, %v; want 1", len(left), err)
	}
}

// testUpdateEndSessionsMany goes past what fits in one DynamoDB transaction.
func testUpdateEndSessionsMany(t *testing.T, s Store) {
	const n = 130
	a := endSessionsFixture(t, s, n)
	a.Status = account.StatusSuspended
	got, err := s.UpdateAccountEndSessions(ctx(t), a)
	if err != nil || got != n {
		t.Fatalf("UpdateAccountEndSessions = %d, %v; want %d, nil", got, err, n)
	}
	if left, err := s.ListSessions(ctx(t), account.Resident, "r1"); err != nil || len(left) != 0 {
		t.Errorf("sessions left: %d, %v", len(left), err)
	}
	if st := mustGet(t, s, account.Resident, "r1").Status; st != account.StatusSuspended {
		t.Errorf("status = %s, want suspended", st)
	}
	checkOthersKept(t, s)
}

// listFixture stores residents spread over every status, created out of
// order, two of them at the same instant; it returns them in listing order.
func listFixture(t *testing.T, s Store) []account.Account {
	t.Helper()
	specs := []struct {
		id     string
		status account.Status
		minute int
	}{
		{"p3", account.StatusPending, 30}, {"p1", account.StatusPending, 10}, {"p2b", account.StatusPending, 20},
		{"p2a", account.StatusPending, 20}, {"p0", account.StatusPending, -5},
		{"a2", account.StatusApproved, 5}, {"a1", account.StatusApproved, 1}, {"a3", account.StatusApproved, 50},
		{"x1", account.StatusRejected, 3},
		{"s2", account.StatusSuspended, 9}, {"s1", account.StatusSuspended, 8},
	}
	var as []account.Account
	for i, sp := range specs {
		a := resident(sp.id, sp.id+"@example.com", fmt.Sprintf("+6391711111%02d", i), sp.status, at(sp.minute))
		mustCreate(t, s, a)
		a.Version = 1
		as = append(as, a)
	}
	// Admins must never show up in a resident listing, nor the reverse.
	mustCreate(t, s,
		admin("ad1", "maria", "maria@example.com", account.StatusActive, at(0)),
		admin("ad2", "pedro", "pedro@example.com", account.StatusSuspended, at(1)),
	)
	order := map[account.Status]int{}
	for i, st := range account.StatusesOf(account.Resident) {
		order[st] = i
	}
	sort.Slice(as, func(i, j int) bool {
		a, b := as[i], as[j]
		if order[a.Status] != order[b.Status] {
			return order[a.Status] < order[b.Status]
		}
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt)
		}
		return a.ID < b.ID
	})
	return as
}

// listAll pages through q and returns every account seen.
func listAll(t *testing.T, s Store, q account.ListQuery) []account.Account {
	t.Helper()
	var all []account.Account
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("more than 100 pages: the cursor does not advance")
		}
		page, next, err := s.ListAccounts(ctx(t), q)
		if err != nil {
			t.Fatalf("ListAccounts(%+v): %v", q, err)
		}
		if q.Limit > 0 && len(page) > q.Limit {
			t.Fatalf("page of %d accounts, limit %d", len(page), q.Limit)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		q.Cursor = next
	}
}

func testListOrder(t *testing.T, s Store) {
	want := listFixture(t, s)
	page, next, err := s.ListAccounts(ctx(t), account.ListQuery{Realm: account.Resident, Limit: 100})
	if err != nil {
		t.Fatalf("ListAccounts: %v", err)
	}
	if next != "" {
		t.Errorf("cursor %q after the last page, want none", next)
	}
	if got, w := accountIDs(page), accountIDs(want); !slices.Equal(got, w) {
		t.Fatalf("order:\n got %v\nwant %v", got, w)
	}
	for i := range page {
		sameAccount(t, "listed account", page[i], want[i])
	}
	admins, _, err := s.ListAccounts(ctx(t), account.ListQuery{Realm: account.Admin, Limit: 100})
	if err != nil {
		t.Fatalf("ListAccounts(admin): %v", err)
	}
	if got := accountIDs(admins); !slices.Equal(got, []string{"ad1", "ad2"}) {
		t.Errorf("admin listing = %v, want [ad1 ad2]", got)
	}
}

func testListPaging(t *testing.T, s Store) {
	want := accountIDs(listFixture(t, s))
	for _, limit := range []int{1, 2, 3, 4, 5, len(want) - 1, len(want), len(want) + 1} {
		t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
			got := accountIDs(listAll(t, s, account.ListQuery{Realm: account.Resident, Limit: limit}))
			if !slices.Equal(got, want) {
				t.Errorf("pages joined:\n got %v\nwant %v", got, want)
			}
		})
	}
}

func testListStatusFilter(t *testing.T, s Store) {
	all := listFixture(t, s)
	for _, st := range account.StatusesOf(account.Resident) {
		var want []string
		for _, a := range all {
			if a.Status == st {
				want = append(want, a.ID)
			}
		}
		for _, limit := range []int{1, 2, 100} {
			got := accountIDs(listAll(t, s, account.ListQuery{Realm: account.Resident, Status: st, Limit: limit}))
			if !slices.Equal(got, want) {
				t.Errorf("status %s limit %d:\n got %v\nwant %v", st, limit, got, want)
			}
		}
	}
	got, next, err := s.ListAccounts(ctx(t), account.ListQuery{Realm: account.Resident, Status: account.StatusActive, Limit: 10})
	if err != nil || len(got) != 0 || next != "" {
		t.Errorf("resident listing with an admin-only status = %v, %q, %v; want nothing", accountIDs(got), next, err)
	}
	admins := listAll(t, s, account.ListQuery{Realm: account.Admin, Status: account.StatusSuspended, Limit: 10})
	if got := accountIDs(admins); !slices.Equal(got, []string{"ad2"}) {
		t.Errorf("suspended admins = %v, want [ad2]", got)
	}
}

func testListStatusChange(t *testing.T, s Store) {
	mustCreate(t, s, resident("r1", "juan@example.com", "", account.StatusPending, at(0)))
	a := mustGet(t, s, account.Resident, "r1")
	a.Status = account.StatusApproved
	if err := s.UpdateAccount(ctx(t), a); err != nil {
		t.Fatalf("UpdateAccount: %v", err)
	}
	pending := listAll(t, s, account.ListQuery{Realm: account.Resident, Status: account.StatusPending, Limit: 10})
	approved := listAll(t, s, account.ListQuery{Realm: account.Resident, Status: account.StatusApproved, Limit: 10})
	if len(pending) != 0 || len(approved) != 1 || approved[0].Version != 2 {
		t.Errorf("after approval: pending %v, approved %+v", accountIDs(pending), approved)
	}
}

func testListInvalidCursor(t *testing.T, s Store) {
	listFixture(t, s)
	for _, c := range []string{"not a cursor!", "eyJub3BlIjp0cnVlfQ"} {
		_, _, err := s.ListAccounts(ctx(t), account.ListQuery{Realm: account.Resident, Limit: 2, Cursor: c})
		wantErr(t, fmt.Sprintf("cursor %q", c), err, store.ErrInvalidCursor)
	}
	// Every page boundary of one listing, replayed on a listing it does not
	// belong to: the other realm, or another status.
	q := account.ListQuery{Realm: account.Resident, Status: account.StatusPending, Limit: 1}
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("more than 100 pages: the cursor does not advance")
		}
		_, next, err := s.ListAccounts(ctx(t), q)
		if err != nil {
			t.Fatalf("ListAccounts: %v", err)
		}
		if next == "" {
			break
		}
		for _, other := range []account.ListQuery{
			{Realm: account.Admin, Limit: 1, Cursor: next},
			{Realm: account.Admin, Status: account.StatusSuspended, Limit: 1, Cursor: next},
			{Realm: account.Resident, Status: account.StatusApproved, Limit: 1, Cursor: next},
		} {
			_, _, err := s.ListAccounts(ctx(t), other)
			wantErr(t, fmt.Sprintf("cursor of %s/%s replayed on %s/%s", q.Realm, q.Status, other.Realm, other.Status), err, store.ErrInvalidCursor)
		}
		q.Cursor = next
	}
}

func testSessionRoundTrip(t *testing.T, s Store) {
	a := resident("r1", "juan@example.com", "", account.StatusApproved, at(0))
	mustCreate(t, s, a)
	a.Version = 1
	want := sess(account.Resident, "r1", "k1", at(1))
	mustCreateSessions(t, s, want)
	got, acct, err := s.GetSession(ctx(t), account.Resident, "r1", "k1")
	if err != nil {
		t.Fatalf("GetSession: %v", err)
	}
	sameSession(t, "session", got, want)
	sameAccount(t, "account with the session", acct, a)
}

func testSessionDuplicate(t *testing.T, s Store) {
	mustCreate(t, s, resident("r1", "juan@example.com", "", account.StatusApproved, at(0)))
	first := sess(account.Resident, "r1", "k1", at(1))
	mustCreateSessions(t, s, first)
	dup := sess(account.Resident, "r1", "k1", at(2))
	dup.IP = "198.51.100.1"
	wantErr(t, "CreateSession with a taken key", s.CreateSession(ctx(t), dup), store.ErrConflict)
	got, _, err := s.GetSession(ctx(t), account.Resident, "r1", "k1")
	if err != nil {
		t.Fatalf("GetSession: %v", err)
	}
	sameSession(t, "first session kept", got, first)
}

func testSessionReplace(t *testing.T, s Store) {
	mustCreate(t, s,
		resident("r1", "juan@example.com", "", account.StatusApproved, at(0)),
		resident("r2", "maria@example.com", "", account.StatusApproved, at(0)))
	planted := sess(account.Resident, "r2", "k-planted", at(1))
	other := sess(account.Resident, "r1", "k-other", at(1))
	mustCreateSessions(t, s, planted, other)

	// A login by r1 over r2's planted session: the new one in, the planted one out.
	fresh := sess(account.Resident, "r1", "k-fresh", at(2))
	if err := s.ReplaceSession(ctx(t), fresh, "r2", "k-planted"); err != nil {
		t.Fatalf("ReplaceSession: %v", err)
	}
	if _, _, err := s.GetSession(ctx(t), account.Resident, "r2", "k-planted"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("replaced session still there: %v", err)
	}
	got, _, err := s.GetSession(ctx(t), account.Resident, "r1", "k-fresh")
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	sameSession(t, "new session", got, fresh)
	if _, _, err := s.GetSession(ctx(t), account.Resident, "r1", "k-other"); err != nil {
		t.Fatalf("an unrelated session went: %v", err)
	}
	// Replacing a session that is already gone is fine.
	if err := s.ReplaceSession(ctx(t), sess(account.Resident, "r1", "k-third", at(3)), "r2", "k-planted"); err != nil {
		t.Fatalf("ReplaceSession of a missing session: %v", err)
	}
	// A taken key changes nothing: the old session stays.
	dup := sess(account.Resident, "r1", "k-fresh", at(4))
	wantErr(t, "ReplaceSession with a taken key", s.ReplaceSession(ctx(t), dup, "r1", "k-other"), store.ErrConflict)
	if _, _, err := s.GetSession(ctx(t), account.Resident, "r1", "k-other"); err != nil {
		t.Fatalf("refused replace ended the old session: %v", err)
	}
}

func testSessionNotFound(t *testing.T, s Store) {
	mustCreate(t, s,
		resident("r1", "juan@example.com", "", account.StatusApproved, at(0)),
		resident("r2", "pedro@example.com", "", account.StatusApproved, at(0)),
	)
	mustCreateSessions(t, s,
		sess(account.Resident, "r1", "k1", at(1)),
		sess(account.Resident, "orphan", "ko", at(1)), // its account does not exist
	)
	tests := []struct {
		name         string
		realm        account.Realm
		account, key string
	}{
		{"unknown key", account.Resident, "r1", "nope"},
		{"another account's key", account.Resident, "r2", "k1"},
		{"other realm", account.Admin, "r1", "k1"},
		{"account gone", account.Resident, "orphan", "ko"},
	}
	for _, tc := range tests {
		_, _, err := s.GetSession(ctx(t), tc.realm, tc.account, tc.key)
		wantErr(t, tc.name, err, store.ErrNotFound)
	}
}

func testSessionSeesAccount(t *testing.T, s Store) {
	mustCreate(t, s, resident("r1", "juan@example.com", "", account.StatusApproved, at(0)))
	mustCreateSessions(t, s, sess(account.Resident, "r1", "k1", at(1)))
	a := mustGet(t, s, account.Resident, "r1")
	a.Status = account.StatusSuspended
	if err := s.UpdateAccount(ctx(t), a); err != nil {
		t.Fatalf("UpdateAccount: %v", err)
	}
	_, acct, err := s.GetSession(ctx(t), account.Resident, "r1", "k1")
	if err != nil {
		t.Fatalf("GetSession: %v", err)
	}
	if acct.Status != account.StatusSuspended || acct.Version != 2 {
		t.Errorf("account read with the session: %s v%d, want suspended v2", acct.Status, acct.Version)
	}
}

func testTouch(t *testing.T, s Store) {
	mustCreate(t, s, resident("r1", "juan@example.com", "", account.StatusApproved, at(0)))
	orig := sess(account.Resident, "r1", "k1", at(0))
	mustCreateSessions(t, s, orig)
	stored, _, err := s.GetSession(ctx(t), account.Resident, "r1", "k1")
	if err != nil {
		t.Fatalf("GetSession: %v", err)
	}
	if err := s.TouchSession(ctx(t), stored, at(20), at(50)); err != nil {
		t.Fatalf("TouchSession: %v", err)
	}
	want := orig
	want.LastSeenAt, want.IdleExpiresAt = at(20), at(50)
	got, _, err := s.GetSession(ctx(t), account.Resident, "r1", "k1")
	if err != nil {
		t.Fatalf("GetSession: %v", err)
	}
	sameSession(t, "after touch", got, want)

	// The session as read after the first touch can be touched again.
	if err := s.TouchSession(ctx(t), got, at(40), at(70)); err != nil {
		t.Errorf("second TouchSession: %v", err)
	}
}

func testTouchConflict(t *testing.T, s Store) {
	mustCreate(t, s, resident("r1", "juan@example.com", "", account.StatusApproved, at(0)))
	mustCreateSessions(t, s, sess(account.Resident, "r1", "k1", at(0)))
	orig, _, err := s.GetSession(ctx(t), account.Resident, "r1", "k1")
	if err != nil {
		t.Fatalf("GetSession: %v", err)
	}
	if err := s.TouchSession(ctx(t), orig, at(20), at(50)); err != nil {
		t.Fatalf("first TouchSession: %v", err)
	}
	// A second refresh that read the session before the first one wrote.
	wantErr(t, "TouchSession with a stale idle expiry", s.TouchSession(ctx(t), orig, at(21), at(51)), store.ErrConflict)
	got, _, err := s.GetSession(ctx(t), account.Resident, "r1", "k1")
	if err != nil {
		t.Fatalf("GetSession: %v", err)
	}
	if !ms(got.IdleExpiresAt).Equal(ms(at(50))) || !ms(got.LastSeenAt).Equal(ms(at(20))) {
		t.Errorf("refused touch wrote: last seen %v idle %v", got.LastSeenAt, got.IdleExpiresAt)
	}
}

func testTouchNotFound(t *testing.T, s Store) {
	mustCreate(t, s, resident("r1", "juan@example.com", "", account.StatusApproved, at(0)))
	gone := sess(account.Resident, "r1", "k1", at(0))
	wantErr(t, "TouchSession of a session never stored", s.TouchSession(ctx(t), gone, at(1), at(31)), store.ErrNotFound)
	mustCreateSessions(t, s, gone)
	if err := s.DeleteSession(ctx(t), account.Resident, "r1", "k1"); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	wantErr(t, "TouchSession of a deleted session", s.TouchSession(ctx(t), gone, at(1), at(31)), store.ErrNotFound)
	if ss, err := s.ListSessions(ctx(t), account.Resident, "r1"); err != nil || len(ss) != 0 {
		t.Errorf("TouchSession brought a session back: %v, %v", sessionKeys(ss), err)
	}
}

func testDeleteSession(t *testing.T, s Store) {
	mustCreate(t, s, resident("r1", "juan@example.com", "", account.StatusApproved, at(0)))
	mustCreateSessions(t, s, sess(account.Resident, "r1", "k1", at(0)), sess(account.Resident, "r1", "k2", at(1)))
	for i := range 2 {
		if err := s.DeleteSession(ctx(t), account.Resident, "r1", "k1"); err != nil {
			t.Fatalf("DeleteSession #%d: %v", i+1, err)
		}
	}
	if err := s.DeleteSession(ctx(t), account.Admin, "nobody", "never"); err != nil {
		t.Errorf("DeleteSession of a session that never was: %v", err)
	}
	_, _, err := s.GetSession(ctx(t), account.Resident, "r1", "k1")
	wantErr(t, "GetSession after delete", err, store.ErrNotFound)
	if _, _, err := s.GetSession(ctx(t), account.Resident, "r1", "k2"); err != nil {
		t.Errorf("the other session: %v", err)
	}
}

func testListSessions(t *testing.T, s Store) {
	mustCreate(t, s, resident("r1", "juan@example.com", "", account.StatusApproved, at(0)))
	// Keys sort the other way from creation times.
	want := []session.Session{
		sess(account.Resident, "r1", "zz", at(1)),
		sess(account.Resident, "r1", "mm", at(2)),
		sess(account.Resident, "r1", "aa", at(3)),
	}
	mustCreateSessions(t, s, want[1], want[2], want[0],
		sess(account.Resident, "r2", "other", at(0)),
		sess(account.Admin, "r1", "admin", at(0)),
	)
	got, err := s.ListSessions(ctx(t), account.Resident, "r1")
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	if g, w := sessionKeys(got), sessionKeys(want); !slices.Equal(g, w) {
		t.Fatalf("ListSessions = %v, want %v", g, w)
	}
	for i := range got {
		sameSession(t, "listed session", got[i], want[i])
	}
	none, err := s.ListSessions(ctx(t), account.Resident, "nobody")
	if err != nil || len(none) != 0 {
		t.Errorf("ListSessions of an account without sessions = %v, %v", sessionKeys(none), err)
	}
}

func testEndSessions(t *testing.T, s Store) {
	endSessionsFixture(t, s, 30)
	n, err := s.EndSessions(ctx(t), account.Resident, "r1", nil)
	if err != nil || n != 30 {
		t.Fatalf("EndSessions = %d, %v; want 30, nil", n, err)
	}
	if left, err := s.ListSessions(ctx(t), account.Resident, "r1"); err != nil || len(left) != 0 {
		t.Errorf("sessions left: %v, %v", sessionKeys(left), err)
	}
	wantNewEpoch(t, s, account.Resident, "r1", 2)
	checkOthersKept(t, s)
	// A session written after the end, under the epoch read before it,
	// is stored as given: the session check compares the epochs.
	late := sess(account.Resident, "r1", "late", at(40))
	mustCreateSessions(t, s, late)
	if got, a, err := s.GetSession(ctx(t), account.Resident, "r1", "late"); err != nil || got.Epoch != 0 || a.SessionEpoch != 2 {
		t.Errorf("late session: epoch %d beside account epoch %d, %v; want 0 beside 2", got.Epoch, a.SessionEpoch, err)
	}
	if n, err := s.EndSessions(ctx(t), account.Resident, "r1", nil); err != nil || n != 1 {
		t.Errorf("second EndSessions = %d, %v; want 1, nil", n, err)
	}
	wantNewEpoch(t, s, account.Resident, "r1", 3)
}

func testTimePrecision(t *testing.T, s Store) {
	// Sub-millisecond digits, a non-UTC zone and a monotonic reading: only
	// the instant, to the millisecond, has to survive.
	now := time.Now().In(time.FixedZone("PHT", 8*3600))
	a := resident("r1", "juan@example.com", "", account.StatusApproved, now)
	a.UpdatedAt = now.Add(1500 * time.Microsecond)
	mustCreate(t, s, a)
	x := sess(account.Resident, "r1", "k1", now.Add(time.Nanosecond))
	x.ExpiresAt = now.Add(8*time.Hour + 999*time.Microsecond)
	mustCreateSessions(t, s, x)

	got := mustGet(t, s, account.Resident, "r1")
	gs, _, err := s.GetSession(ctx(t), account.Resident, "r1", "k1")
	if err != nil {
		t.Fatalf("GetSession: %v", err)
	}
	for _, c := range []struct {
		name      string
		got, want time.Time
	}{
		{"account CreatedAt", got.CreatedAt, a.CreatedAt},
		{"account UpdatedAt", got.UpdatedAt, a.UpdatedAt},
		{"session CreatedAt", gs.CreatedAt, x.CreatedAt},
		{"session LastSeenAt", gs.LastSeenAt, x.LastSeenAt},
		{"session IdleExpiresAt", gs.IdleExpiresAt, x.IdleExpiresAt},
		{"session ExpiresAt", gs.ExpiresAt, x.ExpiresAt},
	} {
		if !ms(c.got).Equal(ms(c.want)) {
			t.Errorf("%s = %v, want %v (to the millisecond)", c.name, c.got, c.want)
		}
	}
	// A session read back must be touchable with its own stored idle expiry,
	// whatever precision the store keeps.
	if err := s.TouchSession(ctx(t), gs, now.Add(time.Minute), now.Add(31*time.Minute)); err != nil {
		t.Errorf("TouchSession with the idle expiry read back: %v", err)
	}
}
