package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/store"
)

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
