// Package audit is the security event trail: every authentication operation,
// success or failure, and every admin action, stored with a retention TTL,
// queryable by time, type, realm and account, and written to the structured
// log. Events never hold a password, code, token, raw session id, or an
// unmasked email or phone.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ekolek/identity/shared/account"
)

// Type names a kind of security event.
type Type string

// The event types (DESIGN.md).
const (
	LoginSucceeded         Type = "login_succeeded"
	LoginFailed            Type = "login_failed"
	LoginLocked            Type = "login_locked"
	Logout                 Type = "logout"
	SessionExpired         Type = "session_expired"
	SessionRevoked         Type = "session_revoked"
	PasswordResetRequested Type = "password_reset_requested"
	PasswordResetCompleted Type = "password_reset_completed"
	CodeFailed             Type = "code_failed"
	PasswordChanged        Type = "password_changed"
	AccountRegistered      Type = "account_registered"
	ContactVerified        Type = "contact_verified"
	AccountStatusChanged   Type = "account_status_changed"
	AdminCreated           Type = "admin_created"
	AdminUpdated           Type = "admin_updated"
	CSRFFailed             Type = "csrf_failed"
	RateLimited            Type = "rate_limited"
	// AccessDenied is a 403 forbidden for an authenticated admin: not one
	// of DESIGN.md's names, added because every denial must leave an event.
	AccessDenied Type = "access_denied"
	// The second factor's (DESIGN.md, "Second factor").
	MFAEnrolled      Type = "mfa_enrolled"
	MFARemoved       Type = "mfa_removed"
	MFASucceeded     Type = "mfa_succeeded"
	MFAFailed        Type = "mfa_failed"
	RecoveryCodeUsed Type = "recovery_code_used"
	MFACleared       Type = "mfa_cleared"
)

// Types lists every event type.
var Types = []Type{
	LoginSucceeded, LoginFailed, LoginLocked, Logout, SessionExpired, SessionRevoked,
	PasswordResetRequested, PasswordResetCompleted, CodeFailed, PasswordChanged,
	AccountRegistered, ContactVerified, AccountStatusChanged, AdminCreated, AdminUpdated,
	CSRFFailed, RateLimited, AccessDenied,
	MFAEnrolled, MFARemoved, MFASucceeded, MFAFailed, RecoveryCodeUsed, MFACleared,
}

// Event is one security event.
type Event struct {
	ID        string
	Type      Type
	Realm     account.Realm // may be empty when no realm applies
	AccountID string        // when known
	// Identifier is what was typed (login, reset), masked.
	Identifier string
	IP         string
	UserAgent  string
	RequestID  string
	Time       time.Time
	// Details are small string facts (reason, from/to status, actor id,
	// route); never secrets, never unmasked contacts.
	Details map[string]string
}

// Query selects events, newest first.
type Query struct {
	Type      Type          // empty: any
	Realm     account.Realm // empty: any
	AccountID string        // empty: any; with it, Realm is required
	Since     time.Time     // inclusive; zero: no lower bound
	Until     time.Time     // exclusive; zero: no upper bound
	Limit     int
	Cursor    string // opaque, from the previous page
}

// Store keeps events.
type Store interface {
	// AppendEvent stores e until expires (the retention TTL).
	AppendEvent(ctx context.Context, e Event, expires time.Time) error
	// QueryEvents returns one page of events matching q, newest first (by
	// Time, then ID descending), and the cursor of the next page ("" on the
	// last). A cursor not handed out for the same filters is ErrInvalidCursor.
	QueryEvents(ctx context.Context, q Query) ([]Event, string, error)
}

// Fingerprint identifies q's filters (not its limit or cursor): a store puts
// it in its cursors so a cursor is only taken back with the filters it was
// handed out for.
func (q Query) Fingerprint() string {
	bound := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "audit.Query\x00%s\x00%s\x00%s\x00%s\x00%s",
		q.Type, q.Realm, q.AccountID, bound(q.Since), bound(q.Until)))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// MinTime and MaxTime bound the event times the stores keep (Unix
// nanoseconds fit in an int64 between them).
var (
	MinTime = time.Unix(0, 0)
	MaxTime = time.Unix(0, math.MaxInt64)
)

// Storable checks what every store needs of an event: an id, and a time
// between MinTime and MaxTime.
func Storable(e Event) error {
	switch {
	case e.ID == "":
		return errors.New("audit: an event needs an id")
	case e.Time.Before(MinTime) || !e.Time.Before(MaxTime):
		return fmt.Errorf("audit: event time %v is outside 1970-2261", e.Time)
	}
	return nil
}

// Bound is t in Unix nanoseconds, clamped to [MinTime, MaxTime].
func Bound(t time.Time) int64 {
	switch {
	case t.Before(MinTime):
		return 0
	case !t.Before(MaxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}
