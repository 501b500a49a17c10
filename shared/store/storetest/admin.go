package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/store"
)

func testHistory(t *testing.T, s Store) {
	a := resident("r1", "juan@example.com", "+639171234567", account.StatusApproved, at(0))
	a.History = []account.StatusChange{
		{At: at(1), By: "", From: "", To: account.StatusPending, Reason: ""},
		{At: at(2), By: "adm1", From: account.StatusPending, To: account.StatusApproved, Reason: "ID checked, barangay clearance #123 — ok"},
	}
	mustCreate(t, s, a)
	a.Version = 1
	got := mustGet(t, s, account.Resident, "r1")
	sameAccount(t, "account with history", got, a)

	// Appending keeps the order; the full history survives an update.
	got.History = append(got.History, account.StatusChange{At: at(3), By: "adm2", From: account.StatusApproved, To: account.StatusSuspended, Reason: "reported"})
	got.Status = account.StatusSuspended
	if err := s.UpdateAccount(ctx(t), got); err != nil {
		t.Fatalf("UpdateAccount: %v", err)
	}
	want := got
	want.Version = 2
	sameAccount(t, "after an update", mustGet(t, s, account.Resident, "r1"), want)
	listed := listAll(t, s, account.ListQuery{Realm: account.Resident, Limit: 10})
	if len(listed) != 1 {
		t.Fatalf("listed %v", accountIDs(listed))
	}
	sameAccount(t, "listed", listed[0], want)

	// A full history of MaxHistory changes.
	b := admin("a1", "maria", "maria@example.com", account.StatusActive, at(0))
	for i := range account.MaxHistory {
		from, to := account.StatusActive, account.StatusSuspended
		if i%2 == 1 {
			from, to = to, from
		}
		b.History = append(b.History, account.StatusChange{At: at(i), By: fmt.Sprintf("adm%02d", i), From: from, To: to, Reason: fmt.Sprintf("change %d", i)})
	}
	mustCreate(t, s, b)
	b.Version = 1
	sameAccount(t, "admin with a full history", mustGet(t, s, account.Admin, "a1"), b)

	// No history reads back as none.
	c := resident("r2", "pedro@example.com", "", account.StatusPending, at(0))
	c.History = []account.StatusChange{}
	mustCreate(t, s, c)
	if h := mustGet(t, s, account.Resident, "r2").History; len(h) != 0 {
		t.Errorf("history of an account without one = %+v", h)
	}
}

func testUpdateEndSessionsExcept(t *testing.T, s Store) {
	a := endSessionsFixture(t, s, 4)
	a.PasswordHash = "new"
	keep := []string{"k1-002", "k1-000", "k2", "ka", "nope"} // k2, ka: other accounts'
	n, err := s.UpdateAccountEndSessionsExcept(ctx(t), a, keep)
	if err != nil || n != 2 {
		t.Fatalf("UpdateAccountEndSessionsExcept = %d, %v; want 2, nil", n, err)
	}
	got := mustGet(t, s, account.Resident, "r1")
	if got.PasswordHash != "new" || got.Version != 2 {
		t.Errorf("account after update: hash %q version %d, want new 2", got.PasswordHash, got.Version)
	}
	left, err := s.ListSessions(ctx(t), account.Resident, "r1")
	if err != nil || !slices.Equal(sessionKeys(left), []string{"k1-000", "k1-002"}) {
		t.Errorf("sessions left: %v, %v; want [k1-000 k1-002]", sessionKeys(left), err)
	}
	wantNewEpoch(t, s, account.Resident, "r1", 2)
	checkOthersKept(t, s)

	// Nothing to end but the kept ones: the update alone.
	n, err = s.UpdateAccountEndSessionsExcept(ctx(t), got, []string{"k1-000", "k1-002"})
	if err != nil || n != 0 {
		t.Errorf("second UpdateAccountEndSessionsExcept = %d, %v; want 0, nil", n, err)
	}
	if v := mustGet(t, s, account.Resident, "r1").Version; v != 3 {
		t.Errorf("version = %d, want 3", v)
	}
	// No keep: every session.
	got.Version = 3
	n, err = s.UpdateAccountEndSessionsExcept(ctx(t), got, nil)
	if err != nil || n != 2 {
		t.Errorf("UpdateAccountEndSessionsExcept without keep = %d, %v; want 2, nil", n, err)
	}
}

