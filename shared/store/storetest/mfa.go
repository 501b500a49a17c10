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
	"github.com/ekolek/identity/shared/mfa"
	"github.com/ekolek/identity/shared/store"
)

// mfaTests are the second factor's part of the suite (mfa.Store and the
// session's step-up stamp).
var mfaTests = []struct {
	name string
	fn   func(t *testing.T, s Store)
}{
	{"MFA/Empty", testMFAEmpty},
	{"MFA/FactorRoundTrip", testFactorRoundTrip},
	{"MFA/Confirm", testConfirmFactor},
	{"MFA/ConfirmConcurrent", testConfirmConcurrent},
	{"MFA/TOTPStep", testTOTPStep},
	{"MFA/TOTPStepConcurrent", testTOTPStepConcurrent},
	{"MFA/Passkey", testPasskey},
	{"MFA/PasskeyClaimed", testPasskeyClaimed},
	{"MFA/PasskeyCounterConcurrent", testPasskeyCounterConcurrent},
	{"MFA/Remove", testRemoveFactor},
	{"MFA/RemoveConcurrent", testRemoveConcurrent},
	{"MFA/Rename", testRenameFactor},
	{"MFA/Clear", testClearFactors},
	{"MFA/ClearManySessions", testClearFactorsManySessions},
	{"MFA/ClearConcurrent", testClearConcurrent},
	{"MFA/Recovery", testRecovery},
	{"MFA/RecoveryConcurrent", testRecoveryConcurrent},
	{"MFA/Ceremony", testCeremony},
	{"MFA/CeremonyConcurrent", testCeremonyConcurrent},
	{"MFA/Token", testMFAToken},
	{"MFA/TokenAttemptsConcurrent", testMFATokenAttemptsConcurrent},
	{"MFA/TokenRedeemConcurrent", testMFATokenRedeemConcurrent},
	{"MFA/TokenRelease", testMFATokenRelease},
	{"MFA/BesideSessions", testMFABesideSessions},
	{"Session/SecondFactorAndReauth", testSessionReauth},
}

func totpFactor(realm account.Realm, accountID, id string, created time.Time) mfa.Factor {
	return mfa.Factor{
		Realm: realm, AccountID: accountID, ID: id, Type: mfa.TOTP, Name: "Phone " + id,
		State: mfa.Pending, CreatedAt: created, ExpiresAt: created.Add(mfa.PendingTTL),
		Secret: "k1." + id + "-sealed",
	}
}

func passkeyFactor(realm account.Realm, accountID, id string, cred byte, created time.Time) mfa.Factor {
	return mfa.Factor{
		Realm: realm, AccountID: accountID, ID: id, Type: mfa.WebAuthn, Name: "Key " + id,
		State: mfa.Active, CreatedAt: created,
		Passkey: &mfa.Passkey{
			CredentialID: []byte{cred, 0, 0xff, 1}, PublicKey: []byte{0xa5, 1, 2, 3, cred},
			SignCount: 7, AAGUID: []byte{0xad, 0xce, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, cred},
			Transports: []string{"internal", "hybrid"}, AttestationType: "none",
			UserVerified: true, BackupEligible: true, BackupState: true,
		},
	}
}

func normFactor(f mfa.Factor) mfa.Factor {
	f.CreatedAt, f.LastUsedAt, f.ExpiresAt = ms(f.CreatedAt), ms(f.LastUsedAt), ms(f.ExpiresAt)
	return f
}

