package storetest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/throttle"
)

// message is a pending message created at created, with size bytes of
// (opaque) sealed payload and two charges.
func message(created time.Time, size int) outbox.Message {
	sealed := make([]byte, size)
	_, _ = rand.Read(sealed)
	return outbox.Message{
		ID: outbox.NewID(created), Kind: notify.ResetCode, Channel: notify.SMS, Sealed: sealed,
		State: outbox.Pending, CreatedAt: created, UpdatedAt: created,
		Realm: account.Resident, AccountID: "r1",
		Charges: []throttle.Charge{
			{Key: "code-sends:resident:r1", Ends: created.Add(time.Hour)},
			{Key: "sms-daily:2025-03-01", Ends: created.Add(7*time.Hour + 3*time.Nanosecond)},
		},
	}
}

// codeMessage is the message a code goes with.
func codeMessage(r code.Record) outbox.Message {
	m := message(r.CreatedAt, 64)
	m.Realm, m.AccountID = r.Realm, r.AccountID
	return m
}

func normMessage(m outbox.Message) outbox.Message {
	m.CreatedAt, m.UpdatedAt = ms(m.CreatedAt), ms(m.UpdatedAt)
	cs := make([]throttle.Charge, len(m.Charges))
	for i, c := range m.Charges {
		cs[i] = throttle.Charge{Key: c.Key, Ends: c.Ends.UTC()}
	}
	m.Charges = cs
	return m
}

