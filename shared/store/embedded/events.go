package embedded

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/store"
)

var (
	bEvents          = []byte("events")            // <nanos, 20 digits>#<id> → event JSON
	bEventsByAccount = []byte("events_by_account") // realm/account/<nanos, 20 digits>#<id> → events key
)

var _ audit.Store = (*Store)(nil)

// defaultEventLimit is the page size when Query.Limit is not set (the
// DynamoDB store's too).
const defaultEventLimit = 50

// Events are stored only with a time from 1970 up to (not including) 2262,
// the years whose Unix nanoseconds fit a non-negative int64: the keys are
// those nanoseconds, zero-padded, so that byte order is time order.
// (audit.MinTime up to audit.MaxTime, exclusive; see audit.Bound.)

// eventRecord is a kept event with its expiry (the zero time: never).
type eventRecord struct {
	audit.Event
	Expires time.Time `json:",omitzero"`
}

// pad is Unix nanoseconds, zero-padded to a fixed width: byte order is time order.
func pad(nanos int64) string { return fmt.Sprintf("%020d", nanos) }

func eventSortKey(nanos int64, id string) string { return pad(nanos) + "#" + id }

func eventKey(e audit.Event) []byte { return []byte(eventSortKey(e.Time.UnixNano(), e.ID)) }

// accountEventPrefix is where an account's index entries start.
func accountEventPrefix(e audit.Event) []byte {
	return prefix(string(e.Realm), e.AccountID)
}

// indexed reports whether an event is in the by-account index: only events
// with both a realm and an account can be asked for by account.
func indexed(e audit.Event) bool { return e.Realm != "" && e.AccountID != "" }

// AppendEvent implements audit.Store. An event is keyed by its time and id:
// appending one with the same time and id again is ErrConflict. Events past
// their expiry are dropped as new ones arrive, as DynamoDB's TTL would:
// oldest first, stopping at the first one still kept, so one that outlives
// a later one may keep that one a little longer. Until then, like
// DynamoDB's, queries still return them. "Now" for the expiry is the new
// event's Time or the clock, whichever is earlier: an event stamped far
// ahead cannot sweep the store, nor one from an injected clock's past.
func (s *Store) AppendEvent(_ context.Context, e audit.Event, expires time.Time) error {
	if err := audit.Storable(e); err != nil {
		return err
	}
	e.Time = e.Time.UTC()
	if len(e.Details) == 0 {
		e.Details = nil
	}
	return s.update(func(tx *bolt.Tx) error {
		b, idx := tx.Bucket(bEvents), tx.Bucket(bEventsByAccount)
		k := eventKey(e)
		if b.Get(k) != nil {
			return store.ErrConflict
		}
		now := time.Now()
		if e.Time.Before(now) {
			now = e.Time
		}
		if err := pruneEvents(b, idx, now); err != nil {
			return err
		}
		data, err := json.Marshal(eventRecord{Event: e, Expires: expires})
		if err != nil {
			return err
		}
		if err := b.Put(k, data); err != nil {
			return err
		}
		if !indexed(e) {
			return nil
		}
		return idx.Put(append(accountEventPrefix(e), k...), k)
	})
}

// pruneEvents deletes, oldest first, the events whose expiry is at or
// before now, stopping at the first one still kept.
func pruneEvents(b, idx *bolt.Bucket, now time.Time) error {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.First() {
		var old eventRecord
		if err := json.Unmarshal(v, &old); err != nil {
			return err
		}
		if old.Expires.IsZero() || old.Expires.After(now) {
			return nil
		}
		if indexed(old.Event) {
			if err := idx.Delete(append(accountEventPrefix(old.Event), k...)); err != nil {
				return err
			}
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// eventCursor is the decoded QueryEvents cursor: the filters' fingerprint
// and the time and id of the last event handed out.
type eventCursor struct {
	F string `json:"f"`
	T int64  `json:"t"`
	I string `json:"i"`
}

// QueryEvents implements audit.Store. Without an account it walks the
// events bucket backwards from Until; with one, the account's index. Either
// way it reads one match past the page, so the last page has no cursor.
// Since and Until are exact: zero means no bound.
func (s *Store) QueryEvents(_ context.Context, q audit.Query) ([]audit.Event, string, error) {
	if q.AccountID != "" && q.Realm == "" {
		return nil, "", errors.New("embedded: QueryEvents by account needs the realm")
	}
	lo, hi := int64(0), int64(math.MaxInt64) // nanoseconds, hi exclusive
	if !q.Since.IsZero() {
		lo = audit.Bound(q.Since)
	}
	if !q.Until.IsZero() {
		hi = audit.Bound(q.Until)
	}
	filters := q.Fingerprint()
	var after []byte // the key to continue below (exclusive)
	if q.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		if err != nil {
			return nil, "", store.ErrInvalidCursor
		}
		var c eventCursor
		if err := json.Unmarshal(raw, &c); err != nil || c.F != filters || c.I == "" || c.T < lo || c.T >= hi {
			return nil, "", store.ErrInvalidCursor
		}
		after = []byte(eventSortKey(c.T, c.I))
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultEventLimit
	}
	if lo >= hi {
		return nil, "", nil
	}
	var out []audit.Event
	more := false
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bEvents)
		scan, p := b, []byte(nil)
		if q.AccountID != "" {
			scan, p = tx.Bucket(bEventsByAccount), prefix(string(q.Realm), q.AccountID)
		}
		low := append(bytes.Clone(p), pad(lo)...)
		start := append(bytes.Clone(p), pad(hi)...)
		if after != nil {
			start = append(bytes.Clone(p), after...)
		}
		c := scan.Cursor()
		var v []byte
		k, _ := c.Seek(start)
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, p) && bytes.Compare(k, low) >= 0; k, v = c.Prev() {
			if p != nil {
				if v = b.Get(v); v == nil {
					return fmt.Errorf("index entry %q has no event", k)
				}
			}
			var r eventRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if (q.Type != "" && r.Type != q.Type) || (q.Realm != "" && r.Realm != q.Realm) {
				continue
			}
			if len(out) == limit {
				more = true
				return nil
			}
			out = append(out, r.Event)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	if !more {
		return out, "", nil
	}
	last := out[len(out)-1]
	next, _ := json.Marshal(eventCursor{F: filters, T: last.Time.UnixNano(), I: last.ID})
	return out, base64.RawURLEncoding.EncodeToString(next), nil
}
