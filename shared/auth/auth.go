// Package auth holds the use cases that prove who someone is: logging in
// and changing one's own password. It composes the account domain (whose
// password, which status), the throttle guard (the identifier lock and the
// IP limit, always before any password work), sessions and the security
// trail, so every caller (the HTTP API, a command-line tool) logs in by the
// same rules and leaves the same events.
//
// Errors are the domain's: *throttle.Refused, account.ErrInvalidCredentials,
// *account.StatusError, *password.WeakError, or a store error. A refusal by
// a limit is returned, not recorded: recording it (rate_limited) is the
// caller's, as it is for every limited operation, because it names the route
// and folds a stranger's repeats.
package auth

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/password"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/throttle"
)

// Requester is who is asking: what the security trail records of the
// request behind an attempt.
type Requester struct {
	RequestID string
	// IP is the client's address as the platform saw it (never a header the
	// client wrote); the IP limit counts it.
	IP        string
	UserAgent string
}

// Notices tells an account's verified contacts that its password changed
// (reset.Service).
type Notices interface {
	NotifyPasswordChanged(ctx context.Context, a account.Account)
}

// Service runs logins and password changes.
type Service struct {
	accounts *account.Service
	checks   account.Checks
	sessions *session.Manager
	guard    *throttle.Guard
	trail    *audit.Recorder
	notices  Notices
	log      *slog.Logger
}

// NewService returns a Service. checks read what is typed into a login box
// (a resident's mobile number needs Checks.Phone).
func NewService(accounts *account.Service, checks account.Checks, sessions *session.Manager, guard *throttle.Guard, trail *audit.Recorder, notices Notices, log *slog.Logger) *Service {
	return &Service{accounts: accounts, checks: checks, sessions: sessions, guard: guard, trail: trail, notices: notices, log: log}
}

// Login is one login attempt.
type Login struct {
	Realm account.Realm
	// Identifier is what was typed into the login box: an email, a mobile
	// number (residents) or a username (admins).
	Identifier string
	Password   string
	// Presented is the session token of Realm the client presented, "" for
	// none. That session ends in the same store change that starts the new
	// one, so a planted cookie never becomes a logged-in one.
	Presented string
}

// SignedIn is a completed login: the account and its new session.
type SignedIn struct {
	Account account.Account
	Session session.Session
	// Token is what the client presents from now on (the session cookie).
	Token string
}

// Login checks a login and starts a session. A locked identifier or a
// throttled IP is refused (*throttle.Refused) before any password hash is
// computed. A wrong password or an unknown identifier is
// account.ErrInvalidCredentials and counts toward the identifier's lock and
// the IP's limit; a right password for an account whose status keeps it out
// is *account.StatusError and counts toward neither. Every login gets a new
// session id.
func (s *Service) Login(ctx context.Context, who Requester, in Login) (SignedIn, error) {
	key := s.checks.CanonicalIdentifier(in.Realm, in.Identifier)
	if err := s.guard.BeginLogin(ctx, string(in.Realm), key, who.IP); err != nil {
		return SignedIn{}, err
	}
	acct, rehash, err := s.checkPassword(ctx, who, in, key)
	if err != nil {
		return SignedIn{}, err
	}
	return s.signIn(ctx, who, in, acct, rehash)
}

// checkPassword authenticates in and settles the attempt BeginLogin
// admitted under key: a failure keeps its place in the counts (and may lock
// the identifier); a right password gives it back, whether or not the
// account's status lets it in, and so does a store failure before any
// verdict. A refused attempt is recorded with the
// account the identifier belongs to, if any.
func (s *Service) checkPassword(ctx context.Context, who Requester, in Login, key string) (account.Account, bool, error) {
	realm := string(in.Realm)
	acct, rehash, err := s.accounts.Authenticate(ctx, in.Realm, in.Identifier, in.Password)
	var status *account.StatusError
	switch {
	case errors.Is(err, account.ErrInvalidCredentials):
		locked, gerr := s.guard.LoginFailed(ctx, realm, key, who.IP)
		if gerr != nil {
			return account.Account{}, false, gerr
		}
		s.event(ctx, who, audit.LoginFailed, in.Realm, acct.ID, in.Identifier, map[string]string{"reason": "invalid_credentials"})
		if locked {
			s.event(ctx, who, audit.LoginLocked, in.Realm, acct.ID, in.Identifier, map[string]string{"lock": s.guard.Limits().LoginFailures.Window.String()})
		}
		return account.Account{}, false, err
	case errors.As(err, &status):
		// The password was right: not a failure to count toward a lock,
		// and no success either.
		if gerr := s.guard.LoginRefusedByStatus(ctx, realm, key, who.IP); gerr != nil {
			return account.Account{}, false, gerr
		}
		s.event(ctx, who, audit.LoginFailed, in.Realm, acct.ID, in.Identifier, map[string]string{"reason": "account_" + string(status.Status)})
		return account.Account{}, false, err
	case err != nil:
		// The store failed before the password was checked: no verdict,
		// so the retry must not find this attempt counted.
		s.guard.Unjudged(ctx, realm, who.IP, key)
		return account.Account{}, false, err
	}
	if err := s.guard.LoginSucceeded(ctx, realm, key, who.IP); err != nil {
		return account.Account{}, false, err
	}
	return acct, rehash, nil
}

