// Package reset is password reset for both realms: a code to a verified
// contact, the code exchanged for a short-lived one-use reset token, and the
// token exchanged for a new password. The answer to a reset request never
// tells whether the account exists.
package reset

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/password"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/token"
)

// TokenTTL is how long a reset token (and the verified code behind it) lasts.
const TokenTTL = 15 * time.Minute

// ErrInvalidToken: the reset token is not valid for this realm, expired, or
// already used.
var ErrInvalidToken = errors.New("reset: invalid token")

// Store is what reset reads and writes.
type Store interface {
	GetAccount(ctx context.Context, realm account.Realm, id string) (account.Account, error)
	LookupIdentifier(ctx context.Context, realm account.Realm, id account.Identifier) (string, error)
	code.Store
	// ResetPassword stores a (new password hash, version-checked), deletes
	// the code r (still r.ID in state r.State, with at most
	// code.MaxAttempts tries counted) and every session of the
	// account except those keyed in keep, all or nothing. It returns how
	// many sessions ended.
	ResetPassword(ctx context.Context, a account.Account, r code.Record, keep []string) (int, error)
}

// Service runs password resets.
type Service struct {
	store  Store
	codes  *code.Engine
	outbox *code.Outbox
	hasher *password.Hasher
	checks account.Checks
	keys   *token.Keys
	clock  clock.Clock
	log    *slog.Logger
}

// NewService returns a Service.
func NewService(s Store, codes *code.Engine, o *code.Outbox, h *password.Hasher, checks account.Checks, keys *token.Keys, c clock.Clock, log *slog.Logger) *Service {
	return &Service{store: s, codes: codes, outbox: o, hasher: h, checks: checks, keys: keys, clock: c, log: log}
}

func audience(realm account.Realm) string { return string(realm) + ":password_reset" }

// Request queues a reset code over channel to the account identifier
// names, if there is one and that contact is verified (the code and its
// message are one write; delivery happens later, off the request path).
// Every other case (unknown account, unverified or missing contact,
// cooldown, hourly or SMS cap) is silent and logged; only a store failure
// returns, and it would for any identifier. The account id it returns is for the
// security event only, never for the client.
func (s *Service) Request(ctx context.Context, realm account.Realm, identifier string, ch notify.Channel) (string, error) {
	a, err := s.find(ctx, realm, identifier)
	if err != nil || a.ID == "" {
		return "", err
	}
	// From here only a real account's path runs: any failure, the store's
	// included, is logged and answered like every other case.
	if err := s.send(ctx, a, ch); err != nil {
		s.log.Warn("reset code not sent", "realm", realm, "account_id", a.ID, "channel", ch, "error", err.Error())
	}
	return a.ID, nil
}

func (s *Service) send(ctx context.Context, a account.Account, ch notify.Channel) error {
	realm := a.Realm
	to, verified := a.Email, a.EmailVerified
	if ch == notify.SMS {
		to, verified = a.Phone, a.PhoneVerified
	}
	if to == "" || !verified {
		s.log.Info("reset code not sent: contact not verified", "realm", realm, "account_id", a.ID, "channel", ch)
		return nil
	}
	if realm == account.Admin && a.PasswordHash == "" {
		// An invited admin who has not set a password yet: a reset request
		// sends the invitation again (72 hours) rather than replacing it
		// with a 10-minute code.
		return s.Invite(ctx, a)
	}
	return s.codes.Send(ctx, s.outbox, realm, a.ID, code.PasswordReset, code.TTL, code.Message{
		Kind: notify.ResetCode, Lang: a.Language, Channel: ch, To: to,
		Data: notify.Data{Name: a.GreetingName(), Username: a.Username},
	})
}

// InvitationTTL is how long an admin invitation code stays valid.
const InvitationTTL = 72 * time.Hour

// Invite sends a new admin (who has no password) an invitation: their
// username and a reset code valid for InvitationTTL, to set a password with
// through the reset flow. The code is never returned to the caller.
func (s *Service) Invite(ctx context.Context, a account.Account) error {
	return s.codes.Send(ctx, s.outbox, account.Admin, a.ID, code.PasswordReset, InvitationTTL, code.Message{
		Kind: notify.AdminInvitation, Lang: a.Language, Channel: notify.Email, To: a.Email,
		Data: notify.Data{Name: a.FullName, Username: a.Username},
	})
}

// NotifyPasswordChanged tells every verified contact of a that its password
// changed (after a password change as after a reset).
func (s *Service) NotifyPasswordChanged(ctx context.Context, a account.Account) {
	s.notifyChanged(ctx, a)
}

