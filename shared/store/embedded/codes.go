package embedded

import (
	"context"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/throttle"
)

var (
	bCodes    = []byte("codes")    // realm/account/purpose → code record JSON
	bCounters = []byte("counters") // key → counter JSON
)

func codeKey(realm account.Realm, accountID string, p code.Purpose) []byte {
	return key(string(realm), accountID, string(p))
}

func getCode(tx *bolt.Tx, realm account.Realm, accountID string, p code.Purpose) (code.Record, error) {
	data := tx.Bucket(bCodes).Get(codeKey(realm, accountID, p))
	if data == nil {
		return code.Record{}, store.ErrNotFound
	}
	var r code.Record
	err := json.Unmarshal(data, &r)
	return r, err
}

func putCode(tx *bolt.Tx, r code.Record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.Bucket(bCodes).Put(codeKey(r.Realm, r.AccountID, r.Purpose), data)
}

// PutCode implements code.Store.
func (s *Store) PutCode(_ context.Context, r code.Record, m outbox.Message) error {
	return s.update(func(tx *bolt.Tx) error {
		if err := putMessage(tx, m); err != nil {
			return err
		}
		return putCode(tx, r)
	})
}

// GetCode implements code.Store.
func (s *Store) GetCode(_ context.Context, realm account.Realm, accountID string, p code.Purpose) (code.Record, error) {
	var r code.Record
	err := s.view(func(tx *bolt.Tx) (err error) {
		r, err = getCode(tx, realm, accountID, p)
		return err
	})
	return r, err
}

// ReserveAttempt implements code.Store.
func (s *Store) ReserveAttempt(_ context.Context, r code.Record) (int, error) {
	var n int
	err := s.update(func(tx *bolt.Tx) error {
		cur, err := getCode(tx, r.Realm, r.AccountID, r.Purpose)
		if err != nil {
			return err
		}
		if cur.ID != r.ID || cur.State != code.Pending || cur.Attempts >= code.MaxAttempts {
			return store.ErrConflict
		}
		cur.Attempts++
		n = cur.Attempts
		return putCode(tx, cur)
	})
	return n, err
}

// MarkCodeVerified implements code.Store.
func (s *Store) MarkCodeVerified(_ context.Context, r code.Record, expires time.Time) error {
	return s.update(func(tx *bolt.Tx) error {
		cur, err := getCode(tx, r.Realm, r.AccountID, r.Purpose)
		if err != nil {
			return err
		}
		if cur.ID != r.ID || cur.State != code.Pending || cur.Attempts > code.MaxAttempts {
			return store.ErrConflict
		}
		cur.State, cur.ExpiresAt = code.Verified, expires
		return putCode(tx, cur)
	})
}

// redeemCode deletes the stored code on condition that it is still r.ID in
// state r.State with its tries within the limit (the redeeming try is
// counted before the code is compared, so MaxAttempts itself is within).
func redeemCode(tx *bolt.Tx, r code.Record) error {
	cur, err := getCode(tx, r.Realm, r.AccountID, r.Purpose)
	if err != nil {
		return err
	}
	if cur.ID != r.ID || cur.State != r.State || cur.Attempts > code.MaxAttempts {
		return store.ErrConflict
	}
	return tx.Bucket(bCodes).Delete(codeKey(r.Realm, r.AccountID, r.Purpose))
}

// VerifyContact implements contact.Store.
func (s *Store) VerifyContact(_ context.Context, a account.Account, r code.Record) error {
	return s.update(func(tx *bolt.Tx) error {
		if err := redeemCode(tx, r); err != nil {
			return err
		}
		return updateAccount(tx, a)
	})
}

// ResetPassword implements reset.Store.
func (s *Store) ResetPassword(_ context.Context, a account.Account, r code.Record, keep []string) (int, error) {
	return s.updateCount(func(tx *bolt.Tx) (int, error) {
		if err := redeemCode(tx, r); err != nil {
			return 0, err
		}
		return updateAccountEndSessions(tx, a, keep)
	})
}

type counterRecord struct {
	Count int
	Ends  time.Time
}

// Hit implements throttle.Store.
func (s *Store) Hit(_ context.Context, k string, limit int, window time.Duration, now time.Time) (throttle.Counter, error) {
	var c throttle.Counter
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bCounters)
		var rec counterRecord
		if data := b.Get([]byte(k)); data != nil {
			if err := json.Unmarshal(data, &rec); err != nil {
				return err
			}
		}
		switch {
		case !now.Before(rec.Ends) || rec.Count == 0:
			rec = counterRecord{Count: 1, Ends: now.Add(window)}
		case rec.Count >= limit:
			c = throttle.Counter{Count: rec.Count, Allowed: false, ResetAt: rec.Ends}
			return nil
		default:
			rec.Count++
		}
		c = throttle.Counter{Count: rec.Count, Allowed: rec.Count <= limit, ResetAt: rec.Ends}
		data, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return b.Put([]byte(k), data)
	})
	return c, err
}

// Peek implements throttle.Store.
func (s *Store) Peek(_ context.Context, k string, now time.Time) (throttle.Counter, error) {
	var c throttle.Counter
	err := s.view(func(tx *bolt.Tx) error {
		data := tx.Bucket(bCounters).Get([]byte(k))
		if data == nil {
			return nil
		}
		var rec counterRecord
		if err := json.Unmarshal(data, &rec); err != nil {
			return err
		}
		if now.Before(rec.Ends) {
			c = throttle.Counter{Count: rec.Count, Allowed: true, ResetAt: rec.Ends}
		}
		return nil
	})
	return c, err
}

// Release implements throttle.Store.
func (s *Store) Release(_ context.Context, k string, now time.Time) error {
	return s.takeBack(k, func(rec counterRecord) bool { return now.Before(rec.Ends) })
}

// Refund implements throttle.Store.
func (s *Store) Refund(_ context.Context, c throttle.Charge) error {
	return s.takeBack(c.Key, func(rec counterRecord) bool { return rec.Ends.Equal(c.Ends) })
}

// takeBack takes one hit back from k's counter when it is above zero and
// window says the counter's window is the one meant.
func (s *Store) takeBack(k string, window func(counterRecord) bool) error {
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bCounters)
		data := b.Get([]byte(k))
		if data == nil {
			return nil
		}
		var rec counterRecord
		if err := json.Unmarshal(data, &rec); err != nil {
			return err
		}
		if !window(rec) || rec.Count <= 0 {
			return nil
		}
		rec.Count--
		data, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return b.Put([]byte(k), data)
	})
}

// Clear implements throttle.Store.
func (s *Store) Clear(_ context.Context, k string) error {
	return s.update(func(tx *bolt.Tx) error { return tx.Bucket(bCounters).Delete([]byte(k)) })
}
