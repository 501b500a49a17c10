// Package embedded is the store in one bbolt file, for `make run`, the
// operator CLI on a laptop, and fast tests. It keeps the same contract as the
// DynamoDB store; one conformance suite runs against both.
package embedded

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/store"
)

// FileName is the store's file inside the data directory.
const FileName = "ekolek.db"

// ErrLocked means another process holds the data file.
var ErrLocked = errors.New("embedded: the data file is in use by another process")

var (
	bAccounts = []byte("accounts") // realm/id → account (codec.go)
	bIdents   = []byte("idents")   // realm/kind/value → account id
	bList     = []byte("list")     // realm/status#/created/id → account id
	bSessions = []byte("sessions") // realm/account/key → session (codec.go)
	bRoster   = []byte("roster")   // "admins" → the admin roster's version
)

// Store is the bbolt-backed store.
type Store struct {
	db *bolt.DB
}

// Open opens (creating if needed) the store file in dir. When another process
// holds the file it gives up after a second with ErrLocked rather than waiting.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s (is `make run` running? stop it or use another EKOLEK_DATA_DIR)", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bAccounts, bIdents, bList, bSessions, bRoster, bCodes, bCounters, bMessages, bEvents, bEventsByAccount, bMFA} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("embedded: init %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close releases the file.
func (s *Store) Close() error { return s.db.Close() }

// view and update run fn in a transaction, turning bbolt's own failures into
// store.ErrUnavailable while passing the domain's sentinel errors through.
func (s *Store) view(fn func(tx *bolt.Tx) error) error   { return wrap(s.db.View(fn)) }
func (s *Store) update(fn func(tx *bolt.Tx) error) error { return wrap(s.db.Update(fn)) }

// updateCount is update for a change that counts what it did (the sessions
// it ended): 0 when the transaction fails, since then nothing happened.
func (s *Store) updateCount(fn func(tx *bolt.Tx) (int, error)) (int, error) {
	var n int
	err := s.update(func(tx *bolt.Tx) (err error) {
		n, err = fn(tx)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func wrap(err error) error {
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) ||
		errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrInvalidCursor) {
		return err
	}
	return fmt.Errorf("%w: embedded: %v", store.ErrUnavailable, err)
}

func key(parts ...string) []byte {
	n := len(parts)
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n) // room for prefix's separator too
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return b
}

// prefix is key(parts...) followed by the separator, for scanning everything under it.
func prefix(parts ...string) []byte { return append(key(parts...), 0) }

func listKey(a account.Account) []byte {
	idx := 99
	for i, st := range account.StatusesOf(a.Realm) {
		if st == a.Status {
			idx = i
		}
	}
	return key(string(a.Realm), fmt.Sprintf("%02d", idx), fmt.Sprintf("%020d", a.CreatedAt.UnixNano()), a.ID)
}

// CreateAccount implements account.Store.
func (s *Store) CreateAccount(_ context.Context, a account.Account) error {
	a.Version = 1
	return s.update(func(tx *bolt.Tx) error {
		accts, idents := tx.Bucket(bAccounts), tx.Bucket(bIdents)
		ak := key(string(a.Realm), a.ID)
		if accts.Get(ak) != nil {
			return store.ErrConflict
		}
		for _, id := range a.Identifiers() {
			ik := key(string(a.Realm), string(id.Kind), id.Value)
			if idents.Get(ik) != nil {
				return store.ErrConflict
			}
			if err := idents.Put(ik, []byte(a.ID)); err != nil {
				return err
			}
		}
		return putAccount(tx, a)
	})
}

func putAccount(tx *bolt.Tx, a account.Account) error {
	data, err := encodeAccount(a)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bAccounts).Put(key(string(a.Realm), a.ID), data); err != nil {
		return err
	}
	return tx.Bucket(bList).Put(listKey(a), []byte(a.ID))
}

func getAccount(tx *bolt.Tx, realm account.Realm, id string) (account.Account, error) {
	data := tx.Bucket(bAccounts).Get(key(string(realm), id))
	if data == nil {
		return account.Account{}, store.ErrNotFound
	}
	return decodeAccount(data)
}

// GetAccount implements account.Store.
func (s *Store) GetAccount(_ context.Context, realm account.Realm, id string) (account.Account, error) {
	var a account.Account
	err := s.view(func(tx *bolt.Tx) (err error) {
		a, err = getAccount(tx, realm, id)
		return err
	})
	return a, err
}

// LookupIdentifier implements account.Store.
func (s *Store) LookupIdentifier(_ context.Context, realm account.Realm, id account.Identifier) (string, error) {
	var out string
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bIdents).Get(key(string(realm), string(id.Kind), id.Value))
		if v == nil {
			return store.ErrNotFound
		}
		out = string(v)
		return nil
	})
	return out, err
}

func updateAccount(tx *bolt.Tx, a account.Account) error {
	old, err := getAccount(tx, a.Realm, a.ID)
	if err != nil {
		return err
	}
	if old.Version != a.Version {
		return store.ErrConflict
	}
	if err := tx.Bucket(bList).Delete(listKey(old)); err != nil {
		return err
	}
	a.Version++
	return putAccount(tx, a)
}

