package embedded

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/mfa"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/store"
)

var _ mfa.Store = (*Store)(nil)

// bMFA holds the second factor's records, each kind under its own first
// key part:
//
//	f/realm/account/id   → factor JSON
//	e/realm/account      → enrollment JSON
//	t/realm/account/id   → mfa token JSON
//	p/realm/credential   → passkey claim JSON (credential id in base64url)
//	c/realm/key          → ceremony JSON
var bMFA = []byte("mfa")

func factorKey(realm account.Realm, accountID, id string) []byte {
	return key("f", string(realm), accountID, id)
}

func enrollmentKey(realm account.Realm, accountID string) []byte {
	return key("e", string(realm), accountID)
}

func mfaTokenKey(realm account.Realm, accountID, id string) []byte {
	return key("t", string(realm), accountID, id)
}

func passkeyKey(realm account.Realm, credentialID []byte) []byte {
	return key("p", string(realm), base64.RawURLEncoding.EncodeToString(credentialID))
}

func ceremonyKey(realm account.Realm, k string) []byte { return key("c", string(realm), k) }

// passkeyClaim is what a credential id's claim names.
type passkeyClaim struct {
	AccountID, FactorID string
}

// getJSON reads the record at k into v; ErrNotFound when there is none.
func getJSON(tx *bolt.Tx, k []byte, v any) error {
	data := tx.Bucket(bMFA).Get(k)
	if data == nil {
		return store.ErrNotFound
	}
	return json.Unmarshal(data, v)
}

func putJSON(tx *bolt.Tx, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Bucket(bMFA).Put(k, data)
}

func getFactor(tx *bolt.Tx, realm account.Realm, accountID, id string) (mfa.Factor, error) {
	var f mfa.Factor
	err := getJSON(tx, factorKey(realm, accountID, id), &f)
	return f, err
}

func putFactor(tx *bolt.Tx, f mfa.Factor) error {
	return putJSON(tx, factorKey(f.Realm, f.AccountID, f.ID), f)
}

func getEnrollment(tx *bolt.Tx, realm account.Realm, accountID string) (mfa.Enrollment, error) {
	e := mfa.Enrollment{Realm: realm, AccountID: accountID}
	err := getJSON(tx, enrollmentKey(realm, accountID), &e)
	if errors.Is(err, store.ErrNotFound) {
		return e, nil
	}
	return e, err
}

// putEnrollment stores e with its version moved on, on condition the
// stored version is still e.Version.
func putEnrollment(tx *bolt.Tx, e mfa.Enrollment) error {
	cur, err := getEnrollment(tx, e.Realm, e.AccountID)
	if err != nil {
		return err
	}
	if cur.Version != e.Version {
		return store.ErrConflict
	}
	e.Version++
	return putJSON(tx, enrollmentKey(e.Realm, e.AccountID), e)
}

// Factors implements mfa.Store.
func (s *Store) Factors(_ context.Context, realm account.Realm, accountID string) (mfa.Enrollment, []mfa.Factor, error) {
	var e mfa.Enrollment
	var fs []mfa.Factor
	err := s.view(func(tx *bolt.Tx) (err error) {
		if e, err = getEnrollment(tx, realm, accountID); err != nil {
			return err
		}
		p := prefix("f", string(realm), accountID)
		c := tx.Bucket(bMFA).Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			var f mfa.Factor
			if err := json.Unmarshal(v, &f); err != nil {
				return err
			}
			fs = append(fs, f)
		}
		return nil
	})
	slices.SortFunc(fs, func(a, b mfa.Factor) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return e, fs, err
}

// GetFactor implements mfa.Store.
func (s *Store) GetFactor(_ context.Context, realm account.Realm, accountID, id string) (mfa.Factor, error) {
	var f mfa.Factor
	err := s.view(func(tx *bolt.Tx) (err error) {
		f, err = getFactor(tx, realm, accountID, id)
		return err
	})
	return f, err
}

// CreateFactor implements mfa.Store.
func (s *Store) CreateFactor(_ context.Context, f mfa.Factor) error {
	return s.update(func(tx *bolt.Tx) error {
		if tx.Bucket(bMFA).Get(factorKey(f.Realm, f.AccountID, f.ID)) != nil {
			return store.ErrConflict
		}
		return putFactor(tx, f)
	})
}

// ConfirmFactor implements mfa.Store.
func (s *Store) ConfirmFactor(_ context.Context, f mfa.Factor, e mfa.Enrollment) error {
	return s.update(func(tx *bolt.Tx) error {
		cur, err := getFactor(tx, f.Realm, f.AccountID, f.ID)
		if err != nil {
			return err
		}
		if cur.State != mfa.Pending {
			return store.ErrConflict
		}
		if err := putEnrollment(tx, e); err != nil {
			return err
		}
		return putFactor(tx, f)
	})
}

