package auth

import (
	"context"
	"errors"
	"strconv"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/mfa"
)

// The steps after a login's password: the second step (a TOTP code, a
// recovery code or a passkey, with the login's mfa_token), a login by a
// passkey alone, and the first factor of an admin who must have one,
// enrolled with the login's mfa_token in place of a session. Each ends
// like a login: a new session, marked with how the second factor was
// passed.

// SecondStep is a login's second step by a TOTP code or a recovery code
// (m), with the login's mfa_token, ending the session the client
// presented (of the token's realm) when it passes. A wrong code counts
// toward the identifier's lock and is *mfa.WrongCodeError; a token that
// does not open (bad, expired, used, burned, another realm's) is
// mfa.ErrInvalidToken; a locked identifier *throttle.Refused.
func (s *Service) SecondStep(ctx context.Context, who Requester, realm account.Realm, mfaToken string, m mfa.Method, code, presented string) (SignedIn, error) {
	p, err := s.mfa.SecondStep(ctx, realm, mfaToken, m, code, who.IP)
	if err != nil {
		return SignedIn{}, s.stepFailed(ctx, who, m, err)
	}
	return s.stepPassed(ctx, who, p, presented, p.Record.Remember)
}

// PasskeyLogin finishes a passkey login: the second step of the login
// whose mfa_token is given, or ("") a login by a discoverable passkey
// alone (remember is then this request's "keep me signed in"). A passkey
// with user verification is two factors (something held, and the PIN or
// biometric that unlocks it), so a passkey-only session is marked as
// having passed a second factor. Errors as SecondStep's, and
// mfa.ErrInvalidCredential for an answer refused outside a second step
// (nobody's lock to count it toward).
func (s *Service) PasskeyLogin(ctx context.Context, who Requester, realm account.Realm, mfaToken string, credential []byte, presented string, remember bool) (SignedIn, error) {
	p, err := s.passkeysPart().Login(ctx, realm, mfaToken, credential, who.IP)
	if err != nil {
		return SignedIn{}, s.stepFailed(ctx, who, mfa.MethodWebAuthn, err)
	}
	if mfaToken != "" {
		remember = p.Record.Remember
	}
	return s.stepPassed(ctx, who, p, presented, remember)
}

// stepFailed records a second step's wrong answer (mfa_failed, and
// login_locked when it locked the identifier) and returns err.
func (s *Service) stepFailed(ctx context.Context, who Requester, m mfa.Method, err error) error {
	var wrong *mfa.WrongCodeError
	if errors.As(err, &wrong) {
		s.event(ctx, who, audit.MFAFailed, wrong.Realm, wrong.AccountID, "", map[string]string{"method": string(m), "attempt": strconv.Itoa(wrong.Attempt)})
		if wrong.Locked {
			s.event(ctx, who, audit.LoginLocked, wrong.Realm, wrong.AccountID, "", map[string]string{"via": "mfa"})
		}
	}
	return err
}

// stepPassed ends a second step (or a passkey-only login) that passed: the
// account must still be allowed in (*account.StatusError), then a session
// marked with the method and the events.
func (s *Service) stepPassed(ctx context.Context, who Requester, p mfa.Passed, presented string, remember bool) (SignedIn, error) {
	a := p.Account
	if err := allowedIn(a); err != nil {
		s.event(ctx, who, audit.LoginFailed, a.Realm, a.ID, "", map[string]string{"reason": "account_" + string(a.Status), "via": "mfa"})
		return SignedIn{}, err
	}
	details := map[string]string{"method": string(p.Method)}
	if p.FactorID != "" {
		details["factor_id"] = p.FactorID
	}
	if p.Record.ID == "" {
		details["passkey_only"] = "true"
	}
	s.event(ctx, who, audit.MFASucceeded, a.Realm, a.ID, "", details)
	if p.Method == mfa.MethodRecovery {
		s.event(ctx, who, audit.RecoveryCodeUsed, a.Realm, a.ID, "", map[string]string{"left": strconv.Itoa(p.RecoveryLeft)})
	}
	done, err := s.signIn(ctx, who, a, presented, p.Method, "")
	if err != nil {
		return SignedIn{}, err
	}
	done.Remember, done.RecoveryLeft = remember, p.RecoveryLeft
	return done, nil
}