// UpdateAccount implements account.Store.
func (s *Store) UpdateAccount(_ context.Context, a account.Account) error {
	return s.update(func(tx *bolt.Tx) error { return updateAccount(tx, a) })
}

// UpdateAccountEndSessions implements account.Store.
func (s *Store) UpdateAccountEndSessions(ctx context.Context, a account.Account) (int, error) {
	return s.UpdateAccountEndSessionsExcept(ctx, a, nil)
}

// UpdateAccountEndSessionsExcept implements account.Store.
func (s *Store) UpdateAccountEndSessionsExcept(_ context.Context, a account.Account, keep []string) (int, error) {
	return s.updateCount(func(tx *bolt.Tx) (int, error) { return updateAccountEndSessions(tx, a, keep) })
}

// updateAccountEndSessions stores a (version-checked) with a new session
// epoch, its new version, re-stamps the sessions keyed in keep with it and
// deletes the others; it returns how many went.
func updateAccountEndSessions(tx *bolt.Tx, a account.Account, keep []string) (int, error) {
	a.SessionEpoch = a.Version + 1
	if err := updateAccount(tx, a); err != nil {
		return 0, err
	}
	p := prefix(string(a.Realm), a.ID)
	b := tx.Bucket(bSessions)
	var kept []session.Session
	var doomed [][]byte
	c := b.Cursor()
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		if !slices.Contains(keep, string(k[len(p):])) {
			doomed = append(doomed, slices.Clone(k))
			continue
		}
		ss, err := decodeSession(v)
		if err != nil {
			return 0, err
		}
		kept = append(kept, ss)
	}
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	for _, ss := range kept {
		ss.Epoch = a.SessionEpoch
		if err := putSession(b, ss); err != nil {
			return 0, err
		}
	}
	return len(doomed), nil
}

// rosterKey is the admin roster's version in bRoster (8 bytes, big-endian;
// missing: version 0).
var rosterKey = []byte("admins")

func roster(tx *bolt.Tx) int64 {
	v := tx.Bucket(bRoster).Get(rosterKey)
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

// Roster implements account.Store.
func (s *Store) Roster(_ context.Context) (int64, error) {
	var v int64
	err := s.view(func(tx *bolt.Tx) error {
		v = roster(tx)
		return nil
	})
	return v, err
}

// UpdateAdmin implements account.Store: the account update, the roster move
// and the session deletions are one bbolt transaction. A gone or changed
// account is reported before a moved roster, as DynamoDB does.
func (s *Store) UpdateAdmin(_ context.Context, a account.Account, ver int64, endSessions bool) (int, error) {
	return s.updateCount(func(tx *bolt.Tx) (n int, err error) {
		if endSessions {
			n, err = updateAccountEndSessions(tx, a, nil)
		} else {
			err = updateAccount(tx, a)
		}
		if err != nil {
			return 0, err
		}
		if roster(tx) != ver {
			return 0, store.ErrConflict
		}
		return n, tx.Bucket(bRoster).Put(rosterKey, binary.BigEndian.AppendUint64(nil, uint64(ver+1)))
	})
}

// ListAccounts implements account.Store. The list bucket is walked in
// listing order and q's filters are applied to each account read; the
// scan goes on past a full page only until it finds the next match, so the
// cursor is "" whenever nothing more matches.
func (s *Store) ListAccounts(_ context.Context, q account.ListQuery) ([]account.Account, string, error) {
	scan := prefix(string(q.Realm))
	if q.Status != "" {
		idx := -1
		for i, st := range account.StatusesOf(q.Realm) {
			if st == q.Status {
				idx = i
			}
		}
		if idx < 0 {
			return nil, "", nil
		}
		scan = prefix(string(q.Realm), fmt.Sprintf("%02d", idx))
	}
	f := q.Filter()
	var after []byte
	if q.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		if err != nil {
			return nil, "", store.ErrInvalidCursor
		}
		var c listCursor
		if err := json.Unmarshal(raw, &c); err != nil || c.F != f.Fingerprint || !bytes.HasPrefix(c.K, scan) {
			return nil, "", store.ErrInvalidCursor
		}
		after = c.K
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	var out []account.Account
	var last []byte // the list key of out's last account
	var next string
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bList).Cursor()
		k, v := c.Seek(scan)
		if after != nil {
			k, v = c.Seek(after)
			if bytes.Equal(k, after) {
				k, v = c.Next()
			}
		}
		for ; k != nil && bytes.HasPrefix(k, scan); k, v = c.Next() {
			a, err := getAccount(tx, q.Realm, string(v))
			if err != nil {
				return err
			}
			if !f.Matches(a) {
				continue
			}
			if len(out) == limit {
				b, err := json.Marshal(listCursor{F: f.Fingerprint, K: last})
				if err != nil {
					return err
				}
				next = base64.RawURLEncoding.EncodeToString(b)
				return nil
			}
			out = append(out, a)
			last = slices.Clone(k)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// listCursor is the decoded ListAccounts cursor: the fingerprint of the
// query it was handed out for and the list key to continue after.
type listCursor struct {
	F string `json:"f"`
	K []byte `json:"k"`
}
