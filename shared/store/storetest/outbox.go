package storetest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/outbox"
)

func entry(id string, sent time.Time, html int) outbox.Entry {
	e := outbox.Entry{ID: id, Channel: notify.SMS, To: "+639171234567", Body: "Your code is 123456 (" + id + ")", SentAt: sent}
	if html > 0 {
		e.Channel, e.To, e.Subject = notify.Email, "juan@example.com", "Code "+id
		e.HTML = "<p>" + strings.Repeat("x", html) + "</p>"
	}
	return e
}

func mustAppend(t *testing.T, s Store, expires func(outbox.Entry) time.Time, es ...outbox.Entry) {
	t.Helper()
	for _, e := range es {
		if err := s.AppendOutbox(ctx(t), e, expires(e)); err != nil {
			t.Fatalf("AppendOutbox(%s): %v", e.ID, err)
		}
	}
}

func retained(e outbox.Entry) time.Time { return e.SentAt.Add(outbox.Retention) }

func listOutbox(t *testing.T, s Store) []outbox.Entry {
	t.Helper()
	es, err := s.ListOutbox(ctx(t))
	if err != nil {
		t.Fatalf("ListOutbox: %v", err)
	}
	return es
}

func entryIDs(es []outbox.Entry) []string {
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	return ids
}

func normEntry(e outbox.Entry) outbox.Entry {
	e.SentAt = ms(e.SentAt)
	return e
}

// wantEntries checks got is want, in order, field by field.
func wantEntries(t *testing.T, got, want []outbox.Entry) {
	t.Helper()
	if g, w := entryIDs(got), entryIDs(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("ListOutbox order:\n got %v\nwant %v", g, w)
	}
	for i := range got {
		if g, w := normEntry(got[i]), normEntry(want[i]); !reflect.DeepEqual(g, w) {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

// shuffled is a fixed permutation of es, so insertion order is not send order.
func shuffled(es []outbox.Entry) []outbox.Entry {
	out := make([]outbox.Entry, 0, len(es))
	for i := range es {
		out = append(out, es[(i*7+3)%len(es)])
	}
	return out
}

func testOutboxOrder(t *testing.T, s Store) {
	if es := listOutbox(t, s); len(es) != 0 {
		t.Fatalf("new outbox lists %v", entryIDs(es))
	}
	now := wall()
	var want []outbox.Entry
	for i := range 10 {
		// IDs sort the other way from send times; sub-millisecond steps.
		html := 0
		if i%2 == 0 {
			html = 100
		}
		want = append(want, entry(fmt.Sprintf("id%02d", 10-i), now.Add(time.Duration(i)*1300*time.Microsecond), html))
	}
	mustAppend(t, s, retained, shuffled(want)...)
	wantEntries(t, listOutbox(t, s), want)
}

func testOutboxSameInstant(t *testing.T, s Store) {
	now := wall()
	a, b := entry("aaaa", now, 0), entry("bbbb", now, 10)
	mustAppend(t, s, retained, b, a)
	wantEntries(t, listOutbox(t, s), []outbox.Entry{a, b})
}

// testOutboxPages lists more than DynamoDB returns in one page (1 MB).
func testOutboxPages(t *testing.T, s Store) {
	const n, size = 120, 20 << 10
	now := wall()
	want := make([]outbox.Entry, n)
	for i := range want {
		want[i] = entry(fmt.Sprintf("m%03d", i), now.Add(time.Duration(i)*time.Millisecond), size)
	}
	mustAppend(t, s, retained, shuffled(want)...)
	wantEntries(t, listOutbox(t, s), want)
}

// testOutboxKept: a message is kept until its own expiry, whatever is
// appended later. (Whether a message past its expiry is still listed is
// up to the store: TTL removal is lazy.)
func testOutboxKept(t *testing.T, s Store) {
	now := wall()
	long := entry("long", now, 0)
	short := entry("short", now.Add(8*24*time.Hour), 0)
	later := entry("later", now.Add(9*24*time.Hour), 0)
	mustAppend(t, s, func(outbox.Entry) time.Time { return now.Add(30 * 24 * time.Hour) }, long)
	mustAppend(t, s, func(outbox.Entry) time.Time { return now.Add(15 * 24 * time.Hour) }, short)
	mustAppend(t, s, retained, later)
	wantEntries(t, listOutbox(t, s), []outbox.Entry{long, short, later})
}