// allowedIn refuses an account whose status keeps it out. A second step's
// account cannot have been suspended since its password step (that moves
// its session epoch, refusing the token), but a passkey alone proves only
// who it is.
func allowedIn(a account.Account) error {
	switch a.Status {
	case account.StatusApproved, account.StatusActive:
		return nil
	}
	return &account.StatusError{Status: a.Status}
}

// ConfirmFirstTOTP confirms the first factor of an account that must have
// one, with the enrollment mfa_token its login gave in place of a session:
// the pending TOTP factor id (mfa.Service.EnrollTOTP with the account of
// OpenEnrollment) and a code of it. It ends like a login, with the
// account's recovery codes.
func (s *Service) ConfirmFirstTOTP(ctx context.Context, who Requester, realm account.Realm, mfaToken, id, code, presented string) (SignedIn, error) {
	return s.enrollFirst(ctx, who, realm, mfaToken, presented, func(st mfa.StepStart) (mfa.Confirmed, error) {
		return s.mfa.ConfirmTOTP(ctx, st.Account, id, code, &st)
	})
}

// RegisterFirstPasskey is ConfirmFirstTOTP for a passkey: the browser's
// answer to the registration options of the token's account.
func (s *Service) RegisterFirstPasskey(ctx context.Context, who Requester, realm account.Realm, mfaToken, name string, credential []byte, presented string) (SignedIn, error) {
	return s.enrollFirst(ctx, who, realm, mfaToken, presented, func(st mfa.StepStart) (mfa.Confirmed, error) {
		return s.passkeysPart().Register(ctx, st.Account, name, credential, &st)
	})
}

// enrollFirst runs a first factor's confirmation under an enrollment
// mfa_token: a try of the token is reserved first and given back when the
// confirmation ends without a verdict (a wrong code or refused answer
// keeps it); the token is redeemed before the factor is stored. The
// session is marked with the factor's type: the person has just shown
// they hold it.
func (s *Service) enrollFirst(ctx context.Context, who Requester, realm account.Realm, mfaToken, presented string, confirm func(mfa.StepStart) (mfa.Confirmed, error)) (SignedIn, error) {
	st, err := s.mfa.BeginEnrollStep(ctx, realm, mfaToken)
	if err != nil {
		return SignedIn{}, err
	}
	c, err := confirm(st)
	if err != nil {
		if !errors.Is(err, mfa.ErrInvalidCode) && !errors.Is(err, mfa.ErrInvalidCredential) && !errors.Is(err, mfa.ErrInvalidToken) {
			s.mfa.Unjudged(ctx, st)
		}
		return SignedIn{}, err
	}
	a := st.Account
	s.event(ctx, who, audit.MFAEnrolled, a.Realm, a.ID, "", map[string]string{"type": string(c.Factor.Type), "factor_id": c.Factor.ID, "via": "login"})
	done, err := s.signIn(ctx, who, a, presented, mfa.Method(c.Factor.Type), "")
	if err != nil {
		return SignedIn{}, err
	}
	done.Remember, done.Enrolled, done.RecoveryCodes = st.Record.Remember, c.Factor, c.RecoveryCodes
	return done, nil
}

// passkeysPart is the passkeys part; a route that uses it without
// declaring it (httpapi.NeedsPasskey) panics here, in every test that
// serves it.
func (s *Service) passkeysPart() mfa.Passkeys {
	if s.passkeys == nil {
		panic("auth: no passkeys here: the route uses them but does not declare NeedsPasskey (httpapi.Route.Needs)")
	}
	return s.passkeys
}