// Verify exchanges a correct code for a reset token naming the code record.
// Of concurrent verifications of one code exactly one gets a token.
func (s *Service) Verify(ctx context.Context, realm account.Realm, identifier, plain string) (string, time.Time, error) {
	a, err := s.find(ctx, realm, identifier)
	if err != nil {
		return "", time.Time{}, err
	}
	if a.ID == "" {
		return "", time.Time{}, code.ErrInvalid
	}
	r, err := s.codes.Check(ctx, realm, a.ID, code.PasswordReset, plain)
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.clock.Now()
	exp := now.Add(TokenTTL)
	if err := s.store.MarkCodeVerified(ctx, r, exp); err != nil {
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			return "", time.Time{}, code.ErrInvalid
		}
		return "", time.Time{}, err
	}
	tok, err := s.keys.Sign(token.Claims{Audience: audience(realm), Subject: a.ID, ID: r.ID, IssuedAt: now, ExpiresAt: exp})
	if err != nil {
		return "", time.Time{}, err
	}
	return tok, exp, nil
}

// Confirm sets a new password with a reset token, once. The account's
// sessions in this realm end, except the ones keep(accountID) names (the
// resetting browser's own); a notice goes to its verified contacts. It does
// not log anyone in.
func (s *Service) Confirm(ctx context.Context, realm account.Realm, tok, newPassword string, keep func(accountID string) []string) (account.Account, int, error) {
	c, err := s.keys.Parse(ctx, audience(realm), tok, s.clock.Now())
	if err != nil || c.ID == "" {
		return account.Account{}, 0, ErrInvalidToken
	}
	a, err := s.store.GetAccount(ctx, realm, c.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return account.Account{}, 0, ErrInvalidToken
	}
	if err != nil {
		return account.Account{}, 0, err
	}
	r, err := s.store.GetCode(ctx, realm, a.ID, code.PasswordReset)
	if errors.Is(err, store.ErrNotFound) || err == nil && !s.codes.Valid(r, c.ID) {
		return account.Account{}, 0, ErrInvalidToken
	}
	if err != nil {
		return account.Account{}, 0, err
	}
	if err := s.checks.NewPassword(newPassword, userInputs(a)); err != nil {
		return account.Account{}, 0, err
	}
	if a.PasswordHash, err = s.hasher.Hash(newPassword); err != nil {
		return account.Account{}, 0, err
	}
	a.UpdatedAt = s.clock.Now()
	ended, err := s.store.ResetPassword(ctx, a, r, keep(a.ID))
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		// Another confirm with the same token won, or the account changed.
		return account.Account{}, 0, ErrInvalidToken
	}
	if err != nil {
		return account.Account{}, 0, err
	}
	a.Version++
	s.notifyChanged(ctx, a)
	return a, ended, nil
}

// notifyChanged queues a notice to every verified contact that the
// password changed. The change has committed by then: the notice is a
// message of its own, written right after (not in the change's
// transaction, which may be split in batches when the account has many
// sessions; docs/decisions.md). A failure is logged, the change stands.
func (s *Service) notifyChanged(ctx context.Context, a account.Account) {
	for _, c := range []struct {
		ch       notify.Channel
		to       string
		verified bool
	}{{notify.Email, a.Email, a.EmailVerified}, {notify.SMS, a.Phone, a.PhoneVerified}} {
		if c.to == "" || !c.verified {
			continue
		}
		if err := s.outbox.Notice(ctx, notify.PasswordChanged, a.Language, c.ch, c.to, notify.Data{Name: a.GreetingName()}, a.Realm, a.ID); err != nil {
			s.log.Warn("password change notice not sent", "realm", a.Realm, "account_id", a.ID, "channel", c.ch, "error", err.Error())
		}
	}
}

// find resolves what someone typed into the reset form; unknown is a zero
// account and no error.
func (s *Service) find(ctx context.Context, realm account.Realm, identifier string) (account.Account, error) {
	id, ok := s.checks.LoginIdentifier(realm, identifier)
	if !ok {
		return account.Account{}, nil
	}
	accountID, err := s.store.LookupIdentifier(ctx, realm, id)
	if errors.Is(err, store.ErrNotFound) {
		return account.Account{}, nil
	}
	if err != nil {
		return account.Account{}, err
	}
	a, err := s.store.GetAccount(ctx, realm, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return account.Account{}, nil
	}
	return a, err
}

func userInputs(a account.Account) []string {
	return []string{a.FirstName, a.LastName, a.FullName, a.Username, a.Email, a.Phone, a.Barangay}
}
