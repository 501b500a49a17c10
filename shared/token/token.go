// Package token signs and verifies the JWTs the platform hands out: session
// cookies (audience = realm) and password-reset tokens (audience =
// "<realm>:password_reset"). HS256 only, with a key id so keys can rotate:
// a key set read from a Source stays fresh while the process runs, so a
// rotation logs nobody out (see Keys).
package token

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ekolek/identity/shared/clock"
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
// by key id. Keys made by NewKeys never change. Keys made by Refreshing
// follow their Source while the process runs: they are read again in the
// background once they are older than MaxAge, and at once (at most once
// per UnknownKeyInterval) when a token names a key id they do not hold. So
// after a rotation an instance that still signs with the old key has its
// tokens accepted by new instances (the old key is the previous one
// there), and accepts theirs (the unknown key id makes it read the new
// set) — nobody is logged out — while a key that is neither current nor
// previous any more (retired) stops verifying within MaxAge.
type Keys struct {
	set atomic.Pointer[keySet]

	src   Source
	clock clock.Clock
	// mu makes one reader of the source at a time; readAt and lastUnknown
	// are under it.
	mu          sync.Mutex
	lastUnknown time.Time
	background  atomic.Bool
}

// keySet is one reading of the keys.
type keySet struct {
	currentID string
	byID      map[string][]byte
	// byHeader is each key by the header segment Sign writes for it, for
	// Parse's fast path (verify.go).
	byHeader map[string]*macKey
	readAt   time.Time
}

// Source reads the signing keys: the current one, which signs, and the
// previous ones, which still verify.
type Source func(ctx context.Context) (current []byte, previous [][]byte, err error)

// How fresh a Refreshing key set stays.
const (
	// MaxAge is how long a reading of the keys is used before it is read
	// again in the background.
	MaxAge = 5 * time.Minute
	// UnknownKeyInterval is how often at most a token naming an unknown
	// key id makes the keys be read again at once: a stream of forged key
	// ids cannot turn into a stream of reads.
	UnknownKeyInterval = time.Minute
	// readTimeout bounds a background reading (a request's own reading is
	// bounded by its context).
	readTimeout = 5 * time.Second
)

// NewKeys makes a fixed key set signing with current and also accepting previous.
func NewKeys(current []byte, previous ...[]byte) (*Keys, error) {
	set, err := newKeySet(current, previous, time.Time{})
	if err != nil {
		return nil, err
	}
	k := &Keys{}
	k.set.Store(set)
	return k, nil
}

// Refreshing makes a key set from a first reading of src (current and
// previous, read by the caller at start-up) and keeps it fresh as Keys
// describes.
func Refreshing(src Source, c clock.Clock, current []byte, previous ...[]byte) (*Keys, error) {
	set, err := newKeySet(current, previous, c.Now())
	if err != nil {
		return nil, err
	}
	k := &Keys{src: src, clock: c}
	k.set.Store(set)
	return k, nil
}

func newKeySet(current []byte, previous [][]byte, at time.Time) (*keySet, error) {
	set := &keySet{byID: map[string][]byte{}, byHeader: map[string]*macKey{}, readAt: at}
	for i, key := range append([][]byte{current}, previous...) {
		if len(key) < MinKeyLen {
			return nil, fmt.Errorf("token: signing key must be at least %d bytes", MinKeyLen)
		}
		id := KeyID(key)
		if i == 0 {
			set.currentID = id
		}
		set.byID[id] = key
		header, err := headerSegment(id)
		if err != nil {
			return nil, err
		}
		set.byHeader[header] = newMACKey(key)
	}
	return set, nil
}

// read replaces the key set with a new reading of the source; on an error
// the set in use stays.
func (k *Keys) read(ctx context.Context) error {
	current, previous, err := k.src(ctx)
	if err != nil {
		return fmt.Errorf("token: reading the signing keys: %w", err)
	}
	set, err := newKeySet(current, previous, k.clock.Now())
	if err != nil {
		return err
	}
	k.set.Store(set)
	return nil
}

// fresh returns the key set, starting a background reading when it is
// older than MaxAge (the request goes on with the set it has).
func (k *Keys) fresh() *keySet {
	set := k.set.Load()
	if k.src != nil && k.clock.Now().Sub(set.readAt) >= MaxAge && k.background.CompareAndSwap(false, true) {
		go func() {
			defer k.background.Store(false)
			ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
			defer cancel()
			k.mu.Lock()
			defer k.mu.Unlock()
			if k.set.Load() == set {
				_ = k.read(ctx)
			}
		}()
	}
	return set
}

