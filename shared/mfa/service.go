package mfa

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/throttle"
	"github.com/ekolek/identity/shared/token"
)

// ReauthWindow is how recent a proof of the password must be for removing
// a factor or making new recovery codes.
const ReauthWindow = 5 * time.Minute

// ErrReauthRequired: the session has not proved the password within
// ReauthWindow.
var ErrReauthRequired = errors.New("mfa: recent authentication required")

// WrongCodeError is a second step whose code was judged and was wrong:
// its try was the Attempt-th of the token's MaxAttempts, and Locked says it
// locked the identifier. It is ErrInvalidCode to errors.Is.
type WrongCodeError struct {
	// Realm and AccountID are the account the step was for.
	Realm     account.Realm
	AccountID string
	Attempt   int
	Locked    bool
}

func (e *WrongCodeError) Error() string {
	return fmt.Sprintf("mfa: wrong code (try %d of %d)", e.Attempt, MaxAttempts)
}

// Is makes a WrongCodeError an ErrInvalidCode.
func (e *WrongCodeError) Is(target error) bool { return target == ErrInvalidCode }

// Policy is who must have a second factor.
type Policy struct {
	// AdminRequired: every admin must (EKOLEK_ADMIN_MFA=required).
	AdminRequired bool
}

// Requires reports whether a must have a second factor.
func (p Policy) Requires(a account.Account) bool {
	return a.Realm == account.Admin && p.AdminRequired
}

// Accounts reads accounts: a second step checks the account is still the
// one its password step saw.
type Accounts interface {
	GetAccount(ctx context.Context, realm account.Realm, id string) (account.Account, error)
}

// Service runs enrollment, the second step of a login and the management
// of factors and recovery codes.
type Service struct {
	store    Store
	accounts Accounts
	keys     *Keys
	tokens   *token.Keys
	guard    *throttle.Guard
	clock    clock.Clock
	policy   Policy
	totp     TOTPApp
	notices  Notices
	log      *slog.Logger
}

// Deps are what a Service works with.
type Deps struct {
	Store    Store
	Accounts Accounts
	// Keys keep the factors' secrets; Tokens sign mfa_tokens.
	Keys   *Keys
	Tokens *token.Keys
	// Guard is the login throttle a wrong code counts toward.
	Guard  *throttle.Guard
	Clock  clock.Clock
	Policy Policy
	// TOTP is the optional part TOTP factors need (nil in a program
	// without it).
	TOTP TOTPApp
	// Notices queues the owner's notices of changes (nil: none, for the
	// tests of the rules alone); a notice that cannot be queued is logged
	// to Log.
	Notices Notices
	Log     *slog.Logger
}

// NewService returns a Service.
func NewService(d Deps) *Service {
	return &Service{store: d.Store, accounts: d.Accounts, keys: d.Keys, tokens: d.Tokens, guard: d.Guard, clock: d.Clock,
		policy: d.Policy, totp: d.TOTP, notices: d.Notices, log: d.Log}
}

// Notices queues notices to an account's owner (code.Outbox): each
// enrollment, removal and recovery-code use is told by email, so that a
// change the owner did not make does not go unseen.
type Notices interface {
	NotifyAccount(ctx context.Context, a account.Account, kind notify.Kind, data notify.Data) error
}

// notify tells a's owner of a change, best effort: the change has
// committed, and a notice that cannot be queued is logged.
func (s *Service) notify(ctx context.Context, a account.Account, kind notify.Kind, data notify.Data) {
	if s.notices == nil {
		return
	}
	if err := s.notices.NotifyAccount(ctx, a, kind, data); err != nil && s.log != nil {
		s.log.Warn("second factor notice not queued", "realm", a.Realm, "account_id", a.ID, "kind", kind, "error", err.Error())
	}
}

// Policy returns who must have a second factor.
func (s *Service) Policy() Policy { return s.policy }

