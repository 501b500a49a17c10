// Package session issues, checks and ends login sessions. A session is a
// random 256-bit id carried in a signed cookie; the store item, keyed by the
// id's SHA-256, is the authority on whether it is still alive.
package session

import (
	"context"
	"time"

	"github.com/ekolek/identity/shared/account"
)

// Session is one login of one account in one realm.
type Session struct {
	Realm     account.Realm
	AccountID string
	// Key is the hex SHA-256 of the raw session id: the store key, and the
	// public handle shown in session listings. The raw id is never stored.
	Key           string
	CreatedAt     time.Time
	LastSeenAt    time.Time
	IdleExpiresAt time.Time
	ExpiresAt     time.Time // absolute
	IP            string
	UserAgent     string
	// Epoch is the account's SessionEpoch when the session was started
	// (or last re-stamped): a different epoch on the account means the
	// session ended with a password change, reset, suspension or "end all
	// sessions", whether or not its item is still there.
	Epoch int64
	// SecondFactor is the method the login passed its second step with
	// ("totp", "webauthn", "recovery"); "" for a login by password alone.
	// The session check reads it with the session, at no extra cost.
	SecondFactor string
	// AuthenticatedAt is when the person last proved who they are in this
	// session: its login, or a later reauth. Removing a second factor or
	// making new recovery codes needs it to be recent.
	AuthenticatedAt time.Time
}

// Store keeps sessions. Reads are strongly consistent so a logout or
// revocation takes effect on the very next request.
type Store interface {
	// CreateSession stores a new session. ErrConflict when the key exists.
	CreateSession(ctx context.Context, s Session) error
	// ReplaceSession stores a new session and deletes another session of the
	// same realm (oldAccountID, oldKey; a missing one is fine) as one change:
	// a login that ends the session its browser presented does both or
	// neither. ErrConflict when s's key exists.
	ReplaceSession(ctx context.Context, s Session, oldAccountID, oldKey string) error
	// GetSession reads one session together with its account in a single
	// strongly consistent store call (DynamoDB: one BatchGetItem with
	// ConsistentRead), so every authenticated request costs one read and
	// always sees the account's current status and role. ErrNotFound when
	// either is gone.
	GetSession(ctx context.Context, realm account.Realm, accountID, key string) (Session, account.Account, error)
	// TouchSession sets LastSeenAt and IdleExpiresAt of s, on condition that
	// the stored IdleExpiresAt still equals s.IdleExpiresAt (ErrConflict
	// otherwise, ErrNotFound when the session is gone): of two concurrent
	// refreshes one writes and the other learns it need not.
	TouchSession(ctx context.Context, s Session, lastSeen, idleExpires time.Time) error
	// DeleteSession removes one session; deleting a missing one is not an error.
	DeleteSession(ctx context.Context, realm account.Realm, accountID, key string) error
	// ListSessions returns every stored session of an account, oldest first.
	ListSessions(ctx context.Context, realm account.Realm, accountID string) ([]Session, error)
	// EndSessions ends every session of an account but those keyed in keep,
	// as one change: the account starts a new SessionEpoch (so a session
	// written later under the old one is refused too), the kept sessions
	// are re-stamped with it and the others are deleted. It returns how many
	// were deleted; ErrNotFound when the account is gone.
	EndSessions(ctx context.Context, realm account.Realm, accountID string, keep []string) (int, error)
	// Reauthenticate sets AuthenticatedAt of s to at, on condition that
	// the session still exists (ErrNotFound otherwise).
	Reauthenticate(ctx context.Context, s Session, at time.Time) error
}
