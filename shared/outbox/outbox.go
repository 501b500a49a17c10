// Package outbox is the notifier for local runs: instead of sending email or
// SMS it keeps each message in the store, where GET /dev/outbox (local mode
// only) shows them oldest first.
package outbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/notify"
)

// Entry is one kept message.
type Entry struct {
	ID      string
	Channel notify.Channel
	To      string
	Subject string
	Body    string // the plain-text part
	HTML    string
	SentAt  time.Time
}

// Retention is how long the outbox keeps a message.
const Retention = 7 * 24 * time.Hour

// Store keeps the outbox.
type Store interface {
	// AppendOutbox keeps e until expires.
	AppendOutbox(ctx context.Context, e Entry, expires time.Time) error
	// ListOutbox returns every kept message, oldest first.
	ListOutbox(ctx context.Context) ([]Entry, error)
}

// Notifier keeps messages in the outbox instead of sending them.
type Notifier struct {
	store Store
	clock clock.Clock
	mu    sync.Mutex
	last  time.Time
}

// New returns an outbox notifier.
func New(s Store, c clock.Clock) *Notifier { return &Notifier{store: s, clock: c} }

// Send implements notify.Notifier.
func (n *Notifier) Send(ctx context.Context, m notify.Message) error {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	// The outbox lists by send time; a clock that stands still (tests) or
	// ticks coarsely must not shuffle messages sent one after another.
	n.mu.Lock()
	now := n.clock.Now()
	if !now.After(n.last) {
		now = n.last.Add(time.Nanosecond)
	}
	n.last = now
	n.mu.Unlock()
	return n.store.AppendOutbox(ctx, Entry{
		ID: hex.EncodeToString(b), Channel: m.Channel, To: m.To, Subject: m.Subject,
		Body: m.Text, HTML: m.HTML, SentAt: now,
	}, now.Add(Retention))
}
