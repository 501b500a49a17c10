package auth

import (
	"context"
	"errors"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/session"
)

// Reauthenticate is a signed-in account proving its password again
// (POST /v1/{realm}/reauth): the session's AuthenticatedAt becomes now, so
// for the next few minutes it may remove a second factor or make new
// recovery codes. It is guarded as a password change is: the lock of each
// of the account's identifiers refuses it before any hash
// (*throttle.Refused), and a wrong password (account.ErrInvalidCredentials)
// counts toward each lock and once toward the IP's.
func (s *Service) Reauthenticate(ctx context.Context, who Requester, a account.Account, sess session.Session, pw string) (session.Session, error) {
	realm := string(a.Realm)
	keys := LockKeys(a)
	if err := s.guard.BeginPasswordChange(ctx, realm, who.IP, keys); err != nil {
		return session.Session{}, err
	}
	if err := s.accounts.CheckPassword(a, pw); errors.Is(err, account.ErrInvalidCredentials) {
		for _, k := range keys {
			locked, gerr := s.guard.LoginFailed(ctx, realm, k, who.IP)
			if gerr != nil {
				return session.Session{}, gerr
			}
			if locked {
				s.event(ctx, who, audit.LoginLocked, a.Realm, a.ID, "", map[string]string{"via": "reauth"})
			}
		}
		s.event(ctx, who, audit.LoginFailed, a.Realm, a.ID, "", map[string]string{"reason": "wrong_password", "via": "reauth"})
		return session.Session{}, err
	}
	if err := s.guard.PasswordChangeSucceeded(ctx, realm, who.IP, keys); err != nil {
		return session.Session{}, err
	}
	sess, err := s.sessions.Reauthenticate(ctx, sess)
	if err != nil {
		return session.Session{}, err
	}
	s.event(ctx, who, audit.LoginSucceeded, a.Realm, a.ID, "", map[string]string{"via": "reauth"})
	return sess, nil
}