// readForUnknown reads the keys again for a token naming a key id that
// seen does not hold, unless that was done less than UnknownKeyInterval
// ago; it reports whether the set changed since seen.
func (k *Keys) readForUnknown(ctx context.Context, seen *keySet) bool {
	if k.src == nil {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.set.Load() != seen {
		// Another request read the keys while this one waited.
		return true
	}
	now := k.clock.Now()
	if !k.lastUnknown.IsZero() && now.Sub(k.lastUnknown) < UnknownKeyInterval {
		return false
	}
	k.lastUnknown = now
	return k.read(ctx) == nil
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
	set := k.fresh()
	return newJWT(set.currentID, jwtClaims{
		SID: c.SessionID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   c.Subject,
			Audience:  jwt.ClaimStrings{c.Audience},
			ID:        c.ID,
			IssuedAt:  jwt.NewNumericDate(c.IssuedAt),
			ExpiresAt: jwt.NewNumericDate(c.ExpiresAt),
		},
	}).SignedString(set.byID[set.currentID])
}

// newJWT is the token Sign writes: HS256, key id kid. headerSegment
// takes its header from here too, so the fast path knows it byte for byte.
func newJWT(kid string, c jwt.Claims) *jwt.Token {
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	t.Header["kid"] = kid
	return t
}

// headerSegment is the first segment (the encoded header) of every token
// Sign writes with key kid.
func headerSegment(kid string) (string, error) {
	s, err := newJWT(kid, jwt.MapClaims{}).SigningString()
	if err != nil {
		return "", fmt.Errorf("token: header: %w", err)
	}
	header, _, _ := strings.Cut(s, ".")
	return header, nil
}

// Parse verifies tok for audience: key id, algorithm (HS256 only, whatever
// the header says, so "none" and key-confusion tricks fail), signature,
// issuer, exactly this one audience, a subject and an expiry. A well-signed
// token past its exp comes back with its claims and ErrExpired, so a logout
// can still find what it named. A key id the set does not hold may make it
// read the keys again first (see Keys), within ctx.
func (k *Keys) Parse(ctx context.Context, audience, tok string, now time.Time) (Claims, error) {
	if len(tok) > maxLen {
		return Claims{}, ErrInvalid
	}
	set := k.fresh()
	c, unknown, err := set.verify(tok)
	if unknown && k.readForUnknown(ctx, set) {
		c, _, err = k.set.Load().verify(tok)
	}
	if err != nil || c.issuer != issuer || c.audiences != 1 || c.audience != audience ||
		!c.hasExpiry || c.subject == "" || len(c.subject) > 64 {
		return Claims{}, ErrInvalid
	}
	out := Claims{Audience: audience, Subject: c.subject, SessionID: c.sessionID, ID: c.id, IssuedAt: c.issuedAt, ExpiresAt: c.expiresAt}
	if !now.Before(out.ExpiresAt) {
		return out, ErrExpired
	}
	return out, nil
}

// verified is what a token whose signature verified says, before Parse's
// checks of it.
type verified struct {
	issuer, subject, sessionID, id string
	// audience is the first of audiences audience values.
	audience  string
	audiences int
	issuedAt  time.Time
	expiresAt time.Time
	hasExpiry bool
}

// verify checks tok's signature with set and decodes its claims,
// reporting whether it failed because the token names a key id set does
// not hold. A token exactly as Sign writes it takes the fast path
// (verifyOwn); anything else goes through golang-jwt (parseWith), and
// both answer alike (FuzzVerifyMatchesJWT).
func (set *keySet) verify(tok string) (c verified, unknownKey bool, err error) {
	switch c, verdict := set.verifyOwn(tok); verdict {
	case ownValid:
		return c, false, nil
	case ownInvalid:
		return verified{}, false, ErrInvalid
	}
	return set.parseWith(tok)
}

// parseWith verifies tok with golang-jwt's parser: HS256 only, whatever the
// header says, the key its kid names, every claim decoded by encoding/json.
func (set *keySet) parseWith(tok string) (v verified, unknownKey bool, err error) {
	var c jwtClaims
	_, err = jwt.ParseWithClaims(tok, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		key, ok := set.byID[kid]
		if !ok {
			unknownKey = true
			return nil, ErrInvalid
		}
		return key, nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithoutClaimsValidation(),
	)
	if err != nil {
		return verified{}, unknownKey, err
	}
	v = verified{issuer: c.Issuer, subject: c.Subject, sessionID: c.SID, id: c.ID, audiences: len(c.Audience)}
	if len(c.Audience) > 0 {
		v.audience = c.Audience[0]
	}
	if c.IssuedAt != nil {
		v.issuedAt = c.IssuedAt.Time
	}
	if c.ExpiresAt != nil {
		v.expiresAt, v.hasExpiry = c.ExpiresAt.Time, true
	}
	return v, false, nil
}