func testUpdateEndSessionsExceptConflict(t *testing.T, s Store) {
	a := endSessionsFixture(t, s, 3)
	stale := a
	stale.Version = 2
	n, err := s.UpdateAccountEndSessionsExcept(ctx(t), stale, []string{"k1-000"})
	wantErr(t, "from a stale version", err, store.ErrConflict)
	if n != 0 {
		t.Errorf("count on conflict = %d, want 0", n)
	}
	if left, err := s.ListSessions(ctx(t), account.Resident, "r1"); err != nil || len(left) != 3 {
		t.Errorf("sessions after refused update: %d, %v; want all 3", len(left), err)
	}
	ghost := resident("ghost", "ghost@example.com", "", account.StatusApproved, at(0))
	ghost.Version = 1
	mustCreateSessions(t, s, sess(account.Resident, "ghost", "kg", at(0)))
	_, err = s.UpdateAccountEndSessionsExcept(ctx(t), ghost, nil)
	wantErr(t, "of a missing account", err, store.ErrNotFound)
	if left, err := s.ListSessions(ctx(t), account.Resident, "ghost"); err != nil || len(left) != 1 {
		t.Errorf("sessions of the missing account: %d, %v; want 1", len(left), err)
	}
	checkOthersKept(t, s)
}

// testUpdateEndSessionsExceptMany goes past what fits in one DynamoDB
// transaction, the kept sessions among the first and the last.
func testUpdateEndSessionsExceptMany(t *testing.T, s Store) {
	const n = 130
	a := endSessionsFixture(t, s, n)
	keep := []string{"k1-000", "k1-129"}
	got, err := s.UpdateAccountEndSessionsExcept(ctx(t), a, keep)
	if err != nil || got != n-2 {
		t.Fatalf("UpdateAccountEndSessionsExcept = %d, %v; want %d, nil", got, err, n-2)
	}
	left, err := s.ListSessions(ctx(t), account.Resident, "r1")
	if err != nil || !slices.Equal(sessionKeys(left), keep) {
		t.Errorf("sessions left: %v, %v; want %v", sessionKeys(left), err, keep)
	}
	checkOthersKept(t, s)
}

func mustRoster(t *testing.T, s Store) int64 {
	t.Helper()
	v, err := s.Roster(ctx(t))
	if err != nil {
		t.Fatalf("Roster: %v", err)
	}
	return v
}

// adminFixture stores admins a1 and a2 with n and 2 sessions, and a
// resident with the id a1 and a session.
func adminFixture(t *testing.T, s Store, n int) {
	t.Helper()
	mustCreate(t, s,
		admin("a1", "maria", "maria@example.com", account.StatusActive, at(0)),
		admin("a2", "pedro", "pedro@example.com", account.StatusActive, at(1)),
		resident("a1", "juan@example.com", "", account.StatusApproved, at(0)),
	)
	for i := range n {
		mustCreateSessions(t, s, sess(account.Admin, "a1", fmt.Sprintf("ka1-%03d", i), at(i)))
	}
	mustCreateSessions(t, s,
		sess(account.Admin, "a2", "ka2-0", at(0)), sess(account.Admin, "a2", "ka2-1", at(1)),
		sess(account.Resident, "a1", "kr", at(0)))
}

func checkAdminOthersKept(t *testing.T, s Store) {
	t.Helper()
	if left, err := s.ListSessions(ctx(t), account.Admin, "a2"); err != nil || len(left) != 2 {
		t.Errorf("sessions of a2: %v, %v; want both", sessionKeys(left), err)
	}
	if _, _, err := s.GetSession(ctx(t), account.Resident, "a1", "kr"); err != nil {
		t.Errorf("the resident a1's session: %v", err)
	}
}

