// Package outbox is the transactional outbox: every code and notice the
// platform sends is first a message item in the store, written in the same
// transaction as what it belongs to (a code and its message are one write),
// and delivered afterwards, off the request path, by package sender
// (function sender on the table's stream; locally, inside the local API).
// What a message says is sealed (seal.go): no code sits readable in the
// table.
package outbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/throttle"
)

// State is where a message is in its delivery.
type State string

// States. A message is written Pending; an attempt to deliver it claims it
// (Sending, one attempt more) and ends it Sent, or leaves it Sending with
// the attempt's error to be tried again, or, after MaxAttempts attempts or
// an error no retry can cure, Failed. Only a Pending message is news to
// the stream's sender (the event source's filter), so the writes of its
// own attempts never start another: putting a message back to Pending with
// no attempts is how an operator sends it again.
const (
	Pending State = "pending"
	Sending State = "sending"
	Sent    State = "sent"
	Failed  State = "failed"
)

// Limits.
const (
	// MaxAttempts is how many times delivery is tried before the message
	// fails for good and its send limits are given back.
	MaxAttempts = 5
	// Retention is how long a message is kept (the TTL), whatever became
	// of it; ListMessages looks no further back.
	Retention = 7 * 24 * time.Hour
)

// Message is one message to one person, as the outbox keeps it.
type Message struct {
	// ID is unique and sorts by creation time (NewID); it is the key the
	// sender's deliveries are idempotent on, and the sealed payload's
	// associated data.
	ID      string
	Kind    notify.Kind
	Channel notify.Channel
	// Sealed is the composed message (recipient, subject, text, HTML),
	// sealed by a Sealer.
	Sealed    []byte
	State     State
	Attempts  int
	CreatedAt time.Time
	// UpdatedAt is the time of the last change: when Sent, the delivery.
	UpdatedAt time.Time
	// LastError is why the last attempt failed (the provider's error, never
	// the message's content).
	LastError string
	// Charges are the send limits the message took (a code's cooldown and
	// hourly cap, the SMS budgets), given back if it fails for good.
	Charges []throttle.Charge
	// Realm and AccountID name whose message it is, for the trail.
	Realm     account.Realm
	AccountID string
}

// ExpiresAt is when the store may drop the message.
func (m Message) ExpiresAt() time.Time { return m.CreatedAt.Add(Retention) }

// Finished reports whether delivery is over (sent, or failed for good).
func (m Message) Finished() bool { return m.State == Sent || m.State == Failed }

// Store keeps the outbox. Writing a code's message goes with the code
// (code.Store.PutCode); the rest is here.
type Store interface {
	// PutMessage stores a new message: a notice, which belongs to no other
	// write. ErrConflict if the id is taken.
	PutMessage(ctx context.Context, m Message) error
	// ClaimMessage counts one attempt at delivering message id: Sending,
	// Attempts+1, UpdatedAt now, on condition that it is Pending or
	// Sending with fewer than MaxAttempts attempts. It returns the message
	// as claimed; when the condition fails, ErrConflict with the message
	// as it is (finished, or out of attempts). ErrNotFound when there is
	// none (never written, or dropped after Retention).
	ClaimMessage(ctx context.Context, id string, now time.Time) (Message, error)
	// MarkMessageSent ends claimed message m Sent, on condition that it is
	// still Sending with m.Attempts attempts (no later claim). ErrConflict
	// otherwise.
	MarkMessageSent(ctx context.Context, m Message, now time.Time) error
	// MarkMessageFailed records why claimed message m's attempt failed,
	// on the same condition as MarkMessageSent: the message stays Sending
	// (to be tried again), or is Failed when final.
	MarkMessageFailed(ctx context.Context, m Message, reason string, final bool, now time.Time) error
	// ListMessages returns the messages created from from to to (both
	// included), oldest first. It is for local runs and operators (GET
	// /dev/outbox, the local sender's sweep), never a request's path.
	ListMessages(ctx context.Context, from, to time.Time) ([]Message, error)
	// ListUnfinished is ListMessages of the messages still Pending or
	// Sending.
	ListUnfinished(ctx context.Context, from, to time.Time) ([]Message, error)
}

// idTimeDigits is the width of the time part of an id: Unix nanoseconds
// in hex, fixed width, so ids sort by creation time (until 2262).
const idTimeDigits = 16

// NewID returns an id for a message created at t: its Unix nanoseconds
// and 64 random bits, in hex.
func NewID(t time.Time) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return IDFloor(t) + hex.EncodeToString(b)
}

// IDFloor is the least id of a message created at t: every id of a
// message created at t or later sorts at or after it.
func IDFloor(t time.Time) string { return fmt.Sprintf("%0*x", idTimeDigits, t.UnixNano()) }

// CreatedAtOf is the creation time an id carries; false for a string that
// is no id.
func CreatedAtOf(id string) (time.Time, bool) {
	if len(id) != idTimeDigits+16 {
		return time.Time{}, false
	}
	if _, err := hex.DecodeString(id); err != nil {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(id[:idTimeDigits], 16, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, n).UTC(), true
}

// Composer makes messages: composed in the recipient's language
// (notify.Compose), sealed, with an id and the creation time.
type Composer struct {
	sealer *Sealer
	clock  clock.Clock
	mu     sync.Mutex
	last   time.Time
}

// NewComposer returns a Composer sealing with s.
func NewComposer(s *Sealer, c clock.Clock) *Composer { return &Composer{sealer: s, clock: c} }

// Compose makes a Pending message of kind to one recipient, on behalf of
// an account of realm.
func (c *Composer) Compose(kind notify.Kind, lang string, ch notify.Channel, to string, data notify.Data, realm account.Realm, accountID string) (Message, error) {
	now := c.now()
	m := Message{
		ID: NewID(now), Kind: kind, Channel: ch, State: Pending,
		CreatedAt: now, UpdatedAt: now,
		Realm: realm, AccountID: accountID,
	}
	var err error
	if m.Sealed, err = c.sealer.Seal(m.ID, notify.Compose(kind, lang, ch, to, data)); err != nil {
		return Message{}, err
	}
	return m, nil
}

// now is the clock's time, but later than any message this Composer made
// before: a clock that stands still (tests) or ticks coarsely must not
// shuffle messages written one after another.
func (c *Composer) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	if !now.After(c.last) {
		now = c.last.Add(time.Nanosecond)
	}
	c.last = now
	return now
}

// Keep is the notifier for local runs: it sends nothing, so delivering a
// message marks it sent and it stays in the outbox, where GET /dev/outbox
// (local mode only) shows it.
type Keep struct{}

// Send implements notify.Notifier.
func (Keep) Send(context.Context, notify.Message) error { return nil }

// Entry is a message with what it says, opened: GET /dev/outbox.
type Entry struct {
	Message
	Content notify.Message
}

// Reader lists the outbox opened, for people reading it locally.
type Reader struct {
	store  Store
	sealer *Sealer
}

// NewReader returns a Reader of s, opening with sealer.
func NewReader(s Store, sealer *Sealer) *Reader { return &Reader{store: s, sealer: sealer} }

// List returns the messages created from from to to, oldest first, each
// opened; one that does not open (sealed with a key no longer in use) is
// listed without its content.
func (r *Reader) List(ctx context.Context, from, to time.Time) ([]Entry, error) {
	ms, err := r.store.ListMessages(ctx, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(ms))
	for i, m := range ms {
		out[i].Message = m
		out[i].Content, _ = r.sealer.Open(m.ID, m.Channel, m.Sealed)
	}
	return out, nil
}