// Overview is what an account sees of its second factors.
type Overview struct {
	// Factors are the active ones, oldest first.
	Factors      []Factor
	RecoveryLeft int
	// Required: the account must keep a factor.
	Required bool
}

// Overview returns a's active factors and how many recovery codes are left.
func (s *Service) Overview(ctx context.Context, a account.Account) (Overview, error) {
	e, fs, err := s.store.Factors(ctx, a.Realm, a.ID)
	if err != nil {
		return Overview{}, err
	}
	o := Overview{RecoveryLeft: len(e.Recovery), Required: s.policy.Requires(a)}
	for _, f := range fs {
		if f.Usable() {
			o.Factors = append(o.Factors, f)
		}
	}
	return o, nil
}

// Enrolled is a new pending TOTP factor and what the authenticator app
// needs: the secret in base32, the otpauth:// URI, and the URI as a QR
// code in SVG. The secret is shown this once; only its sealed form is kept.
type Enrolled struct {
	Factor Factor
	Secret string
	URI    string
	QRSVG  string
}

// EnrollTOTP starts a TOTP factor for a: pending until ConfirmTOTP gets a
// code of it, and gone after PendingTTL if none comes.
func (s *Service) EnrollTOTP(ctx context.Context, a account.Account, name string) (Enrolled, error) {
	k, err := s.totp.NewKey(Issuer, Label(a))
	if err != nil {
		return Enrolled{}, err
	}
	now := s.clock.Now()
	f := Factor{
		Realm: a.Realm, AccountID: a.ID, ID: account.NewID(), Type: TOTP, Name: name,
		State: Pending, CreatedAt: now, ExpiresAt: now.Add(PendingTTL),
	}
	if f.Secret, err = s.keys.sealSecret(f, k.Secret); err != nil {
		return Enrolled{}, err
	}
	if err := s.store.CreateFactor(ctx, f); err != nil {
		return Enrolled{}, err
	}
	return Enrolled{Factor: f, Secret: k.Secret, URI: k.URI, QRSVG: k.QRSVG}, nil
}

// Confirmed is a factor just made active; RecoveryCodes are the account's
// new recovery codes when it was its first factor (shown once).
type Confirmed struct {
	Factor        Factor
	RecoveryCodes []string
}

// ConfirmTOTP makes a's pending TOTP factor id active with a first code
// of it (whose time step is then used: it cannot also pass a login). The
// account's first factor comes with a new set of recovery codes, in the
// same store change. first, when not nil, is the enrollment step that
// stands in for a session (BeginEnrollStep): its token is redeemed once
// the code is right and before the factor is stored, and only while the
// account has no factor. ErrNotFound when a has no such pending factor (or
// it lapsed), ErrInvalidCode for a wrong code, ErrInvalidToken for a
// first factor's token used or outdone meanwhile.
func (s *Service) ConfirmTOTP(ctx context.Context, a account.Account, id, code string, first *StepStart) (Confirmed, error) {
	var out Confirmed
	redeem := s.redeemOnce(ctx, first)
	err := retry(func() error {
		f, err := s.store.GetFactor(ctx, a.Realm, a.ID, id)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		if f.Type != TOTP || f.State != Pending || !now.Before(f.ExpiresAt) {
			return store.ErrNotFound
		}
		secret, _, err := s.keys.openSecret(f)
		if err != nil {
			return err
		}
		st, ok := s.totp.Match(secret, code, now, f.LastStep)
		if !ok {
			return ErrInvalidCode
		}
		f.State, f.ExpiresAt, f.LastStep, f.LastUsedAt = Active, time.Time{}, st, now
		codes, err := s.enroll(ctx, a, redeem, func(e Enrollment) error { return s.store.ConfirmFactor(ctx, f, e) })
		out = Confirmed{Factor: f, RecoveryCodes: codes}
		return err
	})
	if err == nil {
		s.notify(ctx, a, notify.FactorAdded, notify.Data{Factor: string(TOTP)})
	}
	return out, err
}

