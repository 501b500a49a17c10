package embedded

import (
	"context"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/store"
)

// bMessages holds the outbox: id → message JSON. Ids sort by creation
// time, so the bucket is in creation order.
var bMessages = []byte("messages")

func getMessage(tx *bolt.Tx, id string) (outbox.Message, error) {
	data := tx.Bucket(bMessages).Get([]byte(id))
	if data == nil {
		return outbox.Message{}, store.ErrNotFound
	}
	var m outbox.Message
	err := json.Unmarshal(data, &m)
	return m, err
}

func writeMessage(tx *bolt.Tx, m outbox.Message) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return tx.Bucket(bMessages).Put([]byte(m.ID), data)
}

// putMessage stores a new message, on condition its id is new. Messages
// past their expiry are dropped as new ones arrive (taking the new
// message's creation as now), as DynamoDB's TTL would: oldest first,
// stopping at the first one still kept.
func putMessage(tx *bolt.Tx, m outbox.Message) error {
	b := tx.Bucket(bMessages)
	if b.Get([]byte(m.ID)) != nil {
		return store.ErrConflict
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.First() {
		var old outbox.Message
		if err := json.Unmarshal(v, &old); err != nil {
			return err
		}
		if old.ExpiresAt().After(m.CreatedAt) {
			break
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return writeMessage(tx, m)
}

// PutMessage implements outbox.Store.
func (s *Store) PutMessage(_ context.Context, m outbox.Message) error {
	return s.update(func(tx *bolt.Tx) error { return putMessage(tx, m) })
}

// ClaimMessage implements outbox.Store.
func (s *Store) ClaimMessage(_ context.Context, id string, now time.Time) (outbox.Message, error) {
	var m outbox.Message
	err := s.update(func(tx *bolt.Tx) (err error) {
		if m, err = getMessage(tx, id); err != nil {
			return err
		}
		if m.Finished() || m.Attempts >= outbox.MaxAttempts {
			return store.ErrConflict
		}
		m.State, m.Attempts, m.UpdatedAt = outbox.Sending, m.Attempts+1, now
		return writeMessage(tx, m)
	})
	if err != nil && m.ID == "" {
		return outbox.Message{}, err
	}
	return m, err
}

// MarkMessageSent implements outbox.Store.
func (s *Store) MarkMessageSent(_ context.Context, m outbox.Message, now time.Time) error {
	return s.endAttempt(m, func(cur *outbox.Message) { cur.State, cur.UpdatedAt = outbox.Sent, now })
}

// MarkMessageFailed implements outbox.Store.
func (s *Store) MarkMessageFailed(_ context.Context, m outbox.Message, reason string, final bool, now time.Time) error {
	return s.endAttempt(m, func(cur *outbox.Message) {
		cur.LastError, cur.UpdatedAt = reason, now
		if final {
			cur.State = outbox.Failed
		}
	})
}

// endAttempt applies change to claimed message m on condition that the
// claim still holds (Sending, m.Attempts attempts).
func (s *Store) endAttempt(m outbox.Message, change func(*outbox.Message)) error {
	return s.update(func(tx *bolt.Tx) error {
		cur, err := getMessage(tx, m.ID)
		if err != nil {
			return err
		}
		if cur.State != outbox.Sending || cur.Attempts != m.Attempts {
			return store.ErrConflict
		}
		change(&cur)
		return writeMessage(tx, cur)
	})
}

// ListMessages implements outbox.Store. Like DynamoDB's, the list may
// include messages past their expiry that no new message has dropped yet.
func (s *Store) ListMessages(_ context.Context, from, to time.Time) ([]outbox.Message, error) {
	return s.listMessages(from, to, func(outbox.Message) bool { return true })
}

// ListUnfinished implements outbox.Store.
func (s *Store) ListUnfinished(_ context.Context, from, to time.Time) ([]outbox.Message, error) {
	return s.listMessages(from, to, func(m outbox.Message) bool { return !m.Finished() })
}

func (s *Store) listMessages(from, to time.Time, keep func(outbox.Message) bool) ([]outbox.Message, error) {
	var out []outbox.Message
	last := []byte(outbox.IDFloor(to.Add(time.Nanosecond)))
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bMessages).Cursor()
		for k, v := c.Seek([]byte(outbox.IDFloor(from))); k != nil && string(k) < string(last); k, v = c.Next() {
			var m outbox.Message
			if err := json.Unmarshal(v, &m); err != nil {
				return err
			}
			if keep(m) {
				out = append(out, m)
			}
		}
		return nil
	})
	return out, err
}
