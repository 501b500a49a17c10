package storetest

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/store"
)

const day = 24 * time.Hour

// evBase is UTC midnight 20 days before today, in a non-UTC zone: event
// times are fixed offsets from it, so they fall on the same UTC days and
// day boundaries on every run, and lie near now so that their TTL (set from
// the real clock, see keepEvents) cannot remove them during a test.
func evBase() time.Time {
	return time.Now().UTC().Truncate(day).Add(-20 * day).In(base.Location())
}

// keepEvents is the expiry the suite appends events with: long after the
// test, whatever the event's time.
func keepEvents() time.Time { return time.Now().Add(400 * day) }

func ev(id string, typ audit.Type, realm account.Realm, accountID string, tm time.Time) audit.Event {
	e := audit.Event{
		ID: id, Type: typ, Realm: realm, AccountID: accountID,
		Identifier: "ju***@example.com", IP: "203.0.113.7", UserAgent: "Mozilla/5.0 (storetest)",
		RequestID: "req-" + id, Time: tm,
		Details: map[string]string{"route": "POST /v1/auth/login", "reason": "bad_password"},
	}
	if accountID != "" {
		e.Details["actor"] = accountID
	}
	return e
}

func mustAppendEvents(t *testing.T, s Store, es ...audit.Event) {
	t.Helper()
	for _, e := range es {
		if err := s.AppendEvent(ctx(t), e, keepEvents()); err != nil {
			t.Fatalf("AppendEvent(%s): %v", e.ID, err)
		}
	}
}

// shuffledEvents is a fixed permutation of es (for len(es) not a multiple
// of 7), so insertion order is not time order.
func shuffledEvents(es []audit.Event) []audit.Event {
	out := make([]audit.Event, 0, len(es))
	for i := range es {
		out = append(out, es[(i*7+3)%len(es)])
	}
	return out
}

