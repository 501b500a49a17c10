package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/store"
)

func codeRecord(realm account.Realm, accountID string, p code.Purpose, id string, now time.Time) code.Record {
	return code.Record{
		Realm: realm, AccountID: accountID, Purpose: p, ID: id,
		MAC:   fmt.Sprintf("%064x", len(id)*7919+len(accountID)),
		State: code.Pending, CreatedAt: now, ExpiresAt: now.Add(code.TTL),
	}
}

func normCode(r code.Record) code.Record {
	r.CreatedAt, r.ExpiresAt = ms(r.CreatedAt), ms(r.ExpiresAt)
	return r
}

func sameCode(t *testing.T, what string, got, want code.Record) {
	t.Helper()
	if g, w := normCode(got), normCode(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

func mustPutCode(t *testing.T, s Store, rs ...code.Record) {
	t.Helper()
	for _, r := range rs {
		if err := s.PutCode(ctx(t), r, codeMessage(r)); err != nil {
			t.Fatalf("PutCode(%s/%s/%s): %v", r.Realm, r.AccountID, r.Purpose, err)
		}
	}
}

func mustGetCode(t *testing.T, s Store, r code.Record) code.Record {
	t.Helper()
	got, err := s.GetCode(ctx(t), r.Realm, r.AccountID, r.Purpose)
	if err != nil {
		t.Fatalf("GetCode(%s/%s/%s): %v", r.Realm, r.AccountID, r.Purpose, err)
	}
	return got
}

// wantCode checks the stored code of r's account and purpose is want.
func wantCode(t *testing.T, s Store, what string, want code.Record) {
	t.Helper()
	sameCode(t, what, mustGetCode(t, s, want), want)
}

func wantNoCode(t *testing.T, s Store, what string, r code.Record) {
	t.Helper()
	_, err := s.GetCode(ctx(t), r.Realm, r.AccountID, r.Purpose)
	wantErr(t, what, err, store.ErrNotFound)
}

// wantGoneOrConflict accepts either answer a redemption's condition on a
// missing code may give (ErrConflict or ErrNotFound).
func wantGoneOrConflict(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("%s: got error %v, want ErrConflict or ErrNotFound", what, err)
	}
}

func testCodeRoundTrip(t *testing.T, s Store) {
	now := wall()
	r := codeRecord(account.Resident, "r1", code.VerifyEmail, "c1", now)
	r.Attempts = 2
	others := []code.Record{
		codeRecord(account.Resident, "r1", code.VerifyPhone, "c2", now.Add(time.Second)),
		codeRecord(account.Resident, "r2", code.VerifyEmail, "c3", now),
		codeRecord(account.Admin, "r1", code.PasswordReset, "c4", now),
	}
	others[2].State = code.Verified
	mustPutCode(t, s, r)
	mustPutCode(t, s, others...)
	wantCode(t, s, "code", r)
	for _, o := range others {
		wantCode(t, s, "code of another account or purpose", o)
	}
	for _, miss := range []code.Record{
		codeRecord(account.Resident, "r1", code.PasswordReset, "", now),
		codeRecord(account.Admin, "r1", code.VerifyEmail, "", now),
		codeRecord(account.Resident, "nobody", code.VerifyEmail, "", now),
	} {
		wantNoCode(t, s, fmt.Sprintf("GetCode(%s/%s/%s)", miss.Realm, miss.AccountID, miss.Purpose), miss)
	}
}

func testCodeReplace(t *testing.T, s Store) {
	now := wall()
	old := codeRecord(account.Resident, "r1", code.VerifyEmail, "c1", now)
	mustPutCode(t, s, old)
	if n, err := s.ReserveAttempt(ctx(t), old); err != nil || n != 1 {
		t.Fatalf("ReserveAttempt = %d, %v; want 1", n, err)
	}
	repl := codeRecord(account.Resident, "r1", code.VerifyEmail, "c2", now.Add(time.Minute))
	mustPutCode(t, s, repl)
	wantCode(t, s, "after replacement", repl)

	_, err := s.ReserveAttempt(ctx(t), old)
	wantErr(t, "ReserveAttempt of the replaced code", err, store.ErrConflict)
	wantErr(t, "MarkCodeVerified of the replaced code", s.MarkCodeVerified(ctx(t), old, now.Add(time.Hour)), store.ErrConflict)
	wantCode(t, s, "new code after the old one was used", repl)
}

func testReserveAttempt(t *testing.T, s Store) {
	now := wall()
	r := codeRecord(account.Resident, "r1", code.PasswordReset, "c1", now)
	other := codeRecord(account.Resident, "r1", code.VerifyEmail, "c2", now)
	mustPutCode(t, s, r, other)
	for want := 1; want <= code.MaxAttempts; want++ {
		// The record as first read: the store counts on the stored code.
		n, err := s.ReserveAttempt(ctx(t), r)
		if err != nil || n != want {
			t.Fatalf("ReserveAttempt #%d = %d, %v; want %d", want, n, err, want)
		}
	}
	_, err := s.ReserveAttempt(ctx(t), r)
	wantErr(t, "ReserveAttempt with the tries used up", err, store.ErrConflict)
	want := r
	want.Attempts = code.MaxAttempts
	wantCode(t, s, "after the tries ran out", want)
	wantCode(t, s, "other purpose", other)

	// Only a pending code takes tries.
	v := codeRecord(account.Admin, "a1", code.PasswordReset, "c3", now)
	mustPutCode(t, s, v)
	if err := s.MarkCodeVerified(ctx(t), v, now.Add(time.Hour)); err != nil {
		t.Fatalf("MarkCodeVerified: %v", err)
	}
	verified := mustGetCode(t, s, v)
	_, err = s.ReserveAttempt(ctx(t), v)
	wantErr(t, "ReserveAttempt of a verified code", err, store.ErrConflict)
	wantCode(t, s, "verified code after a refused try", verified)

	missing := codeRecord(account.Resident, "r1", code.VerifyPhone, "c1", now)
	_, err = s.ReserveAttempt(ctx(t), missing)
	wantErr(t, "ReserveAttempt with no code stored", err, store.ErrNotFound)
	wantNoCode(t, s, "ReserveAttempt created a code", missing)
}

// testReserveAttemptConcurrent: of many tries at once, exactly MaxAttempts
// are counted, each with its own number; the rest are refused.
func testReserveAttemptConcurrent(t *testing.T, s Store) {
	const n = 20
	r := codeRecord(account.Resident, "r1", code.VerifyEmail, "c1", wall())
	mustPutCode(t, s, r)
	got := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			got[i], errs[i] = s.ReserveAttempt(ctx(t), r)
		})
	}
	close(start)
	wg.Wait()
	var counted []int
	for i, err := range errs {
		switch {
		case err == nil:
			counted = append(counted, got[i])
		case !errors.Is(err, store.ErrConflict):
			t.Fatalf("ReserveAttempt %d: %v, want nil or ErrConflict", i, err)
		}
	}
	slices.Sort(counted)
	want := make([]int, code.MaxAttempts)
	for i := range want {
		want[i] = i + 1
	}
	if !slices.Equal(counted, want) {
		t.Errorf("counts returned = %v, want each of 1..%d once", counted, code.MaxAttempts)
	}
	if a := mustGetCode(t, s, r).Attempts; a != code.MaxAttempts {
		t.Errorf("attempts stored = %d, want %d", a, code.MaxAttempts)
	}
}

