// Package storetest is the conformance suite every store implementation
// passes: it checks the documented contract of the store ports
// (account.Store, session.Store, throttle.Store, code.Store, outbox.Store,
// audit.Store, mfa.Store and the transactions of contact.Store and
// reset.Store), through those interfaces only.
package storetest

import (
	"context"
	"errors"
	"reflect"
	"slices"
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
// The subtests run in parallel, so newStore must be safe to call from
// several goroutines at once.
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
		{"Throttle/Refund", testRefund},
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
		{"Outbox/PutCodeWithMessage", testPutCodeWithMessage},
		{"Outbox/PutMessage", testPutMessage},
		{"Outbox/Claim", testClaimMessage},
		{"Outbox/ClaimConcurrent", testClaimConcurrent},
		{"Outbox/MarkSentOrFailed", testMarkMessage},
		{"Outbox/List", testListMessages},
		{"Outbox/ManyPages", testListMessagesPages},
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
	tests = append(tests, mfaTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each on a fresh store of its own
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
	x.AuthenticatedAt = ms(x.AuthenticatedAt)
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

// oneWins runs op(0) … op(n-1) at once and returns the i whose op
// succeeded: exactly one must, and every other must fail with ErrConflict.
func oneWins(t *testing.T, n int, what string, op func(i int) error) int {
	t.Helper()
	return oneWinsOthers(t, n, what, op, store.ErrConflict)
}

// oneWinsOthers is oneWins where the others may fail with any of losing.
func oneWinsOthers(t *testing.T, n int, what string, op func(i int) error, losing ...error) int {
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
		case !slices.ContainsFunc(losing, func(l error) bool { return errors.Is(err, l) }):
			t.Errorf("%s %d: got %v, want one of %v", what, i, err, losing)
		}
	}
	if winner < 0 {
		t.Fatalf("no %s succeeded", what)
	}
	return winner
}

// testTimePrecision holds stores to the contract ms compares by: every
// time read back is the instant stored, to the millisecond.
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
