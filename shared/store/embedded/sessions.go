package embedded

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/store"
)

// CreateSession implements session.Store.
func (s *Store) CreateSession(_ context.Context, ss session.Session) error {
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bSessions)
		k := key(string(ss.Realm), ss.AccountID, ss.Key)
		if b.Get(k) != nil {
			return store.ErrConflict
		}
		return putSession(b, ss)
	})
}

// ReplaceSession implements session.Store.
func (s *Store) ReplaceSession(_ context.Context, ss session.Session, oldAccountID, oldKey string) error {
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bSessions)
		if b.Get(key(string(ss.Realm), ss.AccountID, ss.Key)) != nil {
			return store.ErrConflict
		}
		if err := b.Delete(key(string(ss.Realm), oldAccountID, oldKey)); err != nil {
			return err
		}
		return putSession(b, ss)
	})
}

func putSession(b *bolt.Bucket, ss session.Session) error {
	data, err := encodeSession(ss)
	if err != nil {
		return err
	}
	return b.Put(key(string(ss.Realm), ss.AccountID, ss.Key), data)
}

func getSession(b *bolt.Bucket, realm account.Realm, accountID, k string) (session.Session, error) {
	data := b.Get(key(string(realm), accountID, k))
	if data == nil {
		return session.Session{}, store.ErrNotFound
	}
	return decodeSession(data)
}

// GetSession implements session.Store.
func (s *Store) GetSession(_ context.Context, realm account.Realm, accountID, k string) (session.Session, account.Account, error) {
	var ss session.Session
	var a account.Account
	err := s.view(func(tx *bolt.Tx) (err error) {
		if ss, err = getSession(tx.Bucket(bSessions), realm, accountID, k); err != nil {
			return err
		}
		a, err = getAccount(tx, realm, accountID)
		return err
	})
	return ss, a, err
}

// TouchSession implements session.Store.
func (s *Store) TouchSession(_ context.Context, ss session.Session, lastSeen, idleExpires time.Time) error {
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bSessions)
		cur, err := getSession(b, ss.Realm, ss.AccountID, ss.Key)
		if err != nil {
			return err
		}
		if !cur.IdleExpiresAt.Equal(ss.IdleExpiresAt) {
			return store.ErrConflict
		}
		cur.LastSeenAt, cur.IdleExpiresAt = lastSeen, idleExpires
		return putSession(b, cur)
	})
}

// DeleteSession implements session.Store.
func (s *Store) DeleteSession(_ context.Context, realm account.Realm, accountID, k string) error {
	return s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bSessions).Delete(key(string(realm), accountID, k))
	})
}

// ListSessions implements session.Store.
func (s *Store) ListSessions(_ context.Context, realm account.Realm, accountID string) ([]session.Session, error) {
	var out []session.Session
	err := s.view(func(tx *bolt.Tx) error {
		p := prefix(string(realm), accountID)
		c := tx.Bucket(bSessions).Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			ss, err := decodeSession(v)
			if err != nil {
				return err
			}
			out = append(out, ss)
		}
		return nil
	})
	// Keys are hashes, not times: order oldest first as the contract says.
	slices.SortStableFunc(out, func(a, b session.Session) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out, err
}

// EndSessions implements session.Store in one bbolt transaction.
func (s *Store) EndSessions(_ context.Context, realm account.Realm, accountID string, keep []string) (int, error) {
	return s.updateCount(func(tx *bolt.Tx) (int, error) {
		a, err := getAccount(tx, realm, accountID)
		if err != nil {
			return 0, err
		}
		return updateAccountEndSessions(tx, a, keep)
	})
}