// testReservedTryRedeems: a try counted within the limit stays redeemable
// after later tries use up the rest (both redemptions), while no further
// try is counted.
func testReservedTryRedeems(t *testing.T, s Store) {
	r1 := resident("r1", "juan@example.com", "+639171234567", account.StatusApproved, at(0))
	r1.EmailVerified = false
	mustCreate(t, s, r1)
	now := wall()
	reset := codeRecord(account.Resident, "r1", code.PasswordReset, "c1", now)
	verify := codeRecord(account.Resident, "r1", code.VerifyEmail, "c2", now)
	mustPutCode(t, s, reset, verify)
	for _, r := range []code.Record{reset, verify} {
		if n, err := s.ReserveAttempt(ctx(t), r); err != nil || n != 1 {
			t.Fatalf("first ReserveAttempt = %d, %v; want 1", n, err)
		}
		for range code.MaxAttempts - 1 {
			if _, err := s.ReserveAttempt(ctx(t), r); err != nil {
				t.Fatalf("ReserveAttempt: %v", err)
			}
		}
		_, err := s.ReserveAttempt(ctx(t), r)
		wantErr(t, "ReserveAttempt with the tries used up", err, store.ErrConflict)
	}
	// The first try's record, as Check returns it.
	reset.Attempts, verify.Attempts = 1, 1
	exp := now.Add(15 * time.Minute)
	if err := s.MarkCodeVerified(ctx(t), reset, exp); err != nil {
		t.Fatalf("MarkCodeVerified of a try within the limit: %v", err)
	}
	want := reset
	want.State, want.ExpiresAt, want.Attempts = code.Verified, exp, code.MaxAttempts
	wantCode(t, s, "after MarkCodeVerified", want)

	a := mustGet(t, s, account.Resident, "r1")
	a.EmailVerified = true
	if err := s.VerifyContact(ctx(t), a, verify); err != nil {
		t.Fatalf("VerifyContact of a try within the limit: %v", err)
	}
	wantNoCode(t, s, "code after VerifyContact", verify)
	if got := mustGet(t, s, account.Resident, "r1"); !got.EmailVerified {
		t.Errorf("email not verified after VerifyContact")
	}
}