func testUpdateAdmin(t *testing.T, s Store) {
	if v := mustRoster(t, s); v != 0 {
		t.Fatalf("roster of an empty store = %d, want 0", v)
	}
	adminFixture(t, s, 3)

	a := mustGet(t, s, account.Admin, "a1")
	a.Role = account.RoleSuperAdmin
	n, err := s.UpdateAdmin(ctx(t), a, 0, false)
	if err != nil || n != 0 {
		t.Fatalf("UpdateAdmin without ending sessions = %d, %v; want 0, nil", n, err)
	}
	want := a
	want.Version = 2
	sameAccount(t, "after UpdateAdmin", mustGet(t, s, account.Admin, "a1"), want)
	if v := mustRoster(t, s); v != 1 {
		t.Errorf("roster = %d, want 1", v)
	}
	if left, err := s.ListSessions(ctx(t), account.Admin, "a1"); err != nil || len(left) != 3 {
		t.Errorf("sessions kept: %d, %v; want 3", len(left), err)
	}

	want.Status = account.StatusSuspended
	n, err = s.UpdateAdmin(ctx(t), want, 1, true)
	if err != nil || n != 3 {
		t.Fatalf("UpdateAdmin ending sessions = %d, %v; want 3, nil", n, err)
	}
	if got := mustGet(t, s, account.Admin, "a1"); got.Status != account.StatusSuspended || got.Version != 3 {
		t.Errorf("account: %s v%d, want suspended v3", got.Status, got.Version)
	}
	if v := mustRoster(t, s); v != 2 {
		t.Errorf("roster = %d, want 2", v)
	}
	if left, err := s.ListSessions(ctx(t), account.Admin, "a1"); err != nil || len(left) != 0 {
		t.Errorf("sessions left: %v, %v", sessionKeys(left), err)
	}
	checkAdminOthersKept(t, s)

	// Another admin moves the same roster on.
	b := mustGet(t, s, account.Admin, "a2")
	b.FullName = "Pedro P."
	if _, err := s.UpdateAdmin(ctx(t), b, 2, false); err != nil {
		t.Fatalf("UpdateAdmin of a2: %v", err)
	}
	if v := mustRoster(t, s); v != 3 {
		t.Errorf("roster = %d, want 3", v)
	}
}

func testUpdateAdminRefused(t *testing.T, s Store) {
	adminFixture(t, s, 3)
	a := mustGet(t, s, account.Admin, "a1")
	a.Role = account.RoleSuperAdmin
	if _, err := s.UpdateAdmin(ctx(t), a, 0, false); err != nil {
		t.Fatalf("UpdateAdmin: %v", err)
	}
	cur := mustGet(t, s, account.Admin, "a1")

	staleAccount := cur
	staleAccount.Version = 1
	ghost := admin("ghost", "ghost", "ghost@example.com", account.StatusActive, at(0))
	ghost.Version = 1
	tests := []struct {
		name   string
		a      account.Account
		roster int64
		want   error
	}{
		{"stale roster", cur, 0, store.ErrConflict},
		{"roster ahead", cur, 2, store.ErrConflict},
		{"stale account", staleAccount, 1, store.ErrConflict},
		{"stale account and roster", staleAccount, 0, store.ErrConflict},
		{"missing account", ghost, 1, store.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			changed := tc.a
			changed.Status = account.StatusSuspended
			for _, end := range []bool{false, true} {
				n, err := s.UpdateAdmin(ctx(t), changed, tc.roster, end)
				wantErr(t, fmt.Sprintf("UpdateAdmin (endSessions %v)", end), err, tc.want)
				if n != 0 {
					t.Errorf("count on refusal = %d, want 0", n)
				}
			}
			sameAccount(t, "account after refusals", mustGet(t, s, account.Admin, "a1"), cur)
			if v := mustRoster(t, s); v != 1 {
				t.Errorf("roster = %d, want 1", v)
			}
			if left, err := s.ListSessions(ctx(t), account.Admin, "a1"); err != nil || len(left) != 3 {
				t.Errorf("sessions after refusals: %d, %v; want 3", len(left), err)
			}
			checkAdminOthersKept(t, s)
		})
	}
}

// testUpdateAdminMany goes past what fits in one DynamoDB transaction
// beside the account and the roster; a stale roster must refuse before any
// session goes.
func testUpdateAdminMany(t *testing.T, s Store) {
	const n = 130
	adminFixture(t, s, n)
	a := mustGet(t, s, account.Admin, "a1")
	a.Status = account.StatusSuspended
	_, err := s.UpdateAdmin(ctx(t), a, 7, true)
	wantErr(t, "UpdateAdmin with a stale roster", err, store.ErrConflict)
	if left, err := s.ListSessions(ctx(t), account.Admin, "a1"); err != nil || len(left) != n {
		t.Fatalf("sessions after refusal: %d, %v; want %d", len(left), err, n)
	}
	got, err := s.UpdateAdmin(ctx(t), a, 0, true)
	if err != nil || got != n {
		t.Fatalf("UpdateAdmin = %d, %v; want %d, nil", got, err, n)
	}
	if left, err := s.ListSessions(ctx(t), account.Admin, "a1"); err != nil || len(left) != 0 {
		t.Errorf("sessions left: %d, %v", len(left), err)
	}
	if v := mustRoster(t, s); v != 1 {
		t.Errorf("roster = %d, want 1", v)
	}
	if st := mustGet(t, s, account.Admin, "a1").Status; st != account.StatusSuspended {
		t.Errorf("status = %s, want suspended", st)
	}
	checkAdminOthersKept(t, s)
}

