// Package token signs and verifies the JWTs the platform hands out: session
// cookies (audience = realm) and password-reset tokens (audience =
// "<realm>:password_reset"). HS256 only, with a key id so keys can rotate.
package token

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MinKeyLen is the shortest signing key accepted, in bytes.
const MinKeyLen = 32

// maxLen bounds what is parsed at all: real tokens are a few hundred bytes.
const maxLen = 1024

const issuer = "ekolek"

// Errors from Parse.
var (
	// ErrInvalid: not ours, not for this audience, malformed, or tampered with.
	ErrInvalid = errors.New("token: invalid")
	// ErrExpired: well signed and for this audience, but past its exp.
	ErrExpired = errors.New("token: expired")
)

// Keys holds the key that signs new tokens and every key that may verify one,
// by key id.
type Keys struct {
	currentID string
	byID      map[string][]byte
}

// NewKeys makes a key set signing with current and also accepting previous.
func NewKeys(current []byte, previous ...[]byte) (*Keys, error) {
	k := &Keys{byID: map[string][]byte{}}
	for i, key := range append([][]byte{current}, previous...) {
		if len(key) < MinKeyLen {
			return nil, fmt.Errorf("token: signing key must be at least %d bytes", MinKeyLen)
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

// Claims are what a token says.
type Claims struct {
	Audience  string
	Subject   string
	SessionID string // "sid": session tokens
	ID        string // "jti": one-use tokens name the record they redeem
	IssuedAt  time.Time
	ExpiresAt time.Time
}

type jwtClaims struct {
	SID string `json:"sid,omitempty"`
	jwt.RegisteredClaims
}

// Sign returns the signed token for c, with the current key.
func (k *Keys) Sign(c Claims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwtClaims{
		SID: c.SessionID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   c.Subject,
			Audience:  jwt.ClaimStrings{c.Audience},
			ID:        c.ID,
			IssuedAt:  jwt.NewNumericDate(c.IssuedAt),
			ExpiresAt: jwt.NewNumericDate(c.ExpiresAt),
		},
	})
	t.Header["kid"] = k.currentID
	return t.SignedString(k.byID[k.currentID])
}

// Parse verifies tok for audience: key id, algorithm (HS256 only, whatever
// the header says, so "none" and key-confusion tricks fail), signature,
// issuer, exactly this one audience, a subject and an expiry. A well-signed
// token past its exp comes back with its claims and ErrExpired, so a logout
// can still find what it named.
func (k *Keys) Parse(audience, tok string, now time.Time) (Claims, error) {
	if len(tok) > maxLen {
		return Claims{}, ErrInvalid
	}
	var c jwtClaims
	_, err := jwt.ParseWithClaims(tok, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		key, ok := k.byID[kid]
		if !ok {
			return nil, ErrInvalid
		}
		return key, nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithoutClaimsValidation(),
	)
	if err != nil || c.Issuer != issuer || len(c.Audience) != 1 || c.Audience[0] != audience ||
		c.ExpiresAt == nil || c.Subject == "" || len(c.Subject) > 64 {
		return Claims{}, ErrInvalid
	}
	out := Claims{Audience: audience, Subject: c.Subject, SessionID: c.SID, ID: c.ID, ExpiresAt: c.ExpiresAt.Time}
	if c.IssuedAt != nil {
		out.IssuedAt = c.IssuedAt.Time
	}
	if !now.Before(out.ExpiresAt) {
		return out, ErrExpired
	}
	return out, nil
}