// AddPasskey implements mfa.Store.
func (s *Store) AddPasskey(_ context.Context, f mfa.Factor, e mfa.Enrollment) error {
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bMFA)
		ck := passkeyKey(f.Realm, f.Passkey.CredentialID)
		if b.Get(factorKey(f.Realm, f.AccountID, f.ID)) != nil || b.Get(ck) != nil {
			return store.ErrConflict
		}
		if err := putEnrollment(tx, e); err != nil {
			return err
		}
		if err := putJSON(tx, ck, passkeyClaim{AccountID: f.AccountID, FactorID: f.ID}); err != nil {
			return err
		}
		return putFactor(tx, f)
	})
}

// RemoveFactor implements mfa.Store.
func (s *Store) RemoveFactor(_ context.Context, f mfa.Factor, e mfa.Enrollment) error {
	return s.update(func(tx *bolt.Tx) error {
		cur, err := getFactor(tx, f.Realm, f.AccountID, f.ID)
		if err != nil {
			return err
		}
		if err := putEnrollment(tx, e); err != nil {
			return err
		}
		b := tx.Bucket(bMFA)
		if cur.Passkey != nil {
			if err := b.Delete(passkeyKey(cur.Realm, cur.Passkey.CredentialID)); err != nil {
				return err
			}
		}
		return b.Delete(factorKey(f.Realm, f.AccountID, f.ID))
	})
}

// ReplaceRecovery implements mfa.Store.
func (s *Store) ReplaceRecovery(_ context.Context, e mfa.Enrollment) error {
	return s.update(func(tx *bolt.Tx) error { return putEnrollment(tx, e) })
}

// UseRecoveryCode implements mfa.Store.
func (s *Store) UseRecoveryCode(_ context.Context, realm account.Realm, accountID, hash string) error {
	return s.update(func(tx *bolt.Tx) error {
		var e mfa.Enrollment
		if err := getJSON(tx, enrollmentKey(realm, accountID), &e); err != nil {
			return err
		}
		i := slices.Index(e.Recovery, hash)
		if i < 0 {
			return store.ErrConflict
		}
		e.Recovery = slices.Delete(e.Recovery, i, i+1)
		e.Version++
		return putJSON(tx, enrollmentKey(realm, accountID), e)
	})
}

// UseTOTPStep implements mfa.Store.
func (s *Store) UseTOTPStep(_ context.Context, f mfa.Factor, step int64) error {
	return s.update(func(tx *bolt.Tx) error {
		cur, err := getFactor(tx, f.Realm, f.AccountID, f.ID)
		if err != nil {
			return err
		}
		if cur.State != mfa.Active || cur.LastStep >= step {
			return store.ErrConflict
		}
		cur.LastStep, cur.Secret = step, f.Secret
		if !f.LastUsedAt.IsZero() {
			cur.LastUsedAt = f.LastUsedAt
		}
		return putFactor(tx, cur)
	})
}

// RenameFactor implements mfa.Store.
func (s *Store) RenameFactor(_ context.Context, f mfa.Factor) error {
	return s.update(func(tx *bolt.Tx) error {
		cur, err := getFactor(tx, f.Realm, f.AccountID, f.ID)
		if err != nil {
			return err
		}
		cur.Name = f.Name
		return putFactor(tx, cur)
	})
}

// ClearFactors implements mfa.Store in one bbolt transaction.
func (s *Store) ClearFactors(_ context.Context, a account.Account, e mfa.Enrollment, fs []mfa.Factor) (int, error) {
	return s.updateCount(func(tx *bolt.Tx) (int, error) {
		cur, err := getEnrollment(tx, a.Realm, a.ID)
		if err != nil {
			return 0, err
		}
		if cur.Version != e.Version {
			return 0, store.ErrConflict
		}
		n, err := updateAccountEndSessions(tx, a, nil)
		if err != nil {
			return 0, err
		}
		b := tx.Bucket(bMFA)
		doomed := [][]byte{enrollmentKey(a.Realm, a.ID)}
		for _, f := range fs {
			doomed = append(doomed, factorKey(f.Realm, f.AccountID, f.ID))
			if f.Passkey != nil {
				doomed = append(doomed, passkeyKey(f.Realm, f.Passkey.CredentialID))
			}
		}
		for _, k := range doomed {
			if err := b.Delete(k); err != nil {
				return 0, err
			}
		}
		return n, nil
	})
}

// UsePasskey implements mfa.Store.
func (s *Store) UsePasskey(_ context.Context, f mfa.Factor, readCount uint32) error {
	return s.update(func(tx *bolt.Tx) error {
		cur, err := getFactor(tx, f.Realm, f.AccountID, f.ID)
		if err != nil {
			return err
		}
		if cur.Passkey == nil || f.Passkey == nil {
			return store.ErrNotFound
		}
		if cur.Passkey.SignCount != readCount {
			return store.ErrConflict
		}
		cur.Passkey.SignCount, cur.Passkey.BackupState = f.Passkey.SignCount, f.Passkey.BackupState
		if !f.LastUsedAt.IsZero() {
			cur.LastUsedAt = f.LastUsedAt
		}
		return putFactor(tx, cur)
	})
}