// testUpdateAdminConcurrent changes ten different admins from the same
// roster version at once: one wins, the others lose the roster race.
func testUpdateAdminConcurrent(t *testing.T, s Store) {
	const n = 10
	for i := range n {
		mustCreate(t, s, admin(fmt.Sprintf("c%02d", i), fmt.Sprintf("user%02d", i), fmt.Sprintf("c%02d@example.com", i), account.StatusActive, at(i)))
		mustCreateSessions(t, s, sess(account.Admin, fmt.Sprintf("c%02d", i), "k", at(i)))
	}
	suspended := make([]account.Account, n)
	for i := range n {
		suspended[i] = mustGet(t, s, account.Admin, fmt.Sprintf("c%02d", i))
		suspended[i].Status = account.StatusSuspended
	}
	// Each moves roster version 0: only one may.
	winner := oneWins(t, n, "UpdateAdmin of roster version 0", func(i int) error {
		_, err := s.UpdateAdmin(ctx(t), suspended[i], 0, true)
		return err
	})
	if v := mustRoster(t, s); v != 1 {
		t.Errorf("roster = %d, want 1", v)
	}
	for i := range n {
		id := fmt.Sprintf("c%02d", i)
		a := mustGet(t, s, account.Admin, id)
		left, err := s.ListSessions(ctx(t), account.Admin, id)
		if err != nil {
			t.Fatalf("ListSessions(%s): %v", id, err)
		}
		if i == winner {
			if a.Status != account.StatusSuspended || a.Version != 2 || len(left) != 0 {
				t.Errorf("winner %s: %s v%d with %d sessions; want suspended v2 with none", id, a.Status, a.Version, len(left))
			}
			continue
		}
		if a.Status != account.StatusActive || a.Version != 1 || len(left) != 1 {
			t.Errorf("loser %s: %s v%d with %d sessions; want active v1 with its session", id, a.Status, a.Version, len(left))
		}
	}
}

func testEndSessionsExcept(t *testing.T, s Store) {
	endSessionsFixture(t, s, 30)
	keep := []string{"k1-017", "k1-005", "k2", "nope"}
	n, err := s.EndSessions(ctx(t), account.Resident, "r1", keep)
	if err != nil || n != 28 {
		t.Fatalf("EndSessions = %d, %v; want 28, nil", n, err)
	}
	left, err := s.ListSessions(ctx(t), account.Resident, "r1")
	if err != nil || !slices.Equal(sessionKeys(left), []string{"k1-005", "k1-017"}) {
		t.Errorf("sessions left: %v, %v; want [k1-005 k1-017]", sessionKeys(left), err)
	}
	wantNewEpoch(t, s, account.Resident, "r1", 2)
	checkOthersKept(t, s)
	if n, err := s.EndSessions(ctx(t), account.Resident, "r1", keep); err != nil || n != 0 {
		t.Errorf("second EndSessions = %d, %v; want 0, nil", n, err)
	}
	wantNewEpoch(t, s, account.Resident, "r1", 3)
	if n, err := s.EndSessions(ctx(t), account.Resident, "r1", nil); err != nil || n != 2 {
		t.Errorf("EndSessions without keep = %d, %v; want 2, nil", n, err)
	}
	_, err = s.EndSessions(ctx(t), account.Admin, "nobody", nil)
	wantErr(t, "EndSessions of a missing account", err, store.ErrNotFound)
	checkOthersKept(t, s)
}

// wantNewEpoch checks that the account's session epoch is its version, v,
// and that every session it still has was re-stamped with it.
func wantNewEpoch(t *testing.T, s Store, realm account.Realm, id string, v int64) {
	t.Helper()
	a := mustGet(t, s, realm, id)
	if a.Version != v || a.SessionEpoch != v {
		t.Errorf("account %s/%s: version %d, session epoch %d; want both %d", realm, id, a.Version, a.SessionEpoch, v)
	}
	left, err := s.ListSessions(ctx(t), realm, id)
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	for _, ss := range left {
		if ss.Epoch != v {
			t.Errorf("kept session %s has epoch %d, want %d", ss.Key, ss.Epoch, v)
		}
		if got, _, err := s.GetSession(ctx(t), realm, id, ss.Key); err != nil || got.Epoch != v {
			t.Errorf("GetSession(%s) epoch %d, %v; want %d", ss.Key, got.Epoch, err, v)
		}
	}
}