// AddPasskey stores a's newly registered passkey f (active from the
// start), with a new set of recovery codes when it is the account's first
// factor; first is as for ConfirmTOTP. store.ErrConflict when its
// credential is registered already.
func (s *Service) AddPasskey(ctx context.Context, a account.Account, f Factor, first *StepStart) (Confirmed, error) {
	var out Confirmed
	redeem := s.redeemOnce(ctx, first)
	err := retry(func() error {
		codes, err := s.enroll(ctx, a, redeem, func(e Enrollment) error { return s.store.AddPasskey(ctx, f, e) })
		out = Confirmed{Factor: f, RecoveryCodes: codes}
		return err
	})
	if err == nil {
		s.notify(ctx, a, notify.FactorAdded, notify.Data{Factor: string(WebAuthn)})
	}
	return out, err
}

// enroll counts one more active factor of a, stored by write together
// with the enrollment it is given; the account's first factor brings a new
// set of recovery codes, returned as they are shown. redeem (redeemOnce)
// comes first.
func (s *Service) enroll(ctx context.Context, a account.Account, redeem func(Enrollment) error, write func(Enrollment) error) ([]string, error) {
	e, _, err := s.store.Factors(ctx, a.Realm, a.ID)
	if err != nil {
		return nil, err
	}
	if err := redeem(e); err != nil {
		return nil, err
	}
	var codes []string
	if e.Active == 0 {
		if codes, err = s.newRecovery(&e, s.clock.Now()); err != nil {
			return nil, err
		}
	}
	e.Active++
	if err := write(e); err != nil {
		return nil, err
	}
	return codes, nil
}

// newRecovery puts a new set of recovery codes into e and returns them as
// they are shown.
func (s *Service) newRecovery(e *Enrollment, now time.Time) ([]string, error) {
	codes, err := newRecoveryCodes()
	if err != nil {
		return nil, err
	}
	e.RecoveryKey, e.RecoveryAt, e.Recovery = s.keys.recoveryKey(), now, make([]string, len(codes))
	for i, c := range codes {
		e.Recovery[i], _ = s.keys.recoveryHash(e.RecoveryKey, e.Realm, e.AccountID, normalizeRecovery(c))
	}
	return codes, nil
}

// redeemOnce is what enroll does first for an enrollment step first (nil:
// a session's enrollment, nothing): the first time, it redeems first's
// token, refusing (ErrInvalidToken) when the enrollment read shows the
// account has a factor already (an enrollment token is for the first one
// only: once there is a factor, a login passes it). Retries of the write
// after a lost race find it redeemed and check only the enrollment; the
// write itself is conditional on that enrollment's version.
func (s *Service) redeemOnce(ctx context.Context, first *StepStart) func(Enrollment) error {
	redeemed := false
	return func(e Enrollment) error {
		if first == nil {
			return nil
		}
		if e.Active > 0 {
			return ErrInvalidToken
		}
		if redeemed {
			return nil
		}
		if err := s.redeem(ctx, first.Record); err != nil {
			return err
		}
		redeemed = true
		return nil
	}
}

// RenameFactor names a's active factor id. ErrNotFound when a has no such
// factor.
func (s *Service) RenameFactor(ctx context.Context, a account.Account, id, name string) (Factor, error) {
	f, err := s.store.GetFactor(ctx, a.Realm, a.ID, id)
	if err != nil {
		return Factor{}, err
	}
	if !f.Usable() {
		return Factor{}, store.ErrNotFound
	}
	f.Name = name
	if err := s.store.RenameFactor(ctx, f); err != nil {
		return Factor{}, err
	}
	return f, nil
}

// Cleared is what clearing an account's second factor took: its active
// factors and how many of its sessions ended.
type Cleared struct {
	Account       account.Account
	Factors       []Factor
	SessionsEnded int
}

