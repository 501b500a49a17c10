package storetest

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/store"
)

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

// filterFixture stores residents with assorted names, contacts and
// barangays, and two admins. In listing order the residents are
// f1 f4 (pending) f2 f3 f7 (approved) f6 (rejected) f5 (suspended).
func filterFixture(t *testing.T, s Store) {
	t.Helper()
	specs := []struct {
		id, first, last, email, phone, barangay string
		status                                  account.Status
	}{
		{"f1", "Juan", "Dela Cruz", "juan@example.com", "+639171110001", "San Roque", account.StatusPending},
		{"f2", "María", "Santos", "maria.s@example.com", "+639181110002", "Bagong Silang", account.StatusApproved},
		{"f3", "Pedro", "Juanico", "pedro@example.com", "+639171110003", "San Roque", account.StatusApproved},
		{"f4", "Ana", "Reyes", "juana@example.com", "+639991110004", "Bagong Silang", account.StatusPending},
		{"f5", "Jose", "Rizal", "jose@example.com", "+639171110005", "Malanday", account.StatusSuspended},
		{"f6", "ÉLENA", "CRUZ", "elena@example.com", "", "Malanday", account.StatusRejected},
		{"f7", "Carlos", "", "", "+639181110007", "", account.StatusApproved},
	}
	for i, sp := range specs {
		a := resident(sp.id, sp.email, sp.phone, sp.status, at(i))
		a.FirstName, a.LastName, a.Barangay, a.EmailVerified = sp.first, sp.last, sp.barangay, sp.email != ""
		mustCreate(t, s, a)
	}
	ad := admin("ad1", "maria", "maria@example.com", account.StatusActive, at(0))
	ad.Barangays = []string{"San Roque"}
	mustCreate(t, s, ad, admin("ad2", "pedro", "pedro.admin@example.com", account.StatusSuspended, at(1)))
}

func testListFilters(t *testing.T, s Store) {
	filterFixture(t, s)
	tests := []struct {
		name string
		q    account.ListQuery
		want []string
	}{
		{"barangay", account.ListQuery{Barangays: []string{"San Roque"}}, []string{"f1", "f3"}},
		{"two barangays", account.ListQuery{Barangays: []string{"San Roque", "Malanday"}}, []string{"f1", "f3", "f6", "f5"}},
		{"no barangay", account.ListQuery{Barangays: []string{""}}, []string{"f7"}},
		{"no barangay or one", account.ListQuery{Barangays: []string{"", "Malanday"}}, []string{"f7", "f6", "f5"}},
		{"unknown barangay", account.ListQuery{Barangays: []string{"Nowhere"}}, nil},
		{"barangay and status", account.ListQuery{Status: account.StatusApproved, Barangays: []string{"Bagong Silang", "San Roque"}}, []string{"f2", "f3"}},
		{"first, last name and email", account.ListQuery{Prefixes: []string{"juan"}}, []string{"f1", "f4", "f3"}},
		{"last name of two words", account.ListQuery{Prefixes: []string{"dela"}}, []string{"f1"}},
		{"only at the start", account.ListQuery{Prefixes: []string{"cruz"}}, []string{"f6"}},
		{"lower-cased accented name", account.ListQuery{Prefixes: []string{"maría"}}, []string{"f2"}},
		{"lower-cased upper-case name", account.ListQuery{Prefixes: []string{"éle"}}, []string{"f6"}},
		{"email", account.ListQuery{Prefixes: []string{"pedro@"}}, []string{"f3"}},
		{"email domain is not a prefix", account.ListQuery{Prefixes: []string{"example"}}, nil},
		{"phone prefix", account.ListQuery{Prefixes: []string{"+63917"}}, []string{"f1", "f3", "f5"}},
		{"whole phone", account.ListQuery{Prefixes: []string{"+639181110007"}}, []string{"f7"}},
		{"two prefixes", account.ListQuery{Prefixes: []string{"jose", "ana"}}, []string{"f4", "f5"}},
		{"no match", account.ListQuery{Prefixes: []string{"x"}}, nil},
		{"prefix and status", account.ListQuery{Status: account.StatusApproved, Prefixes: []string{"juan"}}, []string{"f3"}},
		{"prefix and barangay", account.ListQuery{Barangays: []string{"San Roque"}, Prefixes: []string{"juan"}}, []string{"f1", "f3"}},
		{"prefix, barangay and status", account.ListQuery{Status: account.StatusPending, Barangays: []string{"Bagong Silang"}, Prefixes: []string{"juan"}}, []string{"f4"}},
		{"phone prefix and barangay", account.ListQuery{Barangays: []string{"Malanday"}, Prefixes: []string{"+63917"}}, []string{"f5"}},
		{"the empty prefix", account.ListQuery{Prefixes: []string{""}}, []string{"f1", "f4", "f2", "f3", "f7", "f6", "f5"}},
		{"admins by email", account.ListQuery{Realm: account.Admin, Prefixes: []string{"pedro"}}, []string{"ad2"}},
		{"admins have no barangay", account.ListQuery{Realm: account.Admin, Barangays: []string{"San Roque"}}, nil},
		{"admins without a barangay", account.ListQuery{Realm: account.Admin, Barangays: []string{""}}, []string{"ad1", "ad2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, limit := range []int{1, 2, 100} {
				q := tc.q
				if q.Realm == "" {
					q.Realm = account.Resident
				}
				q.Limit = limit
				got := accountIDs(listAll(t, s, q))
				if !slices.Equal(got, tc.want) {
					t.Errorf("limit %d: got %v, want %v", limit, got, tc.want)
				}
			}
		})
	}
	// What comes back is the whole account.
	got := listAll(t, s, account.ListQuery{Realm: account.Resident, Prefixes: []string{"éle"}, Limit: 10})
	if len(got) == 1 {
		want := resident("f6", "elena@example.com", "", account.StatusRejected, at(5))
		want.FirstName, want.LastName, want.Barangay, want.Version = "ÉLENA", "CRUZ", "Malanday", 1
		sameAccount(t, "filtered account", got[0], want)
	}
}