// signIn ends a login whose checks have all passed: a new session for acct
// as it authenticated (its SessionEpoch, so a credential change that
// committed meanwhile refuses the session), then the best-effort upgrade of
// an old hash, then the event.
func (s *Service) signIn(ctx context.Context, who Requester, in Login, acct account.Account, rehash bool) (SignedIn, error) {
	token, sess, err := s.sessions.Start(ctx, acct, who.IP, who.UserAgent, in.Presented)
	if err != nil {
		return SignedIn{}, err
	}
	if rehash {
		// The login stands either way, and a failed upgrade is retried at
		// the next login.
		if err := s.accounts.UpgradeHash(ctx, acct, in.Password); err != nil {
			s.log.Warn("password rehash failed", "request_id", who.RequestID, "realm", in.Realm, "account_id", acct.ID, "error", err.Error())
		}
	}
	s.event(ctx, who, audit.LoginSucceeded, in.Realm, acct.ID, in.Identifier, nil)
	return SignedIn{Account: acct, Session: sess, Token: token}, nil
}

// PasswordChange is a signed-in account's change of its own password.
type PasswordChange struct {
	// Account is the account as its session check read it.
	Account account.Account
	// Keep is the key of the session that asks: it stays, and the account's
	// other sessions end.
	Keep    string
	Current string
	New     string
}

// ChangePassword changes an account's password, ends its other sessions and
// tells its verified contacts. The login lock of each of the account's
// identifiers comes first (*throttle.Refused), before the current password
// is hashed or the new one judged. A wrong current password is
// account.ErrInvalidCredentials and counts toward the lock of each of the
// account's identifiers (and once toward the IP's). The new password is
// judged only once the current one is proven, so a weak one
// (*password.WeakError) counts toward nothing, like a login refused for the
// account's status. Once the change has committed nothing turns it into an
// error: clearing the counters, the events and the notice are best effort.
func (s *Service) ChangePassword(ctx context.Context, who Requester, in PasswordChange) error {
	realm := in.Account.Realm
	keys := LockKeys(in.Account)
	if err := s.guard.BeginPasswordChange(ctx, string(realm), who.IP, keys); err != nil {
		return err
	}
	acct, ended, err := s.accounts.ChangePassword(ctx, in.Account, in.Current, in.New, []string{in.Keep})
	var weak *password.WeakError
	if errors.As(err, &weak) {
		if gerr := s.guard.PasswordChangeSucceeded(ctx, string(realm), who.IP, keys); gerr != nil {
			return gerr
		}
		return err
	}
	if errors.Is(err, account.ErrInvalidCredentials) {
		for _, k := range keys {
			locked, gerr := s.guard.LoginFailed(ctx, string(realm), k, who.IP)
			if gerr != nil {
				return gerr
			}
			if locked {
				s.event(ctx, who, audit.LoginLocked, realm, in.Account.ID, "", map[string]string{"via": "password_change"})
			}
		}
		s.event(ctx, who, audit.LoginFailed, realm, in.Account.ID, "", map[string]string{"reason": "wrong_current_password"})
		return err
	}
	if err != nil {
		// The current password was right, but the change failed (the
		// store, or the account changed meanwhile): nothing to count.
		s.guard.Unjudged(ctx, string(realm), who.IP, keys...)
		return err
	}
	if err := s.guard.PasswordChangeSucceeded(ctx, string(realm), who.IP, keys); err != nil {
		s.log.Warn("login counters not cleared after a password change", "request_id", who.RequestID, "account_id", acct.ID, "error", err.Error())
	}
	s.event(ctx, who, audit.PasswordChanged, realm, acct.ID, "", map[string]string{"sessions_ended": strconv.Itoa(ended)})
	if ended > 0 {
		s.event(ctx, who, audit.SessionRevoked, realm, acct.ID, "", map[string]string{"reason": "password_changed", "count": strconv.Itoa(ended)})
	}
	s.notices.NotifyPasswordChanged(ctx, acct)
	return nil
}

// LockKeys are the keys the login lock counts an account's identifiers
// under (account.Identifier.Key): a wrong current password counts against
// each, and a completed reset clears each.
func LockKeys(a account.Account) []string {
	var keys []string
	for _, id := range a.Identifiers() {
		keys = append(keys, id.Key())
	}
	return keys
}

// event records a security event about who's request.
func (s *Service) event(ctx context.Context, who Requester, t audit.Type, realm account.Realm, accountID, identifier string, details map[string]string) {
	s.trail.Record(ctx, audit.Event{
		Type: t, Realm: realm, AccountID: accountID, Identifier: identifier,
		IP: who.IP, UserAgent: who.UserAgent, RequestID: who.RequestID, Details: details,
	})
}