// LookupPasskey implements mfa.Store.
func (s *Store) LookupPasskey(_ context.Context, realm account.Realm, credentialID []byte) (mfa.Factor, error) {
	var f mfa.Factor
	err := s.view(func(tx *bolt.Tx) error {
		if len(credentialID) == 0 {
			return store.ErrNotFound
		}
		var c passkeyClaim
		if err := getJSON(tx, passkeyKey(realm, credentialID), &c); err != nil {
			return err
		}
		var err error
		f, err = getFactor(tx, realm, c.AccountID, c.FactorID)
		return err
	})
	return f, err
}

// PutCeremony implements mfa.Store. Ceremonies past their expiry at the
// new one's CreatedAt are dropped as it arrives (anyone may start a
// passkey login, and nothing else would remove the abandoned ones), as
// DynamoDB's TTL would.
func (s *Store) PutCeremony(_ context.Context, c mfa.Ceremony) error {
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bMFA)
		k := ceremonyKey(c.Realm, c.Key)
		if b.Get(k) != nil {
			return store.ErrConflict
		}
		if err := dropLapsedCeremonies(b, c.CreatedAt); err != nil {
			return err
		}
		return putJSON(tx, k, c)
	})
}

func dropLapsedCeremonies(b *bolt.Bucket, now time.Time) error {
	p := prefix("c")
	var lapsed [][]byte
	c := b.Cursor()
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		var old mfa.Ceremony
		if err := json.Unmarshal(v, &old); err != nil {
			return err
		}
		if !now.Before(old.ExpiresAt) {
			lapsed = append(lapsed, slices.Clone(k))
		}
	}
	for _, k := range lapsed {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// TakeCeremony implements mfa.Store.
func (s *Store) TakeCeremony(_ context.Context, realm account.Realm, k string) (mfa.Ceremony, error) {
	var c mfa.Ceremony
	err := s.update(func(tx *bolt.Tx) error {
		ck := ceremonyKey(realm, k)
		if err := getJSON(tx, ck, &c); err != nil {
			return err
		}
		return tx.Bucket(bMFA).Delete(ck)
	})
	return c, err
}

// PutMFAToken implements mfa.Store.
func (s *Store) PutMFAToken(_ context.Context, t mfa.TokenRecord) error {
	return s.update(func(tx *bolt.Tx) error {
		k := mfaTokenKey(t.Realm, t.AccountID, t.ID)
		if tx.Bucket(bMFA).Get(k) != nil {
			return store.ErrConflict
		}
		return putJSON(tx, k, t)
	})
}

// GetMFAToken implements mfa.Store.
func (s *Store) GetMFAToken(_ context.Context, realm account.Realm, accountID, id string) (mfa.TokenRecord, error) {
	var t mfa.TokenRecord
	err := s.view(func(tx *bolt.Tx) error { return getJSON(tx, mfaTokenKey(realm, accountID, id), &t) })
	return t, err
}

// ReserveMFAAttempt implements mfa.Store.
func (s *Store) ReserveMFAAttempt(_ context.Context, t mfa.TokenRecord) (int, error) {
	var n int
	err := s.update(func(tx *bolt.Tx) error {
		k := mfaTokenKey(t.Realm, t.AccountID, t.ID)
		var cur mfa.TokenRecord
		if err := getJSON(tx, k, &cur); err != nil {
			return err
		}
		if cur.Attempts >= mfa.MaxAttempts {
			return store.ErrConflict
		}
		cur.Attempts++
		n = cur.Attempts
		return putJSON(tx, k, cur)
	})
	return n, err
}

// ReleaseMFAAttempt implements mfa.Store.
func (s *Store) ReleaseMFAAttempt(_ context.Context, t mfa.TokenRecord) error {
	return s.update(func(tx *bolt.Tx) error {
		k := mfaTokenKey(t.Realm, t.AccountID, t.ID)
		var cur mfa.TokenRecord
		if err := getJSON(tx, k, &cur); err != nil {
			return err
		}
		if cur.Attempts <= 0 {
			return store.ErrConflict
		}
		cur.Attempts--
		return putJSON(tx, k, cur)
	})
}

// RedeemMFAToken implements mfa.Store.
func (s *Store) RedeemMFAToken(_ context.Context, t mfa.TokenRecord) error {
	return s.update(func(tx *bolt.Tx) error {
		k := mfaTokenKey(t.Realm, t.AccountID, t.ID)
		var cur mfa.TokenRecord
		if err := getJSON(tx, k, &cur); err != nil {
			return err
		}
		if cur.Attempts > mfa.MaxAttempts {
			return store.ErrConflict
		}
		return tx.Bucket(bMFA).Delete(k)
	})
}

// Reauthenticate implements session.Store.
func (s *Store) Reauthenticate(_ context.Context, ss session.Session, at time.Time) error {
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bSessions)
		cur, err := getSession(b, ss.Realm, ss.AccountID, ss.Key)
		if err != nil {
			return err
		}
		cur.AuthenticatedAt = at
		return putSession(b, cur)
	})
}