// testRedeemPastLimit: a code with more than MaxAttempts tries counted (as
// a writer that counted without the limit could leave it) is not redeemed
// by any redemption, and takes no further try.
func testRedeemPastLimit(t *testing.T, s Store) {
	r1 := resident("r1", "juan@example.com", "+639171234567", account.StatusApproved, at(0))
	r1.PhoneVerified = false
	mustCreate(t, s, r1)
	now := wall()
	reset := codeRecord(account.Resident, "r1", code.PasswordReset, "c1", now)
	verify := codeRecord(account.Resident, "r1", code.VerifyPhone, "c2", now)
	reset.Attempts, verify.Attempts = code.MaxAttempts+1, code.MaxAttempts+1
	mustPutCode(t, s, reset, verify)

	_, err := s.ReserveAttempt(ctx(t), reset)
	wantErr(t, "ReserveAttempt past the limit", err, store.ErrConflict)
	wantErr(t, "MarkCodeVerified past the limit", s.MarkCodeVerified(ctx(t), reset, now.Add(time.Hour)), store.ErrConflict)
	wantCode(t, s, "reset code after refused redemption", reset)

	a := mustGet(t, s, account.Resident, "r1")
	verified := a
	verified.PhoneVerified = true
	wantErr(t, "VerifyContact past the limit", s.VerifyContact(ctx(t), verified, verify), store.ErrConflict)
	sameAccount(t, "account after a refused VerifyContact", mustGet(t, s, account.Resident, "r1"), a)
	wantCode(t, s, "contact code after refused redemption", verify)

	// A verified reset code past the limit is not redeemed by a reset either.
	gone := codeRecord(account.Resident, "r1", code.PasswordReset, "c3", now)
	gone.State, gone.Attempts = code.Verified, code.MaxAttempts+1
	mustPutCode(t, s, gone)
	changed := a
	changed.PasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3"
	_, err = s.ResetPassword(ctx(t), changed, gone, nil)
	wantErr(t, "ResetPassword past the limit", err, store.ErrConflict)
	sameAccount(t, "account after a refused ResetPassword", mustGet(t, s, account.Resident, "r1"), a)
}