// matching is the model: the events of es that q selects, newest first,
// ties by ID descending.
func matching(es []audit.Event, q audit.Query) []audit.Event {
	var out []audit.Event
	for _, e := range es {
		switch {
		case q.Type != "" && e.Type != q.Type,
			q.Realm != "" && e.Realm != q.Realm,
			q.AccountID != "" && e.AccountID != q.AccountID,
			!q.Since.IsZero() && e.Time.Before(q.Since),
			!q.Until.IsZero() && !e.Time.Before(q.Until):
			continue
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b audit.Event) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return out
}

func eventIDs(es []audit.Event) []string {
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	return ids
}

func normEvent(e audit.Event) audit.Event {
	e.Time = ms(e.Time)
	if len(e.Details) == 0 {
		e.Details = nil
	}
	return e
}

// wantEvents checks got is want, in order, field by field.
func wantEvents(t *testing.T, what string, got, want []audit.Event) {
	t.Helper()
	if g, w := eventIDs(got), eventIDs(want); !slices.Equal(g, w) {
		t.Fatalf("%s:\n got %v\nwant %v", what, g, w)
	}
	for i := range got {
		if g, w := normEvent(got[i]), normEvent(want[i]); !reflect.DeepEqual(g, w) {
			t.Errorf("%s: event %d:\n got %+v\nwant %+v", what, i, g, w)
		}
	}
}

func queryEvents(t *testing.T, s Store, q audit.Query) ([]audit.Event, string) {
	t.Helper()
	es, next, err := s.QueryEvents(ctx(t), q)
	if err != nil {
		t.Fatalf("QueryEvents(%+v): %v", q, err)
	}
	return es, next
}

// queryAll follows the cursors from q to the last page. On the suite's
// little data every page but the last is full (a store may hand out a
// short page only when a work budget runs out); the last may be empty.
func queryAll(t *testing.T, s Store, q audit.Query, total int) []audit.Event {
	t.Helper()
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	var all []audit.Event
	for page := 1; ; page++ {
		es, next, err := s.QueryEvents(ctx(t), q)
		if err != nil {
			t.Fatalf("QueryEvents(%+v) page %d: %v", q, page, err)
		}
		all = append(all, es...)
		if len(es) > limit {
			t.Fatalf("QueryEvents(%+v) page %d holds %d events, over the limit", q, page, len(es))
		}
		if next == "" {
			return all
		}
		if len(es) < limit {
			t.Fatalf("QueryEvents(%+v) page %d holds %d events and has a cursor", q, page, len(es))
		}
		if page > total/limit+1 {
			t.Fatalf("QueryEvents(%+v): page %d still has a cursor; %d events so far", q, page, len(all))
		}
		q.Cursor = next
	}
}

func testEventsEmpty(t *testing.T, s Store) {
	for _, q := range []audit.Query{{}, {Type: audit.LoginFailed}, {Realm: account.Resident, AccountID: "r1"}} {
		es, next := queryEvents(t, s, q)
		if len(es) != 0 || next != "" {
			t.Errorf("QueryEvents(%+v) on an empty store = %v, %q", q, eventIDs(es), next)
		}
	}
}

func testEventsRoundTrip(t *testing.T, s Store) {
	at := evBase().Add(9*time.Hour + 123_456_789)
	full := audit.Event{
		ID: "ev-full", Type: audit.AccountStatusChanged, Realm: account.Resident, AccountID: "r1",
		Identifier: "ju***@example.com", IP: "2001:db8::7", UserAgent: "Mozilla/5.0 (X11; Linux) «ünïcode»",
		RequestID: "req-1", Time: at,
		Details: map[string]string{"from": "pending", "to": "approved", "actor": "a1", "route": "PATCH /v1/admin/residents/r1", "note": ""},
	}
	noAccount := audit.Event{ID: "ev-noacct", Type: audit.LoginFailed, Realm: account.Admin,
		Identifier: "ad***", IP: "198.51.100.1", Time: at.Add(-time.Second), Details: map[string]string{"reason": "unknown"}}
	bare := audit.Event{ID: "ev-bare", Type: audit.CSRFFailed, Time: at.Add(-2 * time.Second)}
	mustAppendEvents(t, s, bare, full, noAccount)

	es, next := queryEvents(t, s, audit.Query{})
	if next != "" {
		t.Errorf("one page of three events has cursor %q", next)
	}
	wantEvents(t, "all events", es, []audit.Event{full, noAccount, bare})
	for _, e := range es {
		if e.Time.Location() != time.UTC {
			t.Errorf("event %s comes back in %v, want UTC", e.ID, e.Time.Location())
		}
	}
	es, _ = queryEvents(t, s, audit.Query{Realm: account.Resident, AccountID: "r1"})
	wantEvents(t, "events of resident r1", es, []audit.Event{full})
}

func testEventsOrder(t *testing.T, s Store) {
	at := evBase().Add(10 * time.Hour)
	var all []audit.Event
	// Five at one instant: IDs order them ("e3" > "e20" > "e2" > "e10" > "e1").
	for _, id := range []string{"e1", "e10", "e2", "e20", "e3"} {
		all = append(all, ev(id, audit.LoginFailed, account.Resident, "r1", at))
	}
	// Around them, times a millisecond apart with IDs in the other order.
	for i := range 6 {
		all = append(all, ev(fmt.Sprintf("z%d", 6-i), audit.LoginSucceeded, account.Resident, "r1",
			at.Add(time.Duration(i-3)*time.Millisecond)))
	}
	mustAppendEvents(t, s, shuffledEvents(all)...)
	want := matching(all, audit.Query{})
	for _, q := range []audit.Query{{}, {Realm: account.Resident, AccountID: "r1"}, {Realm: account.Resident}} {
		for _, limit := range []int{1, 2, 3, 100} {
			q.Limit = limit
			wantEvents(t, fmt.Sprintf("%+v", q), queryAll(t, s, q, len(all)), want)
		}
	}
}

// eventSet is spread over UTC days (from evBase, whose zone is UTC+8): some
// days hold several events, some none, some events sit on a day's first or
// last nanosecond, two realms hold an account r1, and r10 shares r1's prefix.
func eventSet() []audit.Event {
	b := evBase().UTC()
	d := func(n int) time.Time { return b.Add(time.Duration(n) * day) }
	return []audit.Event{
		ev("a01", audit.LoginSucceeded, account.Resident, "r1", d(0).Add(8*time.Hour)),
		ev("a02", audit.LoginFailed, account.Resident, "", d(0).Add(9*time.Hour)),
		ev("a03", audit.LoginFailed, account.Resident, "r1", d(0).Add(day-time.Nanosecond)),
		ev("a04", audit.LoginLocked, account.Resident, "r1", d(1)),
		ev("a05", audit.CSRFFailed, "", "", d(1).Add(time.Nanosecond)),
		// days 2 to 4 empty
		ev("a06", audit.AdminCreated, account.Admin, "r1", d(5).Add(3*time.Hour)),
		ev("a07", audit.LoginFailed, account.Admin, "r1", d(5).Add(3*time.Hour)),
		ev("a08", audit.LoginFailed, account.Resident, "r10", d(5).Add(4*time.Hour)),
		ev("a09", audit.RateLimited, "", "", d(5).Add(5*time.Hour)),
		ev("a10", audit.LoginSucceeded, account.Resident, "r10", d(5).Add(6*time.Hour)),
		ev("a11", audit.LoginFailed, account.Resident, "r1", d(5).Add(23*time.Hour)),
		// day 6 empty
		ev("a12", audit.PasswordChanged, account.Resident, "r1", d(7).Add(time.Minute)),
		ev("a13", audit.LoginFailed, account.Admin, "a1", d(7).Add(2*time.Minute)),
		ev("a14", audit.LoginFailed, account.Resident, "", d(7).Add(2*time.Minute)),
		ev("a15", audit.SessionRevoked, account.Admin, "a1", d(8).Add(12*time.Hour)),
		ev("a16", audit.LoginFailed, account.Resident, "r1", d(8).Add(12*time.Hour)),
		ev("a17", audit.Logout, account.Resident, "r2", d(9).Add(day-time.Nanosecond)),
		// days 10 to 12 empty
		ev("a18", audit.LoginFailed, account.Resident, "r1", d(13).Add(time.Hour)),
	}
}

func eventQueries() []audit.Query {
	b := evBase().UTC()
	d := func(n int) time.Time { return b.Add(time.Duration(n) * day) }
	res, adm := account.Resident, account.Admin
	return []audit.Query{
		{},
		{Type: audit.LoginFailed},
		{Type: audit.RateLimited},
		{Type: "no_such_type"},
		{Realm: res},
		{Realm: adm},
		{Realm: res, AccountID: "r1"},
		{Realm: adm, AccountID: "r1"},
		{Realm: res, AccountID: "r10"},
		{Realm: res, AccountID: "r2"},
		{Realm: res, AccountID: "nobody"},
		{Since: d(5).Add(3 * time.Hour)},               // inclusive: a06 and a07 are exactly there
		{Until: d(5).Add(3 * time.Hour)},               // exclusive
		{Since: d(1), Until: d(8).Add(12 * time.Hour)}, // a04 in, a15 and a16 out
		{Since: d(0).Add(day - time.Nanosecond), Until: d(1).Add(time.Nanosecond)},
		{Since: d(2), Until: d(5)}, // only empty days
		{Since: d(5), Until: d(5)}, // empty range
		{Since: d(6), Until: d(5)}, // reversed range
		{Type: audit.LoginFailed, Realm: res},
		{Type: audit.LoginFailed, Realm: adm},
		{Type: audit.LoginFailed, Realm: res, AccountID: "r1"},
		{Type: audit.LoginFailed, Realm: res, AccountID: "r1", Since: d(0).Add(day - time.Nanosecond), Until: d(13).Add(time.Hour)},
		{Realm: res, Since: d(5)},
		{Type: audit.LoginFailed, Until: d(8)},
		{Realm: res, AccountID: "r1", Until: d(1)},
		{Realm: res, AccountID: "r1", Since: d(1)},
	}
}

// testEventsFilters runs every query of eventQueries at several page sizes
// against the model: every matching event exactly once, newest first.
func testEventsFilters(t *testing.T, s Store) {
	all := eventSet()
	mustAppendEvents(t, s, shuffledEvents(all)...)
	for _, q := range eventQueries() {
		want := matching(all, q)
		for _, limit := range []int{1, 2, 5, 0} {
			q.Limit = limit
			wantEvents(t, fmt.Sprintf("%+v", q), queryAll(t, s, q, len(all)), want)
		}
	}
}

func testEventsAccountNeedsRealm(t *testing.T, s Store) {
	mustAppendEvents(t, s, ev("e1", audit.LoginFailed, account.Resident, "r1", evBase()))
	if es, _, err := s.QueryEvents(ctx(t), audit.Query{AccountID: "r1"}); err == nil {
		t.Errorf("QueryEvents by account without a realm = %v, want an error", eventIDs(es))
	}
}

// testEventsCursorFilters: a cursor goes on only with the filters it was
// handed out for; the page size may change.
func testEventsCursorFilters(t *testing.T, s Store) {
	all := eventSet()
	mustAppendEvents(t, s, all...)
	b := evBase().UTC()
	for _, q := range []audit.Query{
		{Type: audit.LoginFailed, Since: b, Until: b.Add(20 * day)},
		{Realm: account.Resident, AccountID: "r1", Since: b},
		{Realm: account.Resident},
		{},
	} {
		q.Limit = 2
		first, next := queryEvents(t, s, q)
		if next == "" {
			t.Fatalf("%+v: no second page", q)
		}
		others := []audit.Query{
			{Type: audit.LoginSucceeded, Realm: q.Realm, AccountID: q.AccountID, Since: q.Since, Until: q.Until},
			{Type: q.Type, Realm: account.Admin, AccountID: q.AccountID, Since: q.Since, Until: q.Until},
			{Type: q.Type, Realm: account.Resident, AccountID: "r10", Since: q.Since, Until: q.Until},
			{Type: q.Type, Realm: q.Realm, Since: q.Since, Until: q.Until},
			{Type: q.Type, Realm: q.Realm, AccountID: q.AccountID, Since: b.Add(-time.Nanosecond), Until: q.Until},
			{Type: q.Type, Realm: q.Realm, AccountID: q.AccountID, Since: q.Since, Until: b.Add(30 * day)},
			{Type: q.Type, Realm: q.Realm, AccountID: q.AccountID},
		}
		for _, o := range others {
			if o.AccountID != "" && o.Realm == "" || reflect.DeepEqual(o, audit.Query{Type: q.Type, Realm: q.Realm, AccountID: q.AccountID, Since: q.Since, Until: q.Until}) {
				continue
			}
			o.Limit, o.Cursor = 2, next
			es, _, err := s.QueryEvents(ctx(t), o)
			wantErr(t, fmt.Sprintf("cursor of %+v replayed with %+v (got %v)", q, o, eventIDs(es)), err, store.ErrInvalidCursor)
		}
		// The same filters with another page size go on where the page ended.
		q.Limit, q.Cursor = 3, next
		rest := queryAll(t, s, q, len(all))
		q.Cursor = ""
		wantEvents(t, fmt.Sprintf("%+v in pages of 2 then 3", q), append(first, rest...), matching(all, q))
	}
}

func testEventsGarbageCursor(t *testing.T, s Store) {
	mustAppendEvents(t, s, eventSet()...)
	_, next := queryEvents(t, s, audit.Query{Limit: 2})
	_, acctNext := queryEvents(t, s, audit.Query{Realm: account.Resident, AccountID: "r1", Limit: 2})
	if next == "" || acctNext == "" {
		t.Fatal("no second page")
	}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, c := range []string{
		"garbage!", "e30", enc("{}"), enc("null"), enc(`{"f":"x"}`), enc("[]"),
		next[:len(next)/2], next + "x", next[1:], strings.ToUpper(next),
		acctNext, // an account query's cursor on a walk over all events
	} {
		es, _, err := s.QueryEvents(ctx(t), audit.Query{Limit: 2, Cursor: c})
		wantErr(t, fmt.Sprintf("cursor %q (got %v)", c, eventIDs(es)), err, store.ErrInvalidCursor)
	}
	es, _, err := s.QueryEvents(ctx(t), audit.Query{Realm: account.Resident, AccountID: "r1", Limit: 2, Cursor: next})
	wantErr(t, fmt.Sprintf("a walk's cursor on an account query (got %v)", eventIDs(es)), err, store.ErrInvalidCursor)
	es, _, err = s.QueryEvents(ctx(t), audit.Query{Realm: account.Resident, AccountID: "r2", Limit: 2, Cursor: acctNext})
	wantErr(t, fmt.Sprintf("r1's cursor on r2's events (got %v)", eventIDs(es)), err, store.ErrInvalidCursor)
}

// testEventsAccountsSeparate: an account's events are its own, by realm and
// by exact id.
func testEventsAccountsSeparate(t *testing.T, s Store) {
	at := evBase().Add(time.Hour)
	var all []audit.Event
	for i, who := range []struct {
		realm account.Realm
		id    string
	}{{account.Resident, "r1"}, {account.Admin, "r1"}, {account.Resident, "r10"}, {account.Resident, "r"}, {account.Resident, "r1#x"}} {
		for j := range 3 {
			all = append(all, ev(fmt.Sprintf("%s-%s-%d", who.realm, who.id, j), audit.LoginSucceeded, who.realm, who.id,
				at.Add(time.Duration(3*i+j)*time.Minute)))
		}
	}
	mustAppendEvents(t, s, all...)
	for _, q := range []audit.Query{
		{Realm: account.Resident, AccountID: "r1"}, {Realm: account.Admin, AccountID: "r1"},
		{Realm: account.Resident, AccountID: "r10"}, {Realm: account.Resident, AccountID: "r"},
		{Realm: account.Resident, AccountID: "r1#x"}, {Realm: account.Admin, AccountID: "r10"},
	} {
		for _, limit := range []int{1, 10} {
			q.Limit = limit
			got := queryAll(t, s, q, len(all))
			wantEvents(t, fmt.Sprintf("%+v", q), got, matching(all, q))
		}
	}
}

// testEventsManyInOneDay pages through 300 events of 4 KB (more than one
// DynamoDB page of 1 MB) in one day, among them three rare ones that a type
// filter must find on whatever page they are.
func testEventsManyInOneDay(t *testing.T, s Store) {
	const n = 300
	at := evBase().UTC().Add(2 * day)
	blob := strings.Repeat("x", 4<<10)
	var all []audit.Event
	for i := range n {
		typ := audit.LoginSucceeded
		if i == 0 || i == n/2 || i == n-1 {
			typ = audit.AdminUpdated
		}
		acct := ""
		if i%2 == 0 {
			acct = "r1"
		}
		e := ev(fmt.Sprintf("m%03d", i), typ, account.Resident, acct, at.Add(time.Duration(i)*time.Minute))
		e.Details["blob"] = blob
		all = append(all, e)
	}
	mustAppendEvents(t, s, shuffledEvents(all)...)
	for _, q := range []audit.Query{
		{Limit: 7}, {Limit: 280}, {Limit: 1000},
		{Type: audit.AdminUpdated, Limit: 1}, {Type: audit.AdminUpdated, Limit: 2}, {Type: audit.AdminUpdated},
		{Type: audit.AdminUpdated, Realm: account.Resident, Limit: 1},
		{Realm: account.Resident, AccountID: "r1", Limit: 9}, {Realm: account.Resident, AccountID: "r1", Limit: 200},
		{Type: audit.AdminUpdated, Realm: account.Resident, AccountID: "r1", Limit: 1},
		{Type: audit.AdminUpdated, Since: at.Add(time.Minute), Until: at.Add((n - 1) * time.Minute), Limit: 1},
	} {
		want := matching(all, q)
		got := queryAll(t, s, q, n)
		if len(got) != len(want) {
			t.Fatalf("%+v: %d events, want %d", audit.Query{Type: q.Type, Realm: q.Realm, AccountID: q.AccountID, Limit: q.Limit}, len(got), len(want))
		}
		wantEvents(t, fmt.Sprintf("%d-event day, limit %d, type %q, account %q", n, q.Limit, q.Type, q.AccountID), got, want)
	}
}

func testEventsDuplicate(t *testing.T, s Store) {
	at := evBase().Add(time.Hour)
	for _, e := range []audit.Event{
		ev("d1", audit.LoginSucceeded, account.Resident, "r1", at),
		ev("d2", audit.LoginFailed, account.Resident, "", at),
	} {
		mustAppendEvents(t, s, e)
		again := e
		again.Details = map[string]string{"reason": "other"}
		wantErr(t, "appending "+e.ID+" again", s.AppendEvent(ctx(t), again, keepEvents()), store.ErrConflict)
	}
	es, _ := queryEvents(t, s, audit.Query{})
	wantEvents(t, "after duplicates", es, []audit.Event{
		ev("d2", audit.LoginFailed, account.Resident, "", at),
		ev("d1", audit.LoginSucceeded, account.Resident, "r1", at),
	})
}

// testEventsKept: an event is kept until its own expiry, whatever is
// appended later. (Whether an event past its expiry is still listed is up
// to the store: TTL removal is lazy.)
func testEventsKept(t *testing.T, s Store) {
	now := evBase()
	long := ev("long", audit.LoginFailed, account.Resident, "r1", now)
	short := ev("short", audit.LoginFailed, account.Resident, "r1", now.Add(2*day))
	later := ev("later", audit.LoginFailed, account.Resident, "r1", now.Add(5*day))
	for _, x := range []struct {
		e       audit.Event
		expires time.Time
	}{{long, keepEvents()}, {short, now.Add(3 * day)}, {later, keepEvents()}} {
		if err := s.AppendEvent(ctx(t), x.e, x.expires); err != nil {
			t.Fatalf("AppendEvent(%s): %v", x.e.ID, err)
		}
	}
	for _, q := range []audit.Query{{}, {Realm: account.Resident, AccountID: "r1"}} {
		es, _ := queryEvents(t, s, q)
		es = slices.DeleteFunc(es, func(e audit.Event) bool { return e.ID == "short" })
		wantEvents(t, fmt.Sprintf("%+v", q), es, []audit.Event{later, long})
	}
}

// testEventsUnbounded: zero Since and Until are no bounds at all, however
// old or far ahead an event is.
func testEventsUnbounded(t *testing.T, s Store) {
	now := evBase().Add(20 * day)
	all := []audit.Event{
		ev("old", audit.LoginFailed, account.Resident, "r1", now.AddDate(-3, 0, 0)),
		ev("older", audit.LoginFailed, account.Admin, "", now.AddDate(-30, 0, 0)),
		ev("now", audit.LoginFailed, account.Resident, "r1", now),
		ev("ahead", audit.LoginFailed, account.Resident, "r1", now.Add(30*day)),
		ev("far", audit.LoginFailed, account.Admin, "", now.AddDate(50, 0, 0)),
	}
	mustAppendEvents(t, s, all...)
	for _, q := range []audit.Query{
		{}, {Limit: 1}, {Realm: account.Resident, AccountID: "r1"}, {Realm: account.Resident, AccountID: "r1", Limit: 1},
		{Since: now}, {Until: now}, {Until: now.AddDate(100, 0, 0)}, {Since: now.AddDate(-100, 0, 0), Limit: 2},
	} {
		wantEvents(t, fmt.Sprintf("%+v", q), queryAll(t, s, q, len(all)), matching(all, q))
	}
}

// testEventsBesideSessions: events of an account live beside its profile,
// sessions and codes and neither disturbs the other.
func testEventsBesideSessions(t *testing.T, s Store) {
	now := wall()
	a := resident("r1", "juan@example.com", "", account.StatusApproved, now)
	mustCreate(t, s, a)
	mustCreateSessions(t, s, sess(account.Resident, "r1", "k1", now), sess(account.Resident, "r1", "k2", now.Add(time.Second)))
	r := code.Record{Realm: account.Resident, AccountID: "r1", Purpose: code.VerifyEmail, ID: "c1", MAC: "m",
		State: code.Pending, CreatedAt: now, ExpiresAt: now.Add(code.TTL)}
	if err := s.PutCode(ctx(t), r, codeMessage(r)); err != nil {
		t.Fatalf("PutCode: %v", err)
	}
	var all []audit.Event
	for i := range 4 {
		all = append(all, ev(fmt.Sprintf("e%d", i), audit.LoginSucceeded, account.Resident, "r1", now.Add(time.Duration(i)*time.Second)))
	}
	mustAppendEvents(t, s, all...)

	if ss, err := s.ListSessions(ctx(t), account.Resident, "r1"); err != nil || len(ss) != 2 {
		t.Fatalf("ListSessions beside events = %d sessions, %v; want 2", len(ss), err)
	}
	if as, _, err := s.ListAccounts(ctx(t), account.ListQuery{Realm: account.Resident}); err != nil || len(as) != 1 {
		t.Fatalf("ListAccounts beside events = %d accounts, %v; want 1", len(as), err)
	}
	if _, err := s.GetCode(ctx(t), account.Resident, "r1", code.VerifyEmail); err != nil {
		t.Fatalf("GetCode beside events: %v", err)
	}
	n, err := s.UpdateAccountEndSessions(ctx(t), mustGet(t, s, account.Resident, "r1"))
	if err != nil || n != 2 {
		t.Fatalf("UpdateAccountEndSessions beside events = %d, %v; want 2", n, err)
	}
	mustCreateSessions(t, s, sess(account.Resident, "r1", "k3", now.Add(2*time.Second)))
	if n, err := s.EndSessions(ctx(t), account.Resident, "r1", nil); err != nil || n != 1 {
		t.Fatalf("EndSessions beside events = %d, %v; want 1", n, err)
	}
	want := matching(all, audit.Query{})
	wantEvents(t, "account's events after its sessions ended", queryAll(t, s, audit.Query{Realm: account.Resident, AccountID: "r1"}, 4), want)
	wantEvents(t, "all events after the sessions ended", queryAll(t, s, audit.Query{}, 4), want)
	if _, err := s.GetCode(ctx(t), account.Resident, "r1", code.VerifyEmail); err != nil {
		t.Fatalf("GetCode after the sessions ended: %v", err)
	}
}
