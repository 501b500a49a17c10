package mfa

import (
	"context"
	"errors"
	"slices"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/throttle"
)

// The second step of a login, in the order every method keeps:
//
//  1. BeginStep: the mfa_token opens (ours, this realm, a login's, not
//     expired, used or burned), its account is still the one the password
//     step saw, the identifier is not locked, and one of the token's tries
//     is reserved, before anything is compared;
//  2. the method compares (a TOTP code, a recovery code, a passkey
//     assertion);
//  3. a wrong answer is FailStep: it counts toward the identifier's lock
//     as a failed login does; a right one is PassStep: the token is
//     redeemed (of concurrent redemptions one passes);
//  4. only then is the factor used (the TOTP step, the recovery code, the
//     passkey's counter), each by its own conditional write.
//
// The token goes before the factor so that a lost race costs a token (log
// in again), never a recovery code.

// StepStart is a second step under way: the token's record (its tries
// counting this one) and the account as it is now.
type StepStart struct {
	Record  TokenRecord
	Account account.Account
}

// BeginStep opens a login's mfa_token of realm and reserves a try at it,
// for a second step from ip. ErrInvalidToken for a token that does not
// open, is out of tries or whose account changed since its password step;
// *throttle.Refused when the identifier is locked or the IP has had its
// failed logins (nothing counted).
func (s *Service) BeginStep(ctx context.Context, realm account.Realm, value, ip string) (StepStart, error) {
	st, err := s.openStep(ctx, realm, value, ForLogin)
	if err != nil {
		return StepStart{}, err
	}
	if err := s.guard.BeginFactor(ctx, string(realm), st.Record.Identifier, ip); err != nil {
		return StepStart{}, err
	}
	if st.Record, err = s.reserve(ctx, st.Record); err != nil {
		return StepStart{}, err
	}
	return st, nil
}

// openStep opens an mfa_token of realm for purpose with its account as it
// is now, which must still be the one the password step saw.
func (s *Service) openStep(ctx context.Context, realm account.Realm, value string, purpose TokenPurpose) (StepStart, error) {
	r, err := s.OpenToken(ctx, realm, value, purpose)
	if err != nil {
		return StepStart{}, err
	}
	a, err := s.accounts.GetAccount(ctx, realm, r.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return StepStart{}, ErrInvalidToken
	}
	if err != nil {
		return StepStart{}, err
	}
	if !r.Binds(a) {
		return StepStart{}, ErrInvalidToken
	}
	return StepStart{Record: r, Account: a}, nil
}

// Unjudged gives back the try st reserved when the step ended without a
// verdict (the store failed before the answer was compared), so that the
// person's retry with the same token does not find it counted, as a login
// that ends without a verdict gives its throttle places back. It is best
// effort within throttle.GiveBackTime, even past the request's deadline
// (which passing is the usual failure). A try that was judged, or whose
// token was redeemed, is not given back.
func (s *Service) Unjudged(ctx context.Context, st StepStart) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), throttle.GiveBackTime)
	defer cancel()
	_ = s.store.ReleaseMFAAttempt(ctx, st.Record)
}

// FailStep records a wrong answer to st: a failed login of its identifier
// from ip (toward the identifier's lock and the IP's limit). It returns the
// *WrongCodeError to answer with.
func (s *Service) FailStep(ctx context.Context, st StepStart, ip string) error {
	locked, err := s.guard.FactorFailed(ctx, string(st.Record.Realm), st.Record.Identifier, ip)
	if err != nil {
		return err
	}
	return &WrongCodeError{Realm: st.Record.Realm, AccountID: st.Record.AccountID, Attempt: st.Record.Attempts, Locked: locked}
}

// PassStep redeems st's token after a right answer (ErrInvalidToken when
// a concurrent step redeemed it first) and gives the identifier's failed
// tries back.
func (s *Service) PassStep(ctx context.Context, st StepStart) error {
	if err := s.redeem(ctx, st.Record); err != nil {
		return err
	}
	return s.guard.FactorSucceeded(ctx, string(st.Record.Realm), st.Record.Identifier)
}

// Passed is a second step that passed.
type Passed struct {
	StepStart
	Method Method
	// FactorID is the factor that passed; "" for a recovery code.
	FactorID string
	// RecoveryLeft is how many recovery codes remain after a recovery
	// code was used.
	RecoveryLeft int
}

// SecondStep is a login's second step by a TOTP code or a recovery code,
// with the login's mfa_token, from ip. Errors: ErrInvalidToken,
// *throttle.Refused, ErrInvalidCode (a *WrongCodeError when the code was
// judged), or a store error.
func (s *Service) SecondStep(ctx context.Context, realm account.Realm, value string, m Method, code, ip string) (Passed, error) {
	if m != MethodTOTP && m != MethodRecovery {
		return Passed{}, ErrInvalidCode
	}
	st, err := s.BeginStep(ctx, realm, value, ip)
	if err != nil {
		return Passed{}, err
	}
	e, fs, err := s.store.Factors(ctx, realm, st.Account.ID)
	if err != nil {
		s.Unjudged(ctx, st)
		return Passed{}, err
	}
	p := Passed{StepStart: st, Method: m}
	if m == MethodRecovery {
		return s.recoveryStep(ctx, p, e, code, ip)
	}
	return s.totpStep(ctx, p, fs, code, ip)
}

func (s *Service) totpStep(ctx context.Context, p Passed, fs []Factor, code, ip string) (Passed, error) {
	now := s.clock.Now()
	for _, f := range fs {
		if f.Type != TOTP || !f.Usable() {
			continue
		}
		secret, stale, err := s.keys.openSecret(f)
		if err != nil {
			// Sealed under a key no longer kept: this factor cannot pass.
			continue
		}
		st, ok := s.totp.Match(secret, code, now, f.LastStep)
		if !ok {
			continue
		}
		if err := s.PassStep(ctx, p.StepStart); err != nil {
			return Passed{}, err
		}
		if stale {
			if f.Secret, err = s.keys.sealSecret(f, secret); err != nil {
				return Passed{}, err
			}
		}
		f.LastUsedAt = now
		if err := s.store.UseTOTPStep(ctx, f, st); err != nil {
			if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
				// The same code passed a concurrent step first.
				return Passed{}, ErrInvalidCode
			}
			return Passed{}, err
		}
		p.FactorID = f.ID
		return p, nil
	}
	return Passed{}, s.FailStep(ctx, p.StepStart, ip)
}

func (s *Service) recoveryStep(ctx context.Context, p Passed, e Enrollment, code, ip string) (Passed, error) {
	c := normalizeRecovery(code)
	h, ok := s.keys.recoveryHash(e.RecoveryKey, e.Realm, e.AccountID, c)
	if c == "" || !ok || !slices.Contains(e.Recovery, h) {
		return Passed{}, s.FailStep(ctx, p.StepStart, ip)
	}
	if err := s.PassStep(ctx, p.StepStart); err != nil {
		return Passed{}, err
	}
	if err := s.store.UseRecoveryCode(ctx, e.Realm, e.AccountID, h); err != nil {
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			return Passed{}, ErrInvalidCode
		}
		return Passed{}, err
	}
	p.RecoveryLeft = len(e.Recovery) - 1
	s.notify(ctx, p.Account, notify.RecoveryCodeUsed, notify.Data{Left: p.RecoveryLeft})
	return p, nil
}