func testMarkVerified(t *testing.T, s Store) {
	now := wall()
	r := codeRecord(account.Resident, "r1", code.PasswordReset, "c1", now)
	mustPutCode(t, s, r)
	if _, err := s.ReserveAttempt(ctx(t), r); err != nil {
		t.Fatalf("ReserveAttempt: %v", err)
	}
	exp := now.Add(15 * time.Minute)
	if err := s.MarkCodeVerified(ctx(t), r, exp); err != nil {
		t.Fatalf("MarkCodeVerified: %v", err)
	}
	want := r
	want.State, want.ExpiresAt, want.Attempts = code.Verified, exp, 1
	wantCode(t, s, "after MarkCodeVerified", want)

	wantErr(t, "MarkCodeVerified twice", s.MarkCodeVerified(ctx(t), r, exp.Add(time.Minute)), store.ErrConflict)
	wantErr(t, "MarkCodeVerified with the verified record", s.MarkCodeVerified(ctx(t), want, exp.Add(time.Minute)), store.ErrConflict)
	wantCode(t, s, "after refused MarkCodeVerified", want)

	missing := codeRecord(account.Resident, "r1", code.VerifyEmail, "c1", now)
	wantErr(t, "MarkCodeVerified with no code stored", s.MarkCodeVerified(ctx(t), missing, exp), store.ErrNotFound)
	wantNoCode(t, s, "MarkCodeVerified created a code", missing)
}

func testMarkVerifiedConcurrent(t *testing.T, s Store) {
	const n = 20
	now := wall()
	r := codeRecord(account.Resident, "r1", code.PasswordReset, "c1", now)
	mustPutCode(t, s, r)
	winner := oneWins(t, n, "MarkCodeVerified", func(i int) error {
		return s.MarkCodeVerified(ctx(t), r, now.Add(time.Duration(i+1)*time.Minute))
	})
	want := r
	want.State, want.ExpiresAt = code.Verified, now.Add(time.Duration(winner+1)*time.Minute)
	wantCode(t, s, "the winner's write", want)
}

// testCodesBesideSessions: codes share their account's partition in some
// stores; listing and ending sessions must not see or touch them.
func testCodesBesideSessions(t *testing.T, s Store) {
	a := endSessionsFixture(t, s, 3)
	now := wall()
	codes := []code.Record{
		codeRecord(account.Resident, "r1", code.VerifyEmail, "c1", now),
		codeRecord(account.Resident, "r1", code.VerifyPhone, "c2", now),
		codeRecord(account.Resident, "r1", code.PasswordReset, "c3", now),
		codeRecord(account.Admin, "r1", code.PasswordReset, "c4", now),
	}
	mustPutCode(t, s, codes...)
	ss, err := s.ListSessions(ctx(t), account.Resident, "r1")
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	if got, want := sessionKeys(ss), []string{"k1-000", "k1-001", "k1-002"}; !slices.Equal(got, want) {
		t.Fatalf("ListSessions = %v, want %v", got, want)
	}
	if n, err := s.UpdateAccountEndSessions(ctx(t), a); err != nil || n != 3 {
		t.Fatalf("UpdateAccountEndSessions = %d, %v; want 3", n, err)
	}
	if n, err := s.EndSessions(ctx(t), account.Resident, "r1", nil); err != nil || n != 0 {
		t.Fatalf("EndSessions = %d, %v; want 0", n, err)
	}
	if n, err := s.EndSessions(ctx(t), account.Admin, "r1", nil); err != nil || n != 1 {
		t.Fatalf("EndSessions(admin) = %d, %v; want 1", n, err)
	}
	for _, c := range codes {
		wantCode(t, s, "code after ending sessions", c)
	}
	if got := mustGet(t, s, account.Resident, "r1"); got.Version != 3 {
		t.Errorf("account version = %d, want 3", got.Version)
	}
}

