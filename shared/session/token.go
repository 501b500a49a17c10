package session

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ekolek/identity/shared/account"
)

// MinKeyLen is the shortest signing key accepted, in bytes.
const MinKeyLen = 32

// Keys holds the key that signs new tokens and every key that may verify one,
// by key id, so a key can be rotated without logging everybody out.
type Keys struct {
	currentID string
	byID      map[string][]byte
}

// NewKeys makes a key set signing with current and also accepting previous.
func NewKeys(current []byte, previous ...[]byte) (*Keys, error) {
	k := &Keys{byID: map[string][]byte{}}
	for i, key := range append([][]byte{current}, previous...) {
		if len(key) < MinKeyLen {
			return nil, fmt.Errorf("session: signing key must be at least %d bytes", MinKeyLen)
		}
		id := KeyID(key)
		if i == 0 {
			k.currentID = id
		}
		k.byID[id] = key
	}
	return k, nil
}

// KeyID names a key without revealing it: the first 8 bytes of its SHA-256, in hex.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}

const issuer = "ekolek"

// claims are what a session cookie carries.
type claims struct {
	SID string `json:"sid"`
	jwt.RegisteredClaims
}

// sign returns the token for session id sid of account sub in realm, valid until exp.
func (k *Keys) sign(realm account.Realm, sub, sid string, iat, exp time.Time) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims{
		SID: sid,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   sub,
			Audience:  jwt.ClaimStrings{string(realm)},
			IssuedAt:  jwt.NewNumericDate(iat),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
	})
	t.Header["kid"] = k.currentID
	return t.SignedString(k.byID[k.currentID])
}

// errTokenExpired is a well-signed token of the right realm past its exp.
var errTokenExpired = errors.New("session: token expired")

// errBadToken is any token that is not ours, not for this realm, or malformed.
var errBadToken = errors.New("session: bad token")

// parsed is a verified token's content.
type parsed struct {
	sub, sid string
}

// parse verifies a token for realm: key id, algorithm (HS256 only, so
// "none" and key-confusion tricks fail), signature, issuer, audience, and the
// presence of sub and sid. A well-signed token past its exp is returned with
// errTokenExpired, so logout can still find and delete its item.
func (k *Keys) parse(realm account.Realm, token string, now time.Time) (parsed, error) {
	if len(token) > 1024 {
		return parsed{}, errBadToken
	}
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		key, ok := k.byID[kid]
		if !ok {
			return nil, errBadToken
		}
		return key, nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithoutClaimsValidation(),
	)
	if err != nil || c.Issuer != issuer || len(c.Audience) != 1 || c.Audience[0] != string(realm) ||
		c.ExpiresAt == nil || c.Subject == "" || len(c.Subject) > 64 || len(c.SID) != sidLen {
		return parsed{}, errBadToken
	}
	p := parsed{sub: c.Subject, sid: c.SID}
	if !now.Before(c.ExpiresAt.Time) {
		return p, errTokenExpired
	}
	return p, nil
}

// keyOf is the store key of a raw session id.
func keyOf(sid string) string {
	sum := sha256.Sum256([]byte(sid))
	return hex.EncodeToString(sum[:])
}