func sameMessage(t *testing.T, what string, got, want outbox.Message) {
	t.Helper()
	// Charges' ends are kept to the nanosecond: a refund matches them exactly.
	if g, w := normMessage(got), normMessage(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

func mustPutMessage(t *testing.T, s Store, ms ...outbox.Message) {
	t.Helper()
	for _, m := range ms {
		if err := s.PutMessage(ctx(t), m); err != nil {
			t.Fatalf("PutMessage(%s): %v", m.ID, err)
		}
	}
}

// allMessages lists the messages of the week around now.
func allMessages(t *testing.T, s Store, now time.Time) []outbox.Message {
	t.Helper()
	ms, err := s.ListMessages(ctx(t), now.Add(-outbox.Retention), now.Add(time.Hour))
	if err != nil {
		t.Fatalf("ListMessages: %v", err)
	}
	return ms
}

func messageIDs(ms []outbox.Message) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

func mustClaim(t *testing.T, s Store, id string, now time.Time) outbox.Message {
	t.Helper()
	m, err := s.ClaimMessage(ctx(t), id, now)
	if err != nil {
		t.Fatalf("ClaimMessage(%s): %v", id, err)
	}
	return m
}

// testPutCodeWithMessage: a code and its message are one write: both
// stored, or, when the message's id is taken, neither.
func testPutCodeWithMessage(t *testing.T, s Store) {
	now := wall()
	r := codeRecord(account.Resident, "r1", code.PasswordReset, "c1", now)
	m := codeMessage(r)
	if err := s.PutCode(ctx(t), r, m); err != nil {
		t.Fatalf("PutCode: %v", err)
	}
	wantCode(t, s, "the code", r)
	got := allMessages(t, s, now)
	if len(got) != 1 {
		t.Fatalf("after PutCode the outbox lists %v, want its message", messageIDs(got))
	}
	sameMessage(t, "the code's message", got[0], m)

	// A new code whose message cannot be written (its id is taken) leaves
	// the old code, and the message already there, as they were.
	repl := codeRecord(account.Resident, "r1", code.PasswordReset, "c2", now.Add(time.Minute))
	clash := codeMessage(repl)
	clash.ID = m.ID
	wantErr(t, "PutCode with a message id that is taken", s.PutCode(ctx(t), repl, clash), store.ErrConflict)
	wantCode(t, s, "the code after a refused PutCode", r)
	got = allMessages(t, s, now)
	if len(got) != 1 {
		t.Fatalf("after a refused PutCode the outbox lists %v", messageIDs(got))
	}
	sameMessage(t, "the message after a refused PutCode", got[0], m)

	// Another code with a message of its own replaces the code.
	mustPutCode(t, s, repl)
	wantCode(t, s, "the replacing code", repl)
	if got := allMessages(t, s, now); len(got) != 2 {
		t.Fatalf("after a second code the outbox lists %v, want both messages", messageIDs(got))
	}
}

// testPutMessage: a notice's message round-trips every field, and its id
// is unique.
func testPutMessage(t *testing.T, s Store) {
	now := wall()
	m := message(now, 300)
	m.Kind, m.Channel, m.Realm, m.AccountID = notify.PasswordChanged, notify.Email, account.Admin, "a1"
	mustPutMessage(t, s, m)
	got := allMessages(t, s, now)
	if len(got) != 1 {
		t.Fatalf("the outbox lists %v, want one message", messageIDs(got))
	}
	sameMessage(t, "the message", got[0], m)
	if !bytes.Equal(got[0].Sealed, m.Sealed) {
		t.Error("the sealed payload did not round-trip")
	}
	other := message(now, 10)
	other.ID = m.ID
	wantErr(t, "PutMessage with an id that is taken", s.PutMessage(ctx(t), other), store.ErrConflict)
	sameMessage(t, "the message after a refused put", allMessages(t, s, now)[0], m)
}

// testClaimMessage: each claim counts one attempt, up to MaxAttempts;
// then the claim is refused with the message as it is.
func testClaimMessage(t *testing.T, s Store) {
	now := wall()
	m := message(now, 10)
	mustPutMessage(t, s, m)
	for i := 1; i <= outbox.MaxAttempts; i++ {
		at := now.Add(time.Duration(i) * time.Second)
		got := mustClaim(t, s, m.ID, at)
		want := m
		want.State, want.Attempts, want.UpdatedAt = outbox.Sending, i, at
		sameMessage(t, fmt.Sprintf("claim %d", i), got, want)
	}
	got, err := s.ClaimMessage(ctx(t), m.ID, now.Add(time.Minute))
	wantErr(t, "a claim past MaxAttempts", err, store.ErrConflict)
	if got.ID != m.ID || got.State != outbox.Sending || got.Attempts != outbox.MaxAttempts {
		t.Errorf("a refused claim returned %+v, want the message as it is (sending, %d attempts)", got, outbox.MaxAttempts)
	}
	_, err = s.ClaimMessage(ctx(t), outbox.NewID(now), now)
	wantErr(t, "a claim of an id never written", err, store.ErrNotFound)
	_, err = s.ClaimMessage(ctx(t), "not-an-id", now)
	wantErr(t, "a claim of a string that is no id", err, store.ErrNotFound)
}

// testMarkMessage: an attempt ends sent or failed only while its claim
// holds; a sent or failed message is claimed no more; a failed attempt
// that is not final leaves the message to be claimed again.
func testMarkMessage(t *testing.T, s Store) {
	now := wall()
	m := message(now, 10)
	mustPutMessage(t, s, m)

	first := mustClaim(t, s, m.ID, now.Add(time.Second))
	if err := s.MarkMessageFailed(ctx(t), first, "notify: unavailable: Throttling", false, now.Add(2*time.Second)); err != nil {
		t.Fatalf("MarkMessageFailed (not final): %v", err)
	}
	second := mustClaim(t, s, m.ID, now.Add(3*time.Second))
	if second.Attempts != 2 || second.LastError != "notify: unavailable: Throttling" {
		t.Fatalf("claimed after a failed attempt: %+v, want attempt 2 with the last error", second)
	}
	// The first attempt's claim no longer holds.
	wantErr(t, "MarkMessageSent on a stale claim", s.MarkMessageSent(ctx(t), first, now.Add(4*time.Second)), store.ErrConflict)
	wantErr(t, "MarkMessageFailed on a stale claim", s.MarkMessageFailed(ctx(t), first, "x", true, now.Add(4*time.Second)), store.ErrConflict)
	if err := s.MarkMessageSent(ctx(t), second, now.Add(5*time.Second)); err != nil {
		t.Fatalf("MarkMessageSent: %v", err)
	}
	got, err := s.ClaimMessage(ctx(t), m.ID, now.Add(6*time.Second))
	wantErr(t, "a claim of a sent message", err, store.ErrConflict)
	want := m
	want.State, want.Attempts, want.UpdatedAt, want.LastError = outbox.Sent, 2, now.Add(5*time.Second), "notify: unavailable: Throttling"
	sameMessage(t, "the sent message, as a refused claim returns it", got, want)
	wantErr(t, "MarkMessageSent twice", s.MarkMessageSent(ctx(t), second, now.Add(7*time.Second)), store.ErrConflict)

	f := message(now.Add(time.Millisecond), 10)
	mustPutMessage(t, s, f)
	claim := mustClaim(t, s, f.ID, now.Add(time.Second))
	if err := s.MarkMessageFailed(ctx(t), claim, "notify: undeliverable", true, now.Add(2*time.Second)); err != nil {
		t.Fatalf("MarkMessageFailed (final): %v", err)
	}
	got, err = s.ClaimMessage(ctx(t), f.ID, now.Add(3*time.Second))
	wantErr(t, "a claim of a failed message", err, store.ErrConflict)
	if got.State != outbox.Failed || got.LastError != "notify: undeliverable" || got.Attempts != 1 {
		t.Errorf("the failed message: %+v", got)
	}
	gone := message(now, 1)
	gone.Attempts = 1
	wantErr(t, "MarkMessageSent of a message never written", s.MarkMessageSent(ctx(t), gone, now), store.ErrNotFound)
}

// testClaimConcurrent: of many claims at once, exactly MaxAttempts count.
func testClaimConcurrent(t *testing.T, s Store) {
	now := wall()
	m := message(now, 10)
	mustPutMessage(t, s, m)
	const n = 3 * outbox.MaxAttempts
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = s.ClaimMessage(ctx(t), m.ID, now) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("a concurrent claim: %v", err)
		}
	}
	if won != outbox.MaxAttempts {
		t.Errorf("%d of %d concurrent claims counted, want %d", won, n, outbox.MaxAttempts)
	}
	if got := allMessages(t, s, now)[0]; got.Attempts != outbox.MaxAttempts {
		t.Errorf("after concurrent claims: %d attempts, want %d", got.Attempts, outbox.MaxAttempts)
	}
}