// ClearFactors removes every factor of the account id in realm (its
// recovery codes too) and ends its sessions, as one change: a super
// admin's help for someone who lost their factors, or whose factors are
// not theirs any more. A session or mfa_token started before is refused
// from then on (the session epoch moved). ErrNotFound when there is no
// such account.
func (s *Service) ClearFactors(ctx context.Context, realm account.Realm, id string) (Cleared, error) {
	var out Cleared
	err := retry(func() error {
		a, err := s.accounts.GetAccount(ctx, realm, id)
		if err != nil {
			return err
		}
		e, fs, err := s.store.Factors(ctx, realm, id)
		if err != nil {
			return err
		}
		n, err := s.store.ClearFactors(ctx, a, e, fs)
		if err != nil {
			return err
		}
		out = Cleared{Account: a, SessionsEnded: n}
		for _, f := range fs {
			if f.Usable() {
				out.Factors = append(out.Factors, f)
			}
		}
		return nil
	})
	if err == nil && len(out.Factors) > 0 {
		s.notify(ctx, out.Account, notify.FactorsCleared, notify.Data{})
	}
	return out, err
}

// RemoveFactor removes a's factor id, on a session that proved the
// password at authAt (ErrReauthRequired unless within ReauthWindow). An
// account that must have a factor cannot remove its last
// (ErrLastFactor); the last factor of any other account takes the
// recovery codes with it. ErrNotFound when a has no such factor.
func (s *Service) RemoveFactor(ctx context.Context, a account.Account, authAt time.Time, id string) (Factor, error) {
	if err := s.recent(authAt); err != nil {
		return Factor{}, err
	}
	var removed Factor
	err := retry(func() error {
		e, fs, err := s.store.Factors(ctx, a.Realm, a.ID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(fs, func(f Factor) bool { return f.ID == id })
		if i < 0 {
			return store.ErrNotFound
		}
		f := fs[i]
		if f.Usable() {
			if e.Active <= 1 && s.policy.Requires(a) {
				return ErrLastFactor
			}
			e.Active--
			if e.Active <= 0 {
				e.Active, e.Recovery, e.RecoveryKey, e.RecoveryAt = 0, nil, "", time.Time{}
			}
		}
		if err := s.store.RemoveFactor(ctx, f, e); err != nil {
			return err
		}
		removed = f
		return nil
	})
	if err == nil && removed.Usable() {
		s.notify(ctx, a, notify.FactorRemoved, notify.Data{Factor: string(removed.Type)})
	}
	return removed, err
}

// NewRecoveryCodes replaces a's recovery codes with a new set, on a
// session that proved the password at authAt (ErrReauthRequired), for an
// account with an active factor (ErrNoFactor).
func (s *Service) NewRecoveryCodes(ctx context.Context, a account.Account, authAt time.Time) ([]string, error) {
	if err := s.recent(authAt); err != nil {
		return nil, err
	}
	var codes []string
	err := retry(func() error {
		e, _, err := s.store.Factors(ctx, a.Realm, a.ID)
		if err != nil {
			return err
		}
		if e.Active == 0 {
			return ErrNoFactor
		}
		if codes, err = s.newRecovery(&e, s.clock.Now()); err != nil {
			return err
		}
		return s.store.ReplaceRecovery(ctx, e)
	})
	if err == nil {
		s.notify(ctx, a, notify.FactorAdded, notify.Data{Factor: string(MethodRecovery)})
	}
	return codes, err
}

func (s *Service) recent(authAt time.Time) error {
	if authAt.IsZero() || s.clock.Now().Sub(authAt) > ReauthWindow {
		return ErrReauthRequired
	}
	return nil
}

// retry runs op again when it lost a race (store.ErrConflict) to a
// concurrent change of the same enrollment, reading afresh each time.
func retry(op func() error) error {
	const attempts = 3
	var err error
	for range attempts {
		if err = op(); !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return err
}
