// Package account holds the two kinds of account (residents and admins), their
// login identifiers and the rules for creating and changing them.
package account

import (
	"context"
	"time"
)

// Realm separates resident and admin identities: separate accounts, sessions and cookies.
type Realm string

// The two realms.
const (
	Resident Realm = "resident"
	Admin    Realm = "admin"
)

// ValidID reports whether id has the shape of an account id (NewID), so
// client input never reaches a store key unchecked.
func ValidID(id string) bool {
	if len(id) != 26 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '2' && r <= '7') {
			return false
		}
	}
	return true
}

// Status is an account's lifecycle state.
type Status string

// Resident statuses and admin statuses (admins use active and suspended).
const (
	StatusPending   Status = "pending"
	StatusApproved  Status = "approved"
	StatusRejected  Status = "rejected"
	StatusSuspended Status = "suspended"
	StatusActive    Status = "active"
)

// ResidentStatuses lists resident statuses in listing order.
var ResidentStatuses = []Status{StatusPending, StatusApproved, StatusRejected, StatusSuspended}

// AdminStatuses lists admin statuses in listing order.
var AdminStatuses = []Status{StatusActive, StatusSuspended}

// StatusesOf returns the statuses accounts of realm r can have, in listing order.
func StatusesOf(r Realm) []Status {
	if r == Admin {
		return AdminStatuses
	}
	return ResidentStatuses
}

// Role is an admin's role.
type Role string

// Admin roles.
const (
	RoleSuperAdmin            Role = "super_admin"
	RoleOperationsManager     Role = "operations_manager"
	RoleContentRewardsManager Role = "content_rewards_manager"
	RoleSecurityAnalyst       Role = "security_analyst"
)

// ParseRole returns the role named s, or false.
func ParseRole(s string) (Role, bool) {
	switch Role(s) {
	case RoleSuperAdmin, RoleOperationsManager, RoleContentRewardsManager, RoleSecurityAnalyst:
		return Role(s), true
	}
	return "", false
}

// Account is a resident or an admin. Fields that belong to one realm only are
// empty for the other.
type Account struct {
	Realm  Realm
	ID     string
	Status Status

	Email         string
	EmailVerified bool
	Language      string

	// Resident fields.
	FirstName     string
	LastName      string
	Phone         string // E.164
	PhoneVerified bool
	Barangay      string

	// Admin fields.
	Username  string
	FullName  string
	Role      Role
	Barangays []string

	PasswordHash string

	// History is the account's status changes, oldest first (at most
	// MaxHistory; older ones drop off).
	History []StatusChange

	CreatedAt time.Time
	UpdatedAt time.Time
	// Version increases by one with every stored change; updates are
	// conditional on it so concurrent changes cannot overwrite each other.
	Version int64
	// SessionEpoch is the Version of the write that last ended the
	// account's sessions (a password change or reset, a suspension, "end
	// all sessions"; 0 if none has). A session is stamped with the epoch
	// of the account it authenticated and is accepted only while the two
	// are equal, so a login that checked the old password while such a
	// write committed cannot outlive it, even if its session item is
	// written afterwards. The sessions a write keeps are re-stamped in it.
	SessionEpoch int64
}

// GreetingName is what a message calls the account's owner: an admin's
// full name, a resident's first name.
func (a Account) GreetingName() string {
	if a.Realm == Admin {
		return a.FullName
	}
	return a.FirstName
}

// Identifiers returns the login identifiers the account claims in its realm.
func (a Account) Identifiers() []Identifier {
	var ids []Identifier
	if a.Email != "" {
		ids = append(ids, Identifier{Kind: KindEmail, Value: a.Email})
	}
	if a.Phone != "" {
		ids = append(ids, Identifier{Kind: KindPhone, Value: a.Phone})
	}
	if a.Username != "" {
		ids = append(ids, Identifier{Kind: KindUsername, Value: a.Username})
	}
	return ids
}

// StatusChange is one entry of an account's status history: who changed
// it, when, from what to what, and why.
type StatusChange struct {
	At     time.Time
	By     string // the admin's account id; "" for the system
	From   Status
	To     Status
	Reason string
}

// MaxHistory is how many status changes an account keeps.
const MaxHistory = 50

// ListQuery selects a page of accounts of one realm.
type ListQuery struct {
	Realm  Realm
	Status Status // empty: all statuses, in StatusesOf order
	// Barangays keeps accounts whose Barangay is one of these; empty: any.
	Barangays []string
	// Prefixes keeps accounts whose lower-cased first name, last name,
	// email or phone (E.164) begins with one of these (already lower-cased);
	// empty: any.
	Prefixes []string
	Limit    int
	Cursor   string // opaque, from the previous page
}

// Store keeps accounts and their identifier claims.
type Store interface {
	// CreateAccount stores a new account (Version 1) and claims every one of its
	// Identifiers in its realm, all or nothing. ErrConflict when any claim or the
	// id is taken.
	CreateAccount(ctx context.Context, a Account) error
	// GetAccount reads an account by id, strongly consistent. ErrNotFound.
	GetAccount(ctx context.Context, realm Realm, id string) (Account, error)
	// LookupIdentifier returns the id of the account of realm that holds id. ErrNotFound.
	LookupIdentifier(ctx context.Context, realm Realm, id Identifier) (string, error)
	// UpdateAccount replaces an account whose stored Version equals a.Version,
	// storing it with Version+1. Identifiers never change after creation.
	// ErrConflict when the version differs, ErrNotFound when it is gone.
	UpdateAccount(ctx context.Context, a Account) error
	// UpdateAccountEndSessions is UpdateAccount and the end of every session
	// of the account as one change: both happen or neither. The stored
	// account starts a new SessionEpoch (its new Version), so a session
	// written later under the old epoch is refused too. It returns how many
	// sessions ended.
	UpdateAccountEndSessions(ctx context.Context, a Account) (int, error)
	// ListAccounts returns one page of a realm's accounts matching q's
	// filters: grouped by status in StatusesOf order (only q.Status when
	// set), oldest first within a status, and the cursor of the next page
	// ("" on the last). A page may be shorter than Limit (even empty) while
	// the cursor is not "": callers stop only at "".
	ListAccounts(ctx context.Context, q ListQuery) ([]Account, string, error)
	// UpdateAccountEndSessionsExcept is UpdateAccountEndSessions sparing the
	// sessions keyed in keep (a password change keeps the session that made
	// it), which are re-stamped with the new epoch in the same change.
	UpdateAccountEndSessionsExcept(ctx context.Context, a Account, keep []string) (int, error)
	// Roster returns the version of the admin roster: every change to an
	// admin's role or status moves it, so a check such as "not the last
	// active super admin" can be made safe against concurrent changes.
	Roster(ctx context.Context) (int64, error)
	// UpdateAdmin stores an admin (version-checked as UpdateAccount), moves
	// the roster from version roster to roster+1, and, when endSessions, ends
	// every session of the admin as UpdateAccountEndSessions does: all or
	// nothing. ErrConflict when either
	// version moved.
	UpdateAdmin(ctx context.Context, a Account, roster int64, endSessions bool) (int, error)
}
