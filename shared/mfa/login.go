package mfa

import (
	"context"

	"github.com/ekolek/identity/shared/account"
)

// Due is what a login whose password was right still needs before it has
// a session: nothing, a second step by one of Methods, or (Enroll) a first
// factor, for an account that must have one and has none.
type Due struct {
	Methods []Method
	Enroll  bool
}

// None reports whether the login needs nothing more.
func (d Due) None() bool { return len(d.Methods) == 0 && !d.Enroll }

// Purpose is what the login's mfa_token is for.
func (d Due) Purpose() TokenPurpose {
	if d.Enroll {
		return ForEnroll
	}
	return ForLogin
}

// LoginStep is what a login of a, whose password was right, still needs:
// the methods a's active factors and recovery codes offer (totp, webauthn,
// recovery, in that order), or an enrollment when a must have a factor
// and has none. One strongly consistent read of a's factors.
func (s *Service) LoginStep(ctx context.Context, a account.Account) (Due, error) {
	e, fs, err := s.store.Factors(ctx, a.Realm, a.ID)
	if err != nil {
		return Due{}, err
	}
	var d Due
	for _, t := range []Type{TOTP, WebAuthn} {
		for _, f := range fs {
			if f.Type == t && f.Usable() {
				d.Methods = append(d.Methods, Method(t))
				break
			}
		}
	}
	if len(d.Methods) > 0 && len(e.Recovery) > 0 {
		d.Methods = append(d.Methods, MethodRecovery)
	}
	d.Enroll = len(d.Methods) == 0 && s.policy.Requires(a)
	return d, nil
}

// OpenEnrollment opens an enrollment mfa_token of realm (issued by a login
// that required a first factor) without counting a try: the account it
// stands in for as a session does, for starting an enrollment (a TOTP
// secret, passkey options). ErrInvalidToken when the token does not open,
// its account changed since the password step, or it has a factor by now.
func (s *Service) OpenEnrollment(ctx context.Context, realm account.Realm, value string) (account.Account, error) {
	st, err := s.openStep(ctx, realm, value, ForEnroll)
	if err != nil {
		return account.Account{}, err
	}
	if err := s.noFactorYet(ctx, st.Account); err != nil {
		return account.Account{}, err
	}
	return st.Account, nil
}

// BeginEnrollStep opens an enrollment mfa_token and reserves one of its
// tries, for confirming a first factor with it (ConfirmTOTP, AddPasskey
// with first, which refuse it once the account has a factor). The caller
// gives the try back (Unjudged) when the confirmation ends without a
// verdict. A wrong code spends a try but counts toward no lock: whoever
// holds the token holds the new factor's secret too, so there is nothing
// to guess.
func (s *Service) BeginEnrollStep(ctx context.Context, realm account.Realm, value string) (StepStart, error) {
	st, err := s.openStep(ctx, realm, value, ForEnroll)
	if err != nil {
		return StepStart{}, err
	}
	if st.Record, err = s.reserve(ctx, st.Record); err != nil {
		return StepStart{}, err
	}
	return st, nil
}

// noFactorYet refuses an enrollment token (ErrInvalidToken) for an
// account that has an active factor: from then on a login passes it.
func (s *Service) noFactorYet(ctx context.Context, a account.Account) error {
	e, _, err := s.store.Factors(ctx, a.Realm, a.ID)
	if err != nil {
		return err
	}
	if e.Active > 0 {
		return ErrInvalidToken
	}
	return nil
}
