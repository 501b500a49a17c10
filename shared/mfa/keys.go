package mfa

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/token"
)

// Keys are the keys the second factor keeps its secrets under, derived
// from the data key (config.DataKey, which outlives signing-key
// rotations) the way package code derives its HMAC key (HMAC-SHA256 of the
// key over a label), one per use:
//
//   - TOTP secrets are sealed with AES-256-GCM, the factor's realm, account
//     and id as additional data, so a sealed secret copied to another
//     factor does not open;
//   - recovery codes are stored as HMAC-SHA256 over realm, account and code.
//
// Each derived key is named by its key id (token.KeyID of the derived key),
// stored beside what it sealed or hashed, so that the data key could be
// replaced without losing factors: keys given as previous still open and
// check what they made, and a TOTP secret opened with one is sealed again
// under the current key at its next use.
type Keys struct {
	seal, recovery keyring
}

type keyring struct {
	current string
	byID    map[string][]byte
}

func newKeyring(label string, secrets [][]byte) keyring {
	r := keyring{byID: map[string][]byte{}}
	for i, s := range secrets {
		m := hmac.New(sha256.New, s)
		m.Write([]byte(label))
		k := m.Sum(nil)
		id := token.KeyID(k)
		if i == 0 {
			r.current = id
		}
		r.byID[id] = k
	}
	return r
}

// NewKeys derives the keys from the current data key and any previous
// ones whose secrets must still open.
func NewKeys(current []byte, previous ...[]byte) (*Keys, error) {
	if len(current) < token.MinKeyLen {
		return nil, fmt.Errorf("mfa: data key must be at least %d bytes", token.MinKeyLen)
	}
	secrets := append([][]byte{current}, previous...)
	return &Keys{
		seal:     newKeyring("ekolek/mfa/totp-secret/v1", secrets),
		recovery: newKeyring("ekolek/mfa/recovery/v1", secrets),
	}, nil
}

// errSealed: a sealed secret that does not open (a key no longer kept,
// or a secret that is not this factor's).
var errSealed = errors.New("mfa: sealed secret does not open")

func factorAAD(f Factor) []byte {
	return []byte(string(f.Realm) + "\x00" + f.AccountID + "\x00" + f.ID)
}

// sealSecret seals a TOTP secret for f under the current key: "<key
// id>.<base64url(nonce ‖ ciphertext)>".
func (k *Keys) sealSecret(f Factor, secret string) (string, error) {
	gcm, err := newGCM(k.seal.byID[k.seal.current])
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("mfa: random nonce: %w", err)
	}
	out := gcm.Seal(nonce, nonce, []byte(secret), factorAAD(f))
	return k.seal.current + "." + base64.RawURLEncoding.EncodeToString(out), nil
}

// openSecret opens f's sealed secret; stale reports that it was sealed
// under a key that is no longer the current one.
func (k *Keys) openSecret(f Factor) (secret string, stale bool, err error) {
	id, body, ok := strings.Cut(f.Secret, ".")
	key, known := k.seal.byID[id]
	if !ok || !known {
		return "", false, errSealed
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return "", false, errSealed
	}
	gcm, err := newGCM(key)
	if err != nil {
		return "", false, err
	}
	if len(raw) < gcm.NonceSize() {
		return "", false, errSealed
	}
	plain, err := gcm.Open(nil, raw[:gcm.NonceSize()], raw[gcm.NonceSize():], factorAAD(f))
	if err != nil {
		return "", false, errSealed
	}
	return string(plain), id != k.seal.current, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("mfa: cipher: %w", err)
	}
	return cipher.NewGCM(b)
}

// recoveryKey is the id of the key new recovery codes are hashed with.
func (k *Keys) recoveryKey() string { return k.recovery.current }

// recoveryHash is a normalised recovery code's stored form under the key
// keyID; ok is false when that key is no longer kept.
func (k *Keys) recoveryHash(keyID string, realm account.Realm, accountID, code string) (string, bool) {
	key, ok := k.recovery.byID[keyID]
	if !ok {
		return "", false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(string(realm) + "\x00" + accountID + "\x00" + code))
	return hex.EncodeToString(m.Sum(nil)), true
}