func testVerifyContact(t *testing.T, s Store) {
	r1 := resident("r1", "juan@example.com", "+639171234567", account.StatusApproved, at(0))
	r1.PhoneVerified = false
	mustCreate(t, s, r1)
	now := wall()
	c := codeRecord(account.Resident, "r1", code.VerifyPhone, "c1", now)
	email := codeRecord(account.Resident, "r1", code.VerifyEmail, "c2", now)
	mustPutCode(t, s, c, email)
	if _, err := s.ReserveAttempt(ctx(t), c); err != nil {
		t.Fatalf("ReserveAttempt: %v", err)
	}

	a := mustGet(t, s, account.Resident, "r1")
	a.PhoneVerified, a.UpdatedAt = true, at(5)
	if err := s.VerifyContact(ctx(t), a, c); err != nil {
		t.Fatalf("VerifyContact: %v", err)
	}
	want := a
	want.Version = 2
	sameAccount(t, "account after VerifyContact", mustGet(t, s, account.Resident, "r1"), want)
	wantNoCode(t, s, "code after VerifyContact", c)
	wantCode(t, s, "the other purpose's code", email)

	// The same code a second time (a concurrent verification that lost).
	again := want
	again.FirstName = "Again"
	wantGoneOrConflict(t, "VerifyContact with a used code", s.VerifyContact(ctx(t), again, c))
	sameAccount(t, "account after a refused VerifyContact", mustGet(t, s, account.Resident, "r1"), want)
}

func testVerifyContactRefused(t *testing.T, s Store) {
	mustCreate(t, s, resident("r1", "juan@example.com", "", account.StatusApproved, at(0)))
	now := wall()
	c := codeRecord(account.Resident, "r1", code.VerifyEmail, "c1", now)
	mustPutCode(t, s, c)
	stale := mustGet(t, s, account.Resident, "r1")
	cur := stale
	cur.Barangay = "Bagong Silang"
	if err := s.UpdateAccount(ctx(t), cur); err != nil {
		t.Fatalf("UpdateAccount: %v", err)
	}
	cur.Version = 2

	verified := stale
	verified.EmailVerified = true
	wantErr(t, "VerifyContact from a stale version", s.VerifyContact(ctx(t), verified, c), store.ErrConflict)
	sameAccount(t, "account after the stale VerifyContact", mustGet(t, s, account.Resident, "r1"), cur)
	wantCode(t, s, "code after the stale VerifyContact", c)

	// A new code replaced the one checked.
	repl := codeRecord(account.Resident, "r1", code.VerifyEmail, "c2", now.Add(time.Minute))
	mustPutCode(t, s, repl)
	next := cur
	next.EmailVerified = true
	wantErr(t, "VerifyContact with a replaced code", s.VerifyContact(ctx(t), next, c), store.ErrConflict)
	sameAccount(t, "account after VerifyContact with a replaced code", mustGet(t, s, account.Resident, "r1"), cur)
	wantCode(t, s, "the replacing code", repl)

	// The code is in another state than the record says.
	if err := s.MarkCodeVerified(ctx(t), repl, now.Add(time.Hour)); err != nil {
		t.Fatalf("MarkCodeVerified: %v", err)
	}
	wantErr(t, "VerifyContact in the wrong state", s.VerifyContact(ctx(t), next, repl), store.ErrConflict)
	sameAccount(t, "account after VerifyContact in the wrong state", mustGet(t, s, account.Resident, "r1"), cur)

	// No code at all.
	none := codeRecord(account.Resident, "r1", code.VerifyPhone, "c3", now)
	wantGoneOrConflict(t, "VerifyContact without a code", s.VerifyContact(ctx(t), next, none))
	sameAccount(t, "account after VerifyContact without a code", mustGet(t, s, account.Resident, "r1"), cur)

	// The account is gone (here: never was) while its code is there.
	ghost := resident("ghost", "ghost@example.com", "", account.StatusApproved, at(0))
	ghost.Version = 1
	gc := codeRecord(account.Resident, "ghost", code.VerifyEmail, "c4", now)
	mustPutCode(t, s, gc)
	wantErr(t, "VerifyContact of a missing account", s.VerifyContact(ctx(t), ghost, gc), store.ErrNotFound)
	wantCode(t, s, "code of the missing account", gc)
	_, err := s.GetAccount(ctx(t), account.Resident, "ghost")
	wantErr(t, "GetAccount after VerifyContact of a missing account", err, store.ErrNotFound)
}