// testListMessages: the listings are in creation order, within the range
// asked for, across days, and ListUnfinished leaves out what is sent or
// failed.
func testListMessages(t *testing.T, s Store) {
	now := wall()
	var want []outbox.Message
	for i := range 12 {
		// Across three UTC days; sub-millisecond steps; written out of order.
		want = append(want, message(now.Add(-44*time.Hour+time.Duration(i)*4*time.Hour+time.Duration(i)*300*time.Microsecond), 10))
	}
	for i := range want {
		mustPutMessage(t, s, want[(i*5+3)%len(want)])
	}
	if got := messageIDs(allMessages(t, s, now)); !slices.Equal(got, messageIDs(want)) {
		t.Fatalf("ListMessages:\n got %v\nwant %v", got, messageIDs(want))
	}
	for i, m := range allMessages(t, s, now) {
		sameMessage(t, fmt.Sprintf("message %d", i), m, want[i])
	}
	got, err := s.ListMessages(ctx(t), want[3].CreatedAt, want[8].CreatedAt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(messageIDs(got), messageIDs(want[3:9])) {
		t.Errorf("ListMessages of a range:\n got %v\nwant %v", messageIDs(got), messageIDs(want[3:9]))
	}

	sent, failed, trying := want[2], want[5], want[7]
	for _, m := range []outbox.Message{sent, failed, trying} {
		claim := mustClaim(t, s, m.ID, now)
		var err error
		switch m.ID {
		case sent.ID:
			err = s.MarkMessageSent(ctx(t), claim, now)
		case failed.ID:
			err = s.MarkMessageFailed(ctx(t), claim, "gave up", true, now)
		default:
			err = s.MarkMessageFailed(ctx(t), claim, "try again", false, now)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	unfinished, err := s.ListUnfinished(ctx(t), now.Add(-outbox.Retention), now.Add(time.Hour))
	if err != nil {
		t.Fatalf("ListUnfinished: %v", err)
	}
	wantIDs := messageIDs(slices.DeleteFunc(slices.Clone(want), func(m outbox.Message) bool { return m.ID == sent.ID || m.ID == failed.ID }))
	if !slices.Equal(messageIDs(unfinished), wantIDs) {
		t.Errorf("ListUnfinished:\n got %v\nwant %v", messageIDs(unfinished), wantIDs)
	}
	if len(allMessages(t, s, now)) != len(want) {
		t.Error("ListMessages no longer lists every message")
	}
}

// testListMessagesPages lists more than DynamoDB returns in one page (1 MB).
func testListMessagesPages(t *testing.T, s Store) {
	const n, size = 120, 20 << 10
	now := wall()
	want := make([]outbox.Message, n)
	for i := range want {
		want[i] = message(now.Add(-time.Duration(n-i)*time.Millisecond), size)
	}
	mustPutMessage(t, s, want...)
	if got := messageIDs(allMessages(t, s, now)); !slices.Equal(got, messageIDs(want)) {
		t.Fatalf("ListMessages: %d messages, want %d in order", len(got), n)
	}
}