// sameAfter compares got and want as norm makes them (times to the
// millisecond, say).
func sameAfter[T any](t *testing.T, what string, got, want T, norm func(T) T) {
	t.Helper()
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

func sameFactor(t *testing.T, what string, got, want mfa.Factor) {
	t.Helper()
	sameAfter(t, what, got, want, normFactor)
	if !reflect.DeepEqual(got.Passkey, want.Passkey) {
		t.Errorf("%s: passkey\n got %+v\nwant %+v", what, got.Passkey, want.Passkey)
	}
}

func sameEnrollment(t *testing.T, what string, got, want mfa.Enrollment) {
	t.Helper()
	got.RecoveryAt, want.RecoveryAt = ms(got.RecoveryAt), ms(want.RecoveryAt)
	if len(got.Recovery) == 0 {
		got.Recovery = nil
	}
	slices.Sort(got.Recovery)
	want.Recovery = slices.Sorted(slices.Values(want.Recovery))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func mustFactors(t *testing.T, s Store, realm account.Realm, accountID string) (mfa.Enrollment, []mfa.Factor) {
	t.Helper()
	e, fs, err := s.Factors(ctx(t), realm, accountID)
	if err != nil {
		t.Fatalf("Factors(%s/%s): %v", realm, accountID, err)
	}
	return e, fs
}

func mustGetFactor(t *testing.T, s Store, f mfa.Factor) mfa.Factor {
	t.Helper()
	got, err := s.GetFactor(ctx(t), f.Realm, f.AccountID, f.ID)
	if err != nil {
		t.Fatalf("GetFactor(%s): %v", f.ID, err)
	}
	return got
}

func mustCreateFactor(t *testing.T, s Store, fs ...mfa.Factor) {
	t.Helper()
	for _, f := range fs {
		if err := s.CreateFactor(ctx(t), f); err != nil {
			t.Fatalf("CreateFactor(%s): %v", f.ID, err)
		}
	}
}

// confirmed confirms the stored pending f and returns it as stored, with
// the enrollment e (as read) moved on by one active factor.
func confirmed(t *testing.T, s Store, f mfa.Factor, e mfa.Enrollment, step int64) (mfa.Factor, mfa.Enrollment) {
	t.Helper()
	f.State, f.ExpiresAt, f.LastStep = mfa.Active, time.Time{}, step
	e.Active++
	if err := s.ConfirmFactor(ctx(t), f, e); err != nil {
		t.Fatalf("ConfirmFactor(%s): %v", f.ID, err)
	}
	e.Version++
	return f, e
}

func recoveryHashes(prefix string) []string {
	hs := make([]string, mfa.RecoveryCount)
	for i := range hs {
		hs[i] = fmt.Sprintf("%s%062x", prefix, i)
	}
	return hs
}

func testMFAEmpty(t *testing.T, s Store) {
	e, fs := mustFactors(t, s, account.Admin, "a1")
	sameEnrollment(t, "no enrollment", e, mfa.Enrollment{Realm: account.Admin, AccountID: "a1"})
	if len(fs) != 0 {
		t.Errorf("factors = %+v, want none", fs)
	}
	_, err := s.GetFactor(ctx(t), account.Admin, "a1", "f1")
	wantErr(t, "GetFactor of nothing", err, store.ErrNotFound)
	_, err = s.LookupPasskey(ctx(t), account.Admin, []byte{1, 2, 3})
	wantErr(t, "LookupPasskey of nothing", err, store.ErrNotFound)
	wantErr(t, "UseRecoveryCode without an enrollment",
		s.UseRecoveryCode(ctx(t), account.Admin, "a1", recoveryHashes("aa")[0]), store.ErrNotFound)
}

func testFactorRoundTrip(t *testing.T, s Store) {
	now := wall()
	f1 := totpFactor(account.Resident, "r1", "f1", now)
	f2 := totpFactor(account.Resident, "r1", "f2", now.Add(time.Second))
	f2.LastUsedAt, f2.LastStep = now.Add(2*time.Second), 12345
	other := totpFactor(account.Admin, "r1", "f3", now)
	mustCreateFactor(t, s, f2, f1, other)
	wantErr(t, "CreateFactor with a taken id", s.CreateFactor(ctx(t), totpFactor(account.Resident, "r1", "f1", now)), store.ErrConflict)

	sameFactor(t, "GetFactor", mustGetFactor(t, s, f1), f1)
	e, fs := mustFactors(t, s, account.Resident, "r1")
	sameEnrollment(t, "enrollment untouched by pending factors", e, mfa.Enrollment{Realm: account.Resident, AccountID: "r1"})
	if len(fs) != 2 {
		t.Fatalf("Factors = %d factors, want 2 (the other realm's apart)", len(fs))
	}
	sameFactor(t, "first factor (oldest first)", fs[0], f1)
	sameFactor(t, "second factor", fs[1], f2)
}

func testConfirmFactor(t *testing.T, s Store) {
	now := wall()
	f := totpFactor(account.Admin, "a1", "f1", now)
	mustCreateFactor(t, s, f)
	e, _ := mustFactors(t, s, account.Admin, "a1")
	e.Recovery, e.RecoveryKey, e.RecoveryAt = recoveryHashes("aa"), "k1", now
	f.LastUsedAt = now.Add(time.Second)
	f, e = confirmed(t, s, f, e, 1000)
	sameFactor(t, "confirmed factor", mustGetFactor(t, s, f), f)
	got, _ := mustFactors(t, s, account.Admin, "a1")
	sameEnrollment(t, "enrollment after the first factor", got, e)
	if e.Version != 1 || got.Active != 1 {
		t.Errorf("enrollment version %d, active %d; want 1, 1", got.Version, got.Active)
	}

	// An active factor is not confirmed again, nor with a stale enrollment.
	again := f
	again.LastStep = 2000
	wantErr(t, "ConfirmFactor of an active factor", s.ConfirmFactor(ctx(t), again, got), store.ErrConflict)
	g := totpFactor(account.Admin, "a1", "f2", now)
	mustCreateFactor(t, s, g)
	stale := got
	stale.Version = 0
	stale.Active = 2
	g.State = mfa.Active
	wantErr(t, "ConfirmFactor with a stale enrollment", s.ConfirmFactor(ctx(t), g, stale), store.ErrConflict)
	sameFactor(t, "factor after a refused confirmation", mustGetFactor(t, s, g), totpFactor(account.Admin, "a1", "f2", now))
	after, _ := mustFactors(t, s, account.Admin, "a1")
	sameEnrollment(t, "enrollment after refused confirmations", after, e)

	missing := totpFactor(account.Admin, "a1", "f9", now)
	wantErr(t, "ConfirmFactor of a missing factor", s.ConfirmFactor(ctx(t), missing, after), store.ErrNotFound)
}

// testConfirmConcurrent: two pending factors confirmed at once from the
// same enrollment read: one passes, so the count cannot be lost.
func testConfirmConcurrent(t *testing.T, s Store) {
	now := wall()
	fs := []mfa.Factor{totpFactor(account.Admin, "a1", "f1", now), totpFactor(account.Admin, "a1", "f2", now)}
	mustCreateFactor(t, s, fs...)
	e, _ := mustFactors(t, s, account.Admin, "a1")
	oneWins(t, len(fs), "ConfirmFactor", func(i int) error {
		f, next := fs[i], e
		f.State, f.ExpiresAt = mfa.Active, time.Time{}
		next.Active++
		return s.ConfirmFactor(ctx(t), f, next)
	})
	got, _ := mustFactors(t, s, account.Admin, "a1")
	if got.Active != 1 || got.Version != 1 {
		t.Errorf("enrollment = %+v, want one active factor at version 1", got)
	}
}

func testTOTPStep(t *testing.T, s Store) {
	now := wall()
	f := totpFactor(account.Resident, "r1", "f1", now)
	mustCreateFactor(t, s, f)
	e, _ := mustFactors(t, s, account.Resident, "r1")
	pending := f
	wantErr(t, "UseTOTPStep of a pending factor", s.UseTOTPStep(ctx(t), pending, 2000), store.ErrConflict)
	f, _ = confirmed(t, s, f, e, 1000)

	for _, st := range []int64{999, 1000} {
		wantErr(t, fmt.Sprintf("UseTOTPStep(%d) after step 1000", st), s.UseTOTPStep(ctx(t), f, st), store.ErrConflict)
	}
	f.LastUsedAt, f.Secret = now.Add(time.Minute), "k2.resealed"
	if err := s.UseTOTPStep(ctx(t), f, 1001); err != nil {
		t.Fatalf("UseTOTPStep(1001): %v", err)
	}
	f.LastStep = 1001
	sameFactor(t, "after a step", mustGetFactor(t, s, f), f)
	wantErr(t, "UseTOTPStep(1001) again", s.UseTOTPStep(ctx(t), f, 1001), store.ErrConflict)
	missing := totpFactor(account.Resident, "r1", "f9", now)
	wantErr(t, "UseTOTPStep of a missing factor", s.UseTOTPStep(ctx(t), missing, 5000), store.ErrNotFound)
}

// testTOTPStepConcurrent: one code used at once in many places: exactly
// one use records its step.
func testTOTPStepConcurrent(t *testing.T, s Store) {
	now := wall()
	f := totpFactor(account.Admin, "a1", "f1", now)
	mustCreateFactor(t, s, f)
	e, _ := mustFactors(t, s, account.Admin, "a1")
	f, _ = confirmed(t, s, f, e, 1000)
	oneWins(t, 8, "UseTOTPStep of one step", func(int) error { return s.UseTOTPStep(ctx(t), f, 1001) })
	if got := mustGetFactor(t, s, f).LastStep; got != 1001 {
		t.Errorf("last step = %d, want 1001", got)
	}
}

func testPasskey(t *testing.T, s Store) {
	now := wall()
	p := passkeyFactor(account.Resident, "r1", "p1", 1, now)
	e := mfa.Enrollment{Realm: account.Resident, AccountID: "r1", Active: 1, Recovery: recoveryHashes("bb"), RecoveryKey: "k1", RecoveryAt: now}
	if err := s.AddPasskey(ctx(t), p, e); err != nil {
		t.Fatalf("AddPasskey: %v", err)
	}
	e.Version = 1
	sameFactor(t, "GetFactor of a passkey", mustGetFactor(t, s, p), p)
	got, err := s.LookupPasskey(ctx(t), account.Resident, p.Passkey.CredentialID)
	if err != nil {
		t.Fatalf("LookupPasskey: %v", err)
	}
	sameFactor(t, "LookupPasskey", got, p)
	_, err = s.LookupPasskey(ctx(t), account.Admin, p.Passkey.CredentialID)
	wantErr(t, "LookupPasskey in the other realm", err, store.ErrNotFound)
	ge, _ := mustFactors(t, s, account.Resident, "r1")
	sameEnrollment(t, "enrollment with the passkey", ge, e)

	used := p
	used.Passkey = new(*p.Passkey)
	used.Passkey.SignCount, used.Passkey.BackupState, used.LastUsedAt = 9, false, now.Add(time.Minute)
	if err := s.UsePasskey(ctx(t), used, 7); err != nil {
		t.Fatalf("UsePasskey: %v", err)
	}
	sameFactor(t, "after a use", mustGetFactor(t, s, p), used)
	stale := used
	stale.Passkey = new(*used.Passkey)
	stale.Passkey.SignCount = 10
	wantErr(t, "UsePasskey from a stale count", s.UsePasskey(ctx(t), stale, 7), store.ErrConflict)
	sameFactor(t, "after a refused use", mustGetFactor(t, s, p), used)
}

// testPasskeyClaimed: a credential id is one factor's in its realm; a
// second registration of it changes nothing.
func testPasskeyClaimed(t *testing.T, s Store) {
	now := wall()
	p := passkeyFactor(account.Resident, "r1", "p1", 1, now)
	e := mfa.Enrollment{Realm: account.Resident, AccountID: "r1", Active: 1}
	if err := s.AddPasskey(ctx(t), p, e); err != nil {
		t.Fatalf("AddPasskey: %v", err)
	}
	thief := passkeyFactor(account.Resident, "r2", "p2", 1, now)
	te := mfa.Enrollment{Realm: account.Resident, AccountID: "r2", Active: 1}
	wantErr(t, "AddPasskey of a claimed credential", s.AddPasskey(ctx(t), thief, te), store.ErrConflict)
	if ge, fs := mustFactors(t, s, account.Resident, "r2"); ge.Version != 0 || len(fs) != 0 {
		t.Errorf("refused registration left %+v, %+v", ge, fs)
	}
	// The same credential in the other realm is another claim.
	admin := passkeyFactor(account.Admin, "r1", "p3", 1, now)
	if err := s.AddPasskey(ctx(t), admin, mfa.Enrollment{Realm: account.Admin, AccountID: "r1", Active: 1}); err != nil {
		t.Errorf("AddPasskey in the other realm: %v", err)
	}
	// A stale enrollment refuses the whole registration.
	q := passkeyFactor(account.Resident, "r1", "p4", 4, now)
	wantErr(t, "AddPasskey with a stale enrollment", s.AddPasskey(ctx(t), q, e), store.ErrConflict)
	_, err := s.LookupPasskey(ctx(t), account.Resident, q.Passkey.CredentialID)
	wantErr(t, "claim of a refused registration", err, store.ErrNotFound)
}

func testPasskeyCounterConcurrent(t *testing.T, s Store) {
	p := passkeyFactor(account.Admin, "a1", "p1", 1, wall())
	if err := s.AddPasskey(ctx(t), p, mfa.Enrollment{Realm: account.Admin, AccountID: "a1", Active: 1}); err != nil {
		t.Fatalf("AddPasskey: %v", err)
	}
	const n = 6
	winner := oneWins(t, n, "UsePasskey from one count", func(i int) error {
		u := p
		u.Passkey = new(*p.Passkey)
		u.Passkey.SignCount = uint32(8 + i)
		return s.UsePasskey(ctx(t), u, 7)
	})
	if got := mustGetFactor(t, s, p).Passkey.SignCount; got != uint32(8+winner) {
		t.Errorf("sign count = %d, want the winner's %d", got, 8+winner)
	}
}

func testRemoveFactor(t *testing.T, s Store) {
	now := wall()
	f := totpFactor(account.Admin, "a1", "f1", now)
	mustCreateFactor(t, s, f)
	e, _ := mustFactors(t, s, account.Admin, "a1")
	e.Recovery, e.RecoveryKey = recoveryHashes("cc"), "k1"
	f, e = confirmed(t, s, f, e, 1000)
	p := passkeyFactor(account.Admin, "a1", "p1", 2, now.Add(time.Second))
	e.Active++
	if err := s.AddPasskey(ctx(t), p, e); err != nil {
		t.Fatalf("AddPasskey: %v", err)
	}
	e.Version++

	stale := e
	stale.Version--
	stale.Active--
	wantErr(t, "RemoveFactor with a stale enrollment", s.RemoveFactor(ctx(t), p, stale), store.ErrConflict)
	sameFactor(t, "passkey after a refused removal", mustGetFactor(t, s, p), p)

	next := e
	next.Active--
	if err := s.RemoveFactor(ctx(t), p, next); err != nil {
		t.Fatalf("RemoveFactor(passkey): %v", err)
	}
	next.Version++
	_, err := s.GetFactor(ctx(t), account.Admin, "a1", "p1")
	wantErr(t, "removed passkey", err, store.ErrNotFound)
	_, err = s.LookupPasskey(ctx(t), account.Admin, p.Passkey.CredentialID)
	wantErr(t, "removed passkey's claim", err, store.ErrNotFound)
	ge, fs := mustFactors(t, s, account.Admin, "a1")
	sameEnrollment(t, "enrollment after a removal", ge, next)
	if len(fs) != 1 || fs[0].ID != f.ID {
		t.Errorf("factors left = %+v, want %s", fs, f.ID)
	}
	wantErr(t, "RemoveFactor of a missing factor", s.RemoveFactor(ctx(t), p, next), store.ErrNotFound)

	// The credential can be registered again once its factor is gone.
	if err := s.AddPasskey(ctx(t), passkeyFactor(account.Admin, "a1", "p2", 2, now), mfa.Enrollment{Realm: account.Admin, AccountID: "a1", Version: next.Version, Active: 2}); err != nil {
		t.Errorf("AddPasskey of a removed factor's credential: %v", err)
	}
}

// testRemoveConcurrent: removing each of an account's two factors at once
// from one read of its enrollment: one removal passes, so a rule such as
// "not the last factor" cannot be passed twice.
func testRemoveConcurrent(t *testing.T, s Store) {
	now := wall()
	fs := []mfa.Factor{passkeyFactor(account.Admin, "a1", "p1", 1, now), passkeyFactor(account.Admin, "a1", "p2", 2, now)}
	e := mfa.Enrollment{Realm: account.Admin, AccountID: "a1"}
	for _, f := range fs {
		e.Active++
		if err := s.AddPasskey(ctx(t), f, e); err != nil {
			t.Fatalf("AddPasskey: %v", err)
		}
		e.Version++
	}
	oneWins(t, len(fs), "RemoveFactor", func(i int) error {
		next := e
		next.Active--
		return s.RemoveFactor(ctx(t), fs[i], next)
	})
	if ge, left := mustFactors(t, s, account.Admin, "a1"); ge.Active != 1 || len(left) != 1 {
		t.Errorf("after concurrent removals: active %d, %d factors; want 1, 1", ge.Active, len(left))
	}
}

func testRecovery(t *testing.T, s Store) {
	now := wall()
	p := passkeyFactor(account.Resident, "r1", "p1", 1, now)
	old := recoveryHashes("dd")
	e := mfa.Enrollment{Realm: account.Resident, AccountID: "r1", Active: 1, Recovery: old, RecoveryKey: "k1", RecoveryAt: now}
	if err := s.AddPasskey(ctx(t), p, e); err != nil {
		t.Fatalf("AddPasskey: %v", err)
	}
	if err := s.UseRecoveryCode(ctx(t), account.Resident, "r1", old[3]); err != nil {
		t.Fatalf("UseRecoveryCode: %v", err)
	}
	wantErr(t, "UseRecoveryCode twice", s.UseRecoveryCode(ctx(t), account.Resident, "r1", old[3]), store.ErrConflict)
	wantErr(t, "UseRecoveryCode of an unknown code", s.UseRecoveryCode(ctx(t), account.Resident, "r1", recoveryHashes("ee")[0]), store.ErrConflict)
	wantErr(t, "UseRecoveryCode of another realm's account", s.UseRecoveryCode(ctx(t), account.Admin, "r1", old[4]), store.ErrNotFound)
	ge, _ := mustFactors(t, s, account.Resident, "r1")
	want := e
	want.Version, want.Recovery = 2, slices.Delete(slices.Clone(old), 3, 4)
	sameEnrollment(t, "after a use (the version moves)", ge, want)

	// A replacement from a stale read is refused: it would bring the used code back.
	stale := e
	stale.Version = 1
	wantErr(t, "ReplaceRecovery from before the use", s.ReplaceRecovery(ctx(t), stale), store.ErrConflict)

	fresh := ge
	fresh.Recovery, fresh.RecoveryKey, fresh.RecoveryAt = recoveryHashes("ff"), "k2", now.Add(time.Hour)
	if err := s.ReplaceRecovery(ctx(t), fresh); err != nil {
		t.Fatalf("ReplaceRecovery: %v", err)
	}
	fresh.Version++
	ge, _ = mustFactors(t, s, account.Resident, "r1")
	sameEnrollment(t, "after a replacement", ge, fresh)
	wantErr(t, "old code after a replacement", s.UseRecoveryCode(ctx(t), account.Resident, "r1", old[0]), store.ErrConflict)
	if err := s.UseRecoveryCode(ctx(t), account.Resident, "r1", fresh.Recovery[0]); err != nil {
		t.Errorf("new code: %v", err)
	}

	// The last code used leaves an empty set, not a broken item.
	for _, h := range fresh.Recovery[1:] {
		if err := s.UseRecoveryCode(ctx(t), account.Resident, "r1", h); err != nil {
			t.Fatalf("UseRecoveryCode: %v", err)
		}
	}
	ge, _ = mustFactors(t, s, account.Resident, "r1")
	if len(ge.Recovery) != 0 || ge.Active != 1 || ge.RecoveryKey != "k2" {
		t.Errorf("after every code: %+v", ge)
	}
}

func testRecoveryConcurrent(t *testing.T, s Store) {
	codes := recoveryHashes("aa")
	e := mfa.Enrollment{Realm: account.Admin, AccountID: "a1", Active: 1, Recovery: codes, RecoveryKey: "k1"}
	if err := s.AddPasskey(ctx(t), passkeyFactor(account.Admin, "a1", "p1", 1, wall()), e); err != nil {
		t.Fatalf("AddPasskey: %v", err)
	}
	oneWins(t, 8, "UseRecoveryCode of one code", func(int) error {
		return s.UseRecoveryCode(ctx(t), account.Admin, "a1", codes[5])
	})
	if ge, _ := mustFactors(t, s, account.Admin, "a1"); len(ge.Recovery) != mfa.RecoveryCount-1 || slices.Contains(ge.Recovery, codes[5]) {
		t.Errorf("codes left = %v", ge.Recovery)
	}
}

func ceremony(realm account.Realm, k, accountID string, now time.Time) mfa.Ceremony {
	return mfa.Ceremony{
		Realm: realm, Key: k, AccountID: accountID, Purpose: mfa.Login, TokenID: "t-" + k,
		Data: []byte(`{"challenge":"` + k + `"}`), CreatedAt: now, ExpiresAt: now.Add(mfa.CeremonyTTL),
	}
}

func sameCeremony(t *testing.T, what string, got, want mfa.Ceremony) {
	t.Helper()
	sameAfter(t, what, got, want, func(c mfa.Ceremony) mfa.Ceremony {
		c.CreatedAt, c.ExpiresAt = ms(c.CreatedAt), ms(c.ExpiresAt)
		return c
	})
}

func testCeremony(t *testing.T, s Store) {
	now := wall()
	c := ceremony(account.Resident, "c1", "r1", now)
	discoverable := ceremony(account.Resident, "c2", "", now)
	discoverable.Purpose, discoverable.TokenID = mfa.Login, ""
	for _, x := range []mfa.Ceremony{c, discoverable} {
		if err := s.PutCeremony(ctx(t), x); err != nil {
			t.Fatalf("PutCeremony(%s): %v", x.Key, err)
		}
	}
	wantErr(t, "PutCeremony with a taken key", s.PutCeremony(ctx(t), c), store.ErrConflict)
	_, err := s.TakeCeremony(ctx(t), account.Admin, "c1")
	wantErr(t, "TakeCeremony in the other realm", err, store.ErrNotFound)
	got, err := s.TakeCeremony(ctx(t), account.Resident, "c1")
	if err != nil {
		t.Fatalf("TakeCeremony: %v", err)
	}
	sameCeremony(t, "taken ceremony", got, c)
	_, err = s.TakeCeremony(ctx(t), account.Resident, "c1")
	wantErr(t, "TakeCeremony twice", err, store.ErrNotFound)
	got, err = s.TakeCeremony(ctx(t), account.Resident, "c2")
	if err != nil {
		t.Fatalf("TakeCeremony(discoverable): %v", err)
	}
	sameCeremony(t, "discoverable ceremony", got, discoverable)

	// An expired ceremony still comes back: the caller judges expiry.
	old := ceremony(account.Admin, "c3", "a1", now.Add(-time.Hour))
	if err := s.PutCeremony(ctx(t), old); err != nil {
		t.Fatalf("PutCeremony(expired): %v", err)
	}
	got, err = s.TakeCeremony(ctx(t), account.Admin, "c3")
	if err != nil {
		t.Fatalf("TakeCeremony(expired): %v", err)
	}
	sameCeremony(t, "expired ceremony", got, old)
}

func testCeremonyConcurrent(t *testing.T, s Store) {
	c := ceremony(account.Admin, "c1", "a1", wall())
	if err := s.PutCeremony(ctx(t), c); err != nil {
		t.Fatalf("PutCeremony: %v", err)
	}
	oneWinsOthers(t, 8, "TakeCeremony", func(int) error {
		_, err := s.TakeCeremony(ctx(t), account.Admin, "c1")
		return err
	}, store.ErrNotFound)
}

func mfaToken(realm account.Realm, accountID, id string, now time.Time) mfa.TokenRecord {
	return mfa.TokenRecord{
		Realm: realm, AccountID: accountID, ID: id, Purpose: mfa.ForLogin,
		Identifier: "juan@example.com", Remember: true, Epoch: 3,
		CreatedAt: now, ExpiresAt: now.Add(mfa.TokenTTL),
	}
}

func sameToken(t *testing.T, what string, got, want mfa.TokenRecord) {
	t.Helper()
	sameAfter(t, what, got, want, func(r mfa.TokenRecord) mfa.TokenRecord {
		r.CreatedAt, r.ExpiresAt = ms(r.CreatedAt), ms(r.ExpiresAt)
		return r
	})
}

func testMFAToken(t *testing.T, s Store) {
	now := wall()
	r := mfaToken(account.Resident, "r1", "t1", now)
	enroll := mfaToken(account.Admin, "r1", "t1", now)
	enroll.Purpose, enroll.Remember = mfa.ForEnroll, false
	for _, x := range []mfa.TokenRecord{r, enroll} {
		if err := s.PutMFAToken(ctx(t), x); err != nil {
			t.Fatalf("PutMFAToken: %v", err)
		}
	}
	wantErr(t, "PutMFAToken with a taken id", s.PutMFAToken(ctx(t), r), store.ErrConflict)
	got, err := s.GetMFAToken(ctx(t), account.Resident, "r1", "t1")
	if err != nil {
		t.Fatalf("GetMFAToken: %v", err)
	}
	sameToken(t, "token", got, r)
	got, err = s.GetMFAToken(ctx(t), account.Admin, "r1", "t1")
	if err != nil {
		t.Fatalf("GetMFAToken(admin): %v", err)
	}
	sameToken(t, "the other realm's token", got, enroll)

	// Five tries are counted; the sixth is refused before any comparison.
	for want := 1; want <= mfa.MaxAttempts; want++ {
		n, err := s.ReserveMFAAttempt(ctx(t), r)
		if err != nil || n != want {
			t.Fatalf("ReserveMFAAttempt #%d = %d, %v", want, n, err)
		}
	}
	_, err = s.ReserveMFAAttempt(ctx(t), r)
	wantErr(t, "the sixth try", err, store.ErrConflict)
	got, _ = s.GetMFAToken(ctx(t), account.Resident, "r1", "t1")
	if got.Attempts != mfa.MaxAttempts {
		t.Errorf("attempts = %d, want %d", got.Attempts, mfa.MaxAttempts)
	}
	// The fifth try, counted, may still redeem.
	if err := s.RedeemMFAToken(ctx(t), r); err != nil {
		t.Fatalf("RedeemMFAToken after five tries: %v", err)
	}
	_, err = s.GetMFAToken(ctx(t), account.Resident, "r1", "t1")
	wantErr(t, "redeemed token", err, store.ErrNotFound)
	wantErr(t, "RedeemMFAToken twice", s.RedeemMFAToken(ctx(t), r), store.ErrNotFound)
	_, err = s.ReserveMFAAttempt(ctx(t), r)
	wantErr(t, "ReserveMFAAttempt of a redeemed token", err, store.ErrNotFound)
	if _, err := s.GetMFAToken(ctx(t), account.Admin, "r1", "t1"); err != nil {
		t.Errorf("the other realm's token after a redemption: %v", err)
	}
}

// testMFATokenAttemptsConcurrent: of many tries at once at one token,
// exactly MaxAttempts are counted, each with its own number.
func testMFATokenAttemptsConcurrent(t *testing.T, s Store) {
	r := mfaToken(account.Admin, "a1", "t1", wall())
	if err := s.PutMFAToken(ctx(t), r); err != nil {
		t.Fatalf("PutMFAToken: %v", err)
	}
	const n = 12
	var mu sync.Mutex
	var counted []int
	oneEach := func(int) error {
		k, err := s.ReserveMFAAttempt(ctx(t), r)
		if err == nil {
			mu.Lock()
			counted = append(counted, k)
			mu.Unlock()
		}
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = oneEach(i) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil && !errors.Is(err, store.ErrConflict) {
			t.Errorf("ReserveMFAAttempt %d: %v", i, err)
		}
	}
	slices.Sort(counted)
	want := make([]int, mfa.MaxAttempts)
	for i := range want {
		want[i] = i + 1
	}
	if !slices.Equal(counted, want) {
		t.Errorf("tries counted = %v, want %v", counted, want)
	}
}

func testMFATokenRedeemConcurrent(t *testing.T, s Store) {
	r := mfaToken(account.Resident, "r1", "t1", wall())
	if err := s.PutMFAToken(ctx(t), r); err != nil {
		t.Fatalf("PutMFAToken: %v", err)
	}
	oneWinsOthers(t, 8, "RedeemMFAToken", func(int) error { return s.RedeemMFAToken(ctx(t), r) },
		store.ErrConflict, store.ErrNotFound)
}

// testMFABesideSessions: the second factor's items share the account's
// partition with its sessions; listing, ending and reading sessions must
// not see them, nor they the sessions.
func testMFABesideSessions(t *testing.T, s Store) {
	now := wall()
	mustCreate(t, s, admin("a1", "admin1", "admin1@example.com", account.StatusActive, at(0)))
	x := sess(account.Admin, "a1", "k1", now)
	mustCreateSessions(t, s, x)
	f := totpFactor(account.Admin, "a1", "f1", now)
	mustCreateFactor(t, s, f)
	e, _ := mustFactors(t, s, account.Admin, "a1")
	confirmed(t, s, f, e, 1000)
	if err := s.PutMFAToken(ctx(t), mfaToken(account.Admin, "a1", "t1", now)); err != nil {
		t.Fatalf("PutMFAToken: %v", err)
	}
	ss, err := s.ListSessions(ctx(t), account.Admin, "a1")
	if err != nil || len(ss) != 1 {
		t.Fatalf("ListSessions = %d sessions, %v; want 1", len(ss), err)
	}
	if n, err := s.EndSessions(ctx(t), account.Admin, "a1", nil); err != nil || n != 1 {
		t.Fatalf("EndSessions = %d, %v; want 1", n, err)
	}
	ge, fs := mustFactors(t, s, account.Admin, "a1")
	if ge.Active != 1 || len(fs) != 1 {
		t.Errorf("after ending the sessions: active %d, %d factors; want 1, 1", ge.Active, len(fs))
	}
	if _, err := s.GetMFAToken(ctx(t), account.Admin, "a1", "t1"); err != nil {
		t.Errorf("token after ending the sessions: %v", err)
	}
}

func testSessionReauth(t *testing.T, s Store) {
	mustCreate(t, s, admin("a1", "admin1", "admin1@example.com", account.StatusActive, at(0)))
	x := sess(account.Admin, "a1", "k1", at(1))
	x.SecondFactor, x.AuthenticatedAt = string(mfa.MethodTOTP), at(1)
	mustCreateSessions(t, s, x)
	got, _, err := s.GetSession(ctx(t), account.Admin, "a1", "k1")
	if err != nil {
		t.Fatalf("GetSession: %v", err)
	}
	sameSession(t, "session with its second factor", got, x)
	if err := s.Reauthenticate(ctx(t), got, at(20)); err != nil {
		t.Fatalf("Reauthenticate: %v", err)
	}
	x.AuthenticatedAt = at(20)
	got, _, err = s.GetSession(ctx(t), account.Admin, "a1", "k1")
	if err != nil {
		t.Fatalf("GetSession: %v", err)
	}
	sameSession(t, "after a reauth", got, x)
	gone := sess(account.Admin, "a1", "k2", at(1))
	wantErr(t, "Reauthenticate of a missing session", s.Reauthenticate(ctx(t), gone, at(20)), store.ErrNotFound)
	if _, _, err := s.GetSession(ctx(t), account.Admin, "a1", "k2"); err == nil {
		t.Error("Reauthenticate created a session")
	}
}

func testRenameFactor(t *testing.T, s Store) {
	now := wall()
	f := totpFactor(account.Resident, "r1", "f1", now)
	mustCreateFactor(t, s, f)
	f.Name = "Lola's phone"
	if err := s.RenameFactor(ctx(t), f); err != nil {
		t.Fatalf("RenameFactor: %v", err)
	}
	sameFactor(t, "renamed factor", mustGetFactor(t, s, f), f)
	gone := totpFactor(account.Resident, "r1", "f2", now)
	wantErr(t, "RenameFactor of a missing factor", s.RenameFactor(ctx(t), gone), store.ErrNotFound)
	if _, err := s.GetFactor(ctx(t), account.Resident, "r1", "f2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RenameFactor of a missing factor made one: %v", err)
	}
}

// enrolledAdmin stores admin a1 with n sessions, a confirmed TOTP factor,
// a passkey and recovery codes, and returns the account, enrollment and
// factors as read.
func enrolledAdmin(t *testing.T, s Store, n int) (account.Account, mfa.Enrollment, []mfa.Factor) {
	t.Helper()
	now := wall()
	mustCreate(t, s, admin("a1", "admin1", "admin1@example.com", account.StatusActive, at(0)))
	for i := range n {
		mustCreateSessions(t, s, sess(account.Admin, "a1", fmt.Sprintf("k%03d", i), now))
	}
	f := totpFactor(account.Admin, "a1", "f1", now)
	mustCreateFactor(t, s, f)
	e, _ := mustFactors(t, s, account.Admin, "a1")
	e.Recovery, e.RecoveryKey = recoveryHashes("ee"), "k1"
	_, e = confirmed(t, s, f, e, 1000)
	e.Active++
	if err := s.AddPasskey(ctx(t), passkeyFactor(account.Admin, "a1", "p1", 3, now.Add(time.Second)), e); err != nil {
		t.Fatalf("AddPasskey: %v", err)
	}
	e, fs := mustFactors(t, s, account.Admin, "a1")
	return mustGet(t, s, account.Admin, "a1"), e, fs
}

// cleared checks that a1 has no factor, enrollment, passkey claim or
// session left, and a session epoch of its own.
func cleared(t *testing.T, s Store, before account.Account) {
	t.Helper()
	e, fs := mustFactors(t, s, account.Admin, "a1")
	sameEnrollment(t, "enrollment after a clear", e, mfa.Enrollment{Realm: account.Admin, AccountID: "a1"})
	if len(fs) != 0 {
		t.Errorf("factors after a clear: %+v", fs)
	}
	if _, err := s.LookupPasskey(ctx(t), account.Admin, []byte{3, 0, 0xff, 1}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the passkey's claim after a clear: %v", err)
	}
	if ss, err := s.ListSessions(ctx(t), account.Admin, "a1"); err != nil || len(ss) != 0 {
		t.Errorf("sessions after a clear: %d, %v", len(ss), err)
	}
	a := mustGet(t, s, account.Admin, "a1")
	if a.Version != before.Version+1 || a.SessionEpoch != a.Version {
		t.Errorf("account after a clear: version %d, epoch %d; want version %d and the epoch with it", a.Version, a.SessionEpoch, before.Version+1)
	}
}

func testClearFactors(t *testing.T, s Store) {
	a, e, fs := enrolledAdmin(t, s, 3)
	stale := e
	stale.Version--
	_, err := s.ClearFactors(ctx(t), a, stale, fs)
	wantErr(t, "ClearFactors with a stale enrollment", err, store.ErrConflict)
	old := a
	old.Version--
	_, err = s.ClearFactors(ctx(t), old, e, fs)
	wantErr(t, "ClearFactors with a stale account", err, store.ErrConflict)
	if ge, gfs := mustFactors(t, s, account.Admin, "a1"); ge.Active != 2 || len(gfs) != 2 {
		t.Fatalf("a refused clear changed the factors: active %d, %d factors", ge.Active, len(gfs))
	}
	if ss, _ := s.ListSessions(ctx(t), account.Admin, "a1"); len(ss) != 3 {
		t.Fatalf("a refused clear ended sessions: %d left", len(ss))
	}

	n, err := s.ClearFactors(ctx(t), a, e, fs)
	if err != nil || n != 3 {
		t.Fatalf("ClearFactors = %d, %v; want 3 sessions ended", n, err)
	}
	cleared(t, s, a)
	// The credential is free again, and an account without factors clears
	// (its sessions end) too.
	if err := s.AddPasskey(ctx(t), passkeyFactor(account.Admin, "a1", "p2", 3, wall()), mfa.Enrollment{Realm: account.Admin, AccountID: "a1", Active: 1}); err != nil {
		t.Errorf("AddPasskey of a cleared credential: %v", err)
	}
	mustCreate(t, s, resident("r1", "r1@example.com", "+639170000001", account.StatusApproved, at(0)))
	mustCreateSessions(t, s, sess(account.Resident, "r1", "s1", wall()))
	if n, err := s.ClearFactors(ctx(t), mustGet(t, s, account.Resident, "r1"), mfa.Enrollment{Realm: account.Resident, AccountID: "r1"}, nil); err != nil || n != 1 {
		t.Errorf("ClearFactors of an account without factors = %d, %v; want 1", n, err)
	}
	_, err = s.ClearFactors(ctx(t), admin("nobody", "nobody", "nobody@example.com", account.StatusActive, at(0)), mfa.Enrollment{Realm: account.Admin, AccountID: "nobody"}, nil)
	wantErr(t, "ClearFactors of a missing account", err, store.ErrNotFound)
}

// testClearFactorsManySessions: more sessions than one DynamoDB
// transaction holds.
func testClearFactorsManySessions(t *testing.T, s Store) {
	a, e, fs := enrolledAdmin(t, s, 110)
	n, err := s.ClearFactors(ctx(t), a, e, fs)
	if err != nil || n != 110 {
		t.Fatalf("ClearFactors = %d, %v; want 110 sessions ended", n, err)
	}
	cleared(t, s, a)
}

// testClearConcurrent: two clears from one read, and a clear racing a new
// factor's confirmation: one of each pair passes.
func testClearConcurrent(t *testing.T, s Store) {
	a, e, fs := enrolledAdmin(t, s, 2)
	oneWinsOthers(t, 2, "ClearFactors", func(int) error {
		_, err := s.ClearFactors(ctx(t), a, e, fs)
		return err
	}, store.ErrConflict, store.ErrNotFound)
	cleared(t, s, a)

	a = mustGet(t, s, account.Admin, "a1")
	f := totpFactor(account.Admin, "a1", "f9", wall())
	mustCreateFactor(t, s, f)
	e, fs = mustFactors(t, s, account.Admin, "a1")
	winner := oneWinsOthers(t, 2, "ClearFactors or ConfirmFactor", func(i int) error {
		if i == 0 {
			_, err := s.ClearFactors(ctx(t), a, e, fs)
			return err
		}
		c := f
		c.State, c.ExpiresAt = mfa.Active, time.Time{}
		next := e
		next.Active++
		return s.ConfirmFactor(ctx(t), c, next)
	}, store.ErrConflict, store.ErrNotFound)
	ge, gfs := mustFactors(t, s, account.Admin, "a1")
	if winner == 0 && (ge.Active != 0 || len(gfs) != 0) || winner == 1 && (ge.Active != 1 || len(gfs) != 1) {
		t.Errorf("winner %d left active %d, %d factors", winner, ge.Active, len(gfs))
	}
}

func testMFATokenRelease(t *testing.T, s Store) {
	r := mfaToken(account.Admin, "a1", "t1", wall())
	if err := s.PutMFAToken(ctx(t), r); err != nil {
		t.Fatalf("PutMFAToken: %v", err)
	}
	wantErr(t, "ReleaseMFAAttempt with none counted", s.ReleaseMFAAttempt(ctx(t), r), store.ErrConflict)
	for range mfa.MaxAttempts {
		if _, err := s.ReserveMFAAttempt(ctx(t), r); err != nil {
			t.Fatalf("ReserveMFAAttempt: %v", err)
		}
	}
	if err := s.ReleaseMFAAttempt(ctx(t), r); err != nil {
		t.Fatalf("ReleaseMFAAttempt: %v", err)
	}
	if got, _ := s.GetMFAToken(ctx(t), account.Admin, "a1", "t1"); got.Attempts != mfa.MaxAttempts-1 {
		t.Errorf("attempts after a release = %d, want %d", got.Attempts, mfa.MaxAttempts-1)
	}
	if n, err := s.ReserveMFAAttempt(ctx(t), r); err != nil || n != mfa.MaxAttempts {
		t.Errorf("the try given back = %d, %v; want try %d", n, err, mfa.MaxAttempts)
	}
	if err := s.RedeemMFAToken(ctx(t), r); err != nil {
		t.Fatalf("RedeemMFAToken: %v", err)
	}
	wantErr(t, "ReleaseMFAAttempt of a redeemed token", s.ReleaseMFAAttempt(ctx(t), r), store.ErrNotFound)
}