// resetFixture is endSessionsFixture with a verified reset code for the
// resident r1 and other codes beside it.
func resetFixture(t *testing.T, s Store, sessions int) (account.Account, code.Record, []code.Record) {
	t.Helper()
	a := endSessionsFixture(t, s, sessions)
	now := wall()
	r := codeRecord(account.Resident, "r1", code.PasswordReset, "c1", now)
	mustPutCode(t, s, r)
	if err := s.MarkCodeVerified(ctx(t), r, now.Add(15*time.Minute)); err != nil {
		t.Fatalf("MarkCodeVerified: %v", err)
	}
	r = mustGetCode(t, s, r)
	others := []code.Record{
		codeRecord(account.Resident, "r1", code.VerifyEmail, "c2", now),
		codeRecord(account.Admin, "r1", code.PasswordReset, "c3", now),
	}
	mustPutCode(t, s, others...)
	return a, r, others
}

func testResetPassword(t *testing.T, s Store) {
	a, r, others := resetFixture(t, s, 5)
	a.PasswordHash, a.UpdatedAt = "$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3", at(60)
	// Keys that are not sessions of the account keep nothing else alive.
	keep := []string{"k1-001", "k1-003", "no-such-session", "k2", "ka"}
	n, err := s.ResetPassword(ctx(t), a, r, keep)
	if err != nil || n != 3 {
		t.Fatalf("ResetPassword = %d, %v; want 3, nil", n, err)
	}
	want := a
	want.Version, want.SessionEpoch = 2, 2
	sameAccount(t, "account after ResetPassword", mustGet(t, s, account.Resident, "r1"), want)
	left, err := s.ListSessions(ctx(t), account.Resident, "r1")
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	if got := sessionKeys(left); !slices.Equal(got, []string{"k1-001", "k1-003"}) {
		t.Errorf("sessions left = %v, want [k1-001 k1-003]", got)
	}
	wantNewEpoch(t, s, account.Resident, "r1", 2)
	checkOthersKept(t, s)
	wantNoCode(t, s, "reset code after ResetPassword", r)
	for _, o := range others {
		wantCode(t, s, "other code after ResetPassword", o)
	}

	// No keep: every session ends.
	r2 := codeRecord(account.Resident, "r1", code.PasswordReset, "c5", wall())
	mustPutCode(t, s, r2)
	if n, err := s.ResetPassword(ctx(t), want, r2, nil); err != nil || n != 2 {
		t.Fatalf("ResetPassword keeping nothing = %d, %v; want 2, nil", n, err)
	}
	if left, err := s.ListSessions(ctx(t), account.Resident, "r1"); err != nil || len(left) != 0 {
		t.Errorf("sessions left: %v, %v", sessionKeys(left), err)
	}
	if v := mustGet(t, s, account.Resident, "r1").Version; v != 3 {
		t.Errorf("version = %d, want 3", v)
	}
}

