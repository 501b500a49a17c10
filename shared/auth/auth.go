// Package auth holds the use cases that prove who someone is: logging in
// (with its second step, or an admin's first factor at the login that
// requires one, or a passkey alone) and changing one's own password. It
// composes the account domain (whose password, which status), the
// throttle guard (the identifier lock and the IP limit, always before any
// password work), the second factor, sessions and the security trail, so
// every caller (the HTTP API, a command-line tool) logs in by the same
// rules and leaves the same events.
//
// Errors are the domain's: *throttle.Refused, account.ErrInvalidCredentials,
// *account.StatusError, *password.WeakError, the second factor's
// (mfa.ErrInvalidToken, mfa.ErrInvalidCode, *mfa.WrongCodeError,
// mfa.ErrInvalidCredential), or a store error. A refusal by a limit is
// returned, not recorded: recording it (rate_limited) is the caller's, as
// it is for every limited operation, because it names the route and folds
// a stranger's repeats.
package auth

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/mfa"
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
	mfa      *mfa.Service
	passkeys mfa.Passkeys
	log      *slog.Logger
}

// Deps are what a Service composes. Checks read what is typed into a login
// box (a resident's mobile number needs Checks.Phone); Passkeys is the
// optional part (nil in a program without it: its use cases panic).
type Deps struct {
	Accounts *account.Service
	Checks   account.Checks
	Sessions *session.Manager
	Guard    *throttle.Guard
	Trail    *audit.Recorder
	Notices  Notices
	MFA      *mfa.Service
	Passkeys mfa.Passkeys
	Log      *slog.Logger
}

// NewService returns a Service.
func NewService(d Deps) *Service {
	return &Service{accounts: d.Accounts, checks: d.Checks, sessions: d.Sessions, guard: d.Guard, trail: d.Trail,
		notices: d.Notices, mfa: d.MFA, passkeys: d.Passkeys, log: d.Log}
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
	// Remember is "keep me signed in" (residents only; the cookie's
	// business): an mfa_token carries it to the second step.
	Remember bool
}

// SignedIn is a completed login: the account and its new session.
type SignedIn struct {
	Account account.Account
	Session session.Session
	// Token is what the client presents from now on (the session cookie).
	Token string
	// Remember is the login's "keep me signed in".
	Remember bool
	// Enrolled is the first factor the login enrolled (ConfirmFirstTOTP,
	// RegisterFirstPasskey), and RecoveryCodes the account's first
	// recovery codes that came with it (shown once).
	Enrolled      mfa.Factor
	RecoveryCodes []string
	// RecoveryLeft is how many recovery codes are left after a second step
	// by one.
	RecoveryLeft int
}

// Outcome is a login's result: signed in, or (Pending) a password step
// that passed for an account whose login needs a second step or a first
// factor (Due): no session was started, and MFAToken is what the next
// step presents.
type Outcome struct {
	SignedIn
	Due      mfa.Due
	MFAToken mfa.Token
}

// Pending reports whether the login waits for a second step or an
// enrollment.
func (o Outcome) Pending() bool { return !o.Due.None() }

// Login checks a login's password and, when the account needs nothing
// more, starts a session. A locked identifier or a throttled IP is refused
// (*throttle.Refused) before any password hash is computed. A wrong
// password or an unknown identifier is account.ErrInvalidCredentials and
// counts toward the identifier's lock and the IP's limit; a right password
// for an account whose status keeps it out is *account.StatusError and
// counts toward neither. A right password for an account with a second
// factor (or one that must enroll its first) starts no session: the
// Outcome is Pending, with an mfa_token for the next step; the
// identifier's earlier failures then stay counted until the second step
// passes (throttle.Guard.FactorDue). Every login gets a new session id.
func (s *Service) Login(ctx context.Context, who Requester, in Login) (Outcome, error) {
	realm, key := string(in.Realm), s.checks.CanonicalIdentifier(in.Realm, in.Identifier)
	if err := s.guard.BeginLogin(ctx, realm, key, who.IP); err != nil {
		return Outcome{}, err
	}
	acct, rehash, err := s.checkPassword(ctx, who, in, key)
	if err != nil {
		return Outcome{}, err
	}
	due, err := s.mfa.LoginStep(ctx, acct)
	if err != nil {
		// No verdict yet on the login as a whole: the retry starts afresh.
		s.guard.Unjudged(ctx, realm, who.IP, key)
		return Outcome{}, err
	}
	if due.None() || due.Enroll {
		// An enrollment is no guess at anything: the password was the
		// proof, as in a login without a second factor.
		err = s.guard.LoginSucceeded(ctx, realm, key, who.IP)
	} else {
		err = s.guard.FactorDue(ctx, realm, key, who.IP)
	}
	if err != nil {
		return Outcome{}, err
	}
	if due.None() {
		done, err := s.signIn(ctx, who, acct, in.Presented, "", in.Identifier)
		done.Remember = in.Remember
		s.upgradeHash(ctx, who, acct, in.Password, rehash)
		return Outcome{SignedIn: done}, err
	}
	tok, err := s.mfa.IssueToken(ctx, acct, due.Purpose(), key, in.Remember)
	if err != nil {
		return Outcome{}, err
	}
	s.upgradeHash(ctx, who, acct, in.Password, rehash)
	return Outcome{Due: due, MFAToken: tok}, nil
}

// checkPassword authenticates in and settles the attempt BeginLogin
// admitted under key when it fails: a failure keeps its place in the counts
// (and may lock the identifier); a right password for an account whose
// status keeps it out gives it back, and so does a store failure before
// any verdict. A right password is settled by the caller (Login), which
// first learns whether a second step is due. A refused attempt is recorded
// with the account the identifier belongs to, if any.
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
	return acct, rehash, nil
}

// signIn ends a login whose checks have all passed: a new session for acct
// as it authenticated (its SessionEpoch, so a credential change that
// committed meanwhile refuses the session), marked with the second step's
// method (or none), ending the session presented; then the event.
func (s *Service) signIn(ctx context.Context, who Requester, acct account.Account, presented string, method mfa.Method, identifier string) (SignedIn, error) {
	token, sess, err := s.sessions.StartAfterFactor(ctx, acct, who.IP, who.UserAgent, presented, string(method))
	if err != nil {
		return SignedIn{}, err
	}
	var details map[string]string
	if method != "" {
		details = map[string]string{"second_factor": string(method)}
	}
	s.event(ctx, who, audit.LoginSucceeded, acct.Realm, acct.ID, identifier, details)
	return SignedIn{Account: acct, Session: sess, Token: token}, nil
}

// upgradeHash stores a new hash of a right password whose stored hash uses
// older parameters. The login stands either way, and a failed upgrade is
// retried at the next login.
func (s *Service) upgradeHash(ctx context.Context, who Requester, acct account.Account, pw string, rehash bool) {
	if !rehash {
		return
	}
	if err := s.accounts.UpgradeHash(ctx, acct, pw); err != nil {
		s.log.Warn("password rehash failed", "request_id", who.RequestID, "realm", acct.Realm, "account_id", acct.ID, "error", err.Error())
	}
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
