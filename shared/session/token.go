package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/token"
)

// Errors of parse, kept apart from the token package's so the manager's
// control flow reads in session terms.
var (
	errTokenExpired = errors.New("session: token expired")
	errBadToken     = errors.New("session: bad token")
)

// parsed is a verified session token's content.
type parsed struct {
	sub, sid string
}

// parse verifies a session token for realm (its audience). A well-signed
// token past its exp is returned with errTokenExpired, so logout can still
// find and delete its item.
func parse(ctx context.Context, k *token.Keys, realm account.Realm, tok string, now time.Time) (parsed, error) {
	c, err := k.Parse(ctx, string(realm), tok, now)
	if err != nil && !errors.Is(err, token.ErrExpired) || len(c.SessionID) != sidLen {
		return parsed{}, errBadToken
	}
	p := parsed{sub: c.Subject, sid: c.SessionID}
	if err != nil {
		return p, errTokenExpired
	}
	return p, nil
}

// keyOf is the store key of a raw session id.
func keyOf(sid string) string {
	// On the stack, copies included: []byte(sid) of more than 32 bytes
	// and hex.EncodeToString would each allocate.
	var in [sidLen]byte
	sum := sha256.Sum256(append(in[:0], sid...))
	var h [2 * sha256.Size]byte
	hex.Encode(h[:], sum[:])
	return string(h[:])
}