// checkResetRefused checks a refused ResetPassword changed nothing.
func checkResetRefused(t *testing.T, s Store, a account.Account, r code.Record, sessions int) {
	t.Helper()
	sameAccount(t, "account after a refused ResetPassword", mustGet(t, s, account.Resident, "r1"), a)
	if left, err := s.ListSessions(ctx(t), account.Resident, "r1"); err != nil || len(left) != sessions {
		t.Errorf("sessions after a refused ResetPassword: %d, %v; want all %d", len(left), err, sessions)
	}
	checkOthersKept(t, s)
	wantCode(t, s, "reset code after a refused ResetPassword", r)
}

func resetRefusals(t *testing.T, s Store, a account.Account, r code.Record, sessions int) {
	t.Helper()
	changed := a
	changed.PasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3"
	stale, ahead := changed, changed
	stale.Version, ahead.Version = a.Version-1, a.Version+1
	wrongID, wrongState := r, r
	wrongID.ID, wrongState.State = "other", code.Pending
	for _, tc := range []struct {
		name string
		a    account.Account
		r    code.Record
		want error // nil: ErrConflict or ErrNotFound
	}{
		{"stale version", stale, r, store.ErrConflict},
		{"version never stored", ahead, r, store.ErrConflict},
		{"replaced code", changed, wrongID, store.ErrConflict},
		{"code in another state", changed, wrongState, store.ErrConflict},
		{"no code", changed, codeRecord(account.Resident, "r1", code.VerifyPhone, "c1", wall()), nil},
	} {
		n, err := s.ResetPassword(ctx(t), tc.a, tc.r, []string{"k1-001"})
		if tc.want == nil {
			wantGoneOrConflict(t, tc.name, err)
		} else {
			wantErr(t, tc.name, err, tc.want)
		}
		if n != 0 {
			t.Errorf("%s: count %d, want 0", tc.name, n)
		}
		checkResetRefused(t, s, a, r, sessions)
	}
}

func testResetPasswordRefused(t *testing.T, s Store) {
	a, r, _ := resetFixture(t, s, 5)
	resetRefusals(t, s, a, r, 5)

	// The account is gone (here: never was) while its code and sessions are there.
	ghost := resident("ghost", "ghost@example.com", "", account.StatusApproved, at(0))
	ghost.Version = 1
	gc := codeRecord(account.Resident, "ghost", code.PasswordReset, "c9", wall())
	gc.State = code.Verified
	mustPutCode(t, s, gc)
	mustCreateSessions(t, s, sess(account.Resident, "ghost", "kg", at(0)))
	_, err := s.ResetPassword(ctx(t), ghost, gc, nil)
	wantErr(t, "ResetPassword of a missing account", err, store.ErrNotFound)
	wantCode(t, s, "code of the missing account", gc)
	if left, err := s.ListSessions(ctx(t), account.Resident, "ghost"); err != nil || len(left) != 1 {
		t.Errorf("sessions of the missing account: %d, %v; want 1", len(left), err)
	}
}

// testResetPasswordMany goes past what fits in one DynamoDB transaction.
func testResetPasswordMany(t *testing.T, s Store) {
	const n = 130
	a, r, others := resetFixture(t, s, n)
	resetRefusals(t, s, a, r, n)

	a.PasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3"
	keep := []string{"k1-000", "k1-129"}
	got, err := s.ResetPassword(ctx(t), a, r, keep)
	if err != nil || got != n-2 {
		t.Fatalf("ResetPassword = %d, %v; want %d, nil", got, err, n-2)
	}
	left, err := s.ListSessions(ctx(t), account.Resident, "r1")
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	if g := sessionKeys(left); !slices.Equal(g, keep) {
		t.Errorf("sessions left = %v, want %v", g, keep)
	}
	if v := mustGet(t, s, account.Resident, "r1"); v.Version != 2 || v.PasswordHash != a.PasswordHash {
		t.Errorf("account after ResetPassword: version %d hash %q", v.Version, v.PasswordHash)
	}
	checkOthersKept(t, s)
	wantNoCode(t, s, "reset code after ResetPassword", r)
	for _, o := range others {
		wantCode(t, s, "other code after ResetPassword", o)
	}
}
