package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/store"
)

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