// testListFilterPaging lists 150 residents through a dense filter (every
// third matches) and a sparse one (three match), at many page sizes: the
// pages joined hold every match once, in order, whatever the store does
// with short pages.
func testListFilterPaging(t *testing.T, s Store) {
	const n = 150
	statuses := account.StatusesOf(account.Resident)
	var all []account.Account
	for i := range n {
		a := resident(fmt.Sprintf("m%03d", i), fmt.Sprintf("m%03d@example.com", i), "", statuses[i%len(statuses)], at(n-i))
		a.FirstName, a.LastName, a.Barangay = "Filler", "Filler", "Filler"
		if i%3 == 0 {
			a.LastName = "Bautista"
		}
		if i == 7 || i == 80 || i == 149 {
			a.Barangay = "Target"
		}
		mustCreate(t, s, a)
		all = append(all, a)
	}
	order := map[account.Status]int{}
	for i, st := range statuses {
		order[st] = i
	}
	sort.Slice(all, func(i, j int) bool {
		if oi, oj := order[all[i].Status], order[all[j].Status]; oi != oj {
			return oi < oj
		}
		return all[i].CreatedAt.Before(all[j].CreatedAt)
	})
	pick := func(keep func(account.Account) bool) []string {
		var ids []string
		for _, a := range all {
			if keep(a) {
				ids = append(ids, a.ID)
			}
		}
		return ids
	}
	tests := []struct {
		name string
		q    account.ListQuery
		want []string
	}{
		{"dense", account.ListQuery{Prefixes: []string{"bau"}},
			pick(func(a account.Account) bool { return a.LastName == "Bautista" })},
		{"sparse", account.ListQuery{Barangays: []string{"Target"}},
			pick(func(a account.Account) bool { return a.Barangay == "Target" })},
		{"sparse in one status", account.ListQuery{Status: account.StatusApproved, Barangays: []string{"Target"}},
			pick(func(a account.Account) bool { return a.Barangay == "Target" && a.Status == account.StatusApproved })},
		{"none", account.ListQuery{Prefixes: []string{"nobody"}}, nil},
	}
	if len(tests[1].want) != 3 || len(tests[2].want) != 1 {
		t.Fatalf("fixture: sparse matches %v, %v", tests[1].want, tests[2].want)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, limit := range []int{1, 2, 5, 7, 49, 50, 51, 100} {
				q := tc.q
				q.Realm, q.Limit = account.Resident, limit
				got := accountIDs(listAll(t, s, q))
				if !slices.Equal(got, tc.want) {
					t.Errorf("limit %d:\n got %v\nwant %v", limit, got, tc.want)
				}
			}
		})
	}
}

// testListCursorFilters replays every page boundary of a filtered listing
// with other filters: the cursor is refused.
func testListCursorFilters(t *testing.T, s Store) {
	filterFixture(t, s)
	q := account.ListQuery{Realm: account.Resident, Barangays: []string{"San Roque", "Malanday"}, Prefixes: []string{"j", "e"}, Limit: 1}
	others := []account.ListQuery{
		{},
		{Barangays: []string{"San Roque"}, Prefixes: []string{"j", "e"}},
		{Barangays: []string{"San Roque", "Malanday"}},
		{Barangays: []string{"San Roque", "Malanday"}, Prefixes: []string{"j"}},
		{Barangays: []string{"San Roque", "Malanday", "Bagong Silang"}, Prefixes: []string{"j", "e"}},
		{Prefixes: []string{"j", "e"}},
		{Status: account.StatusPending, Barangays: []string{"San Roque", "Malanday"}, Prefixes: []string{"j", "e"}},
	}
	boundaries := 0
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
		boundaries++
		for _, o := range others {
			o.Realm, o.Limit, o.Cursor = account.Resident, 1, next
			_, _, err := s.ListAccounts(ctx(t), o)
			wantErr(t, fmt.Sprintf("cursor of %+v replayed on %+v", q, o), err, store.ErrInvalidCursor)
		}
		q.Cursor = next
	}
	if boundaries == 0 {
		t.Fatal("the filtered listing had a single page: nothing replayed")
	}
	// And the reverse: an unfiltered cursor on a filtered listing.
	_, next, err := s.ListAccounts(ctx(t), account.ListQuery{Realm: account.Resident, Limit: 1})
	if err != nil || next == "" {
		t.Fatalf("ListAccounts = %q, %v; want a cursor", next, err)
	}
	_, _, err = s.ListAccounts(ctx(t), account.ListQuery{Realm: account.Resident, Barangays: []string{"San Roque"}, Limit: 1, Cursor: next})
	wantErr(t, "unfiltered cursor replayed with a barangay", err, store.ErrInvalidCursor)
}
