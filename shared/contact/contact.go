// Package contact verifies that a resident owns the email address and mobile
// number they registered with: a code goes to each, and entering it marks
// that contact verified. Only verified contacts ever receive reset codes.
package contact

import (
	"context"
	"errors"
	"log/slog"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/store"
)

// Store is what contact verification reads and writes.
type Store interface {
	GetAccount(ctx context.Context, realm account.Realm, id string) (account.Account, error)
	LookupIdentifier(ctx context.Context, realm account.Realm, id account.Identifier) (string, error)
	// VerifyContact stores a (with its new verified flag; version-checked as
	// in UpdateAccount) and deletes the code r, both or neither. The code's
	// condition is that of code.Store's redemptions: still r.ID, in state
	// r.State, with at most code.MaxAttempts tries counted.
	VerifyContact(ctx context.Context, a account.Account, r code.Record) error
}

// Service sends and checks contact verification codes.
type Service struct {
	store  Store
	codes  *code.Engine
	outbox *code.Outbox
	checks account.Checks
	clock  clock.Clock
	log    *slog.Logger
}

// NewService returns a Service.
func NewService(s Store, codes *code.Engine, o *code.Outbox, checks account.Checks, c clock.Clock, log *slog.Logger) *Service {
	return &Service{store: s, codes: codes, outbox: o, checks: checks, clock: c, log: log}
}

// target is one contact of an account and the code purpose that verifies it.
type target struct {
	purpose  code.Purpose
	kind     notify.Kind
	channel  notify.Channel
	to       string
	verified bool
}

func targetOf(a account.Account, kind account.Kind) (target, bool) {
	switch kind {
	case account.KindEmail:
		return target{code.VerifyEmail, notify.VerifyEmail, notify.Email, a.Email, a.EmailVerified}, a.Email != ""
	case account.KindPhone:
		return target{code.VerifyPhone, notify.VerifyPhone, notify.SMS, a.Phone, a.PhoneVerified}, a.Phone != ""
	}
	return target{}, false
}

// SendAll sends a code to each unverified contact of a new resident. A
// failure to send one is logged, not returned: the account exists either way
// and the resident can ask again.
func (s *Service) SendAll(ctx context.Context, a account.Account) {
	for _, k := range []account.Kind{account.KindEmail, account.KindPhone} {
		if err := s.send(ctx, a, k); err != nil {
			s.log.Warn("verification code not sent", "account_id", a.ID, "channel", k, "error", err.Error())
		}
	}
}

func (s *Service) send(ctx context.Context, a account.Account, kind account.Kind) error {
	t, ok := targetOf(a, kind)
	if !ok || t.verified {
		return nil
	}
	return s.codes.Send(ctx, s.outbox, a.Realm, a.ID, t.purpose, code.TTL, code.Message{
		Kind: t.kind, Lang: a.Language, Channel: t.channel, To: t.to, Data: notify.Data{Name: a.FirstName},
	})
}

// Resend sends a new code to the contact identifier names, if a resident
// has it unverified. Unknown, already verified, too soon: all are silent, so
// the answer says nothing about who is registered. Only store failures return.
func (s *Service) Resend(ctx context.Context, identifier string) error {
	a, kind, err := s.find(ctx, identifier)
	if err != nil {
		return err
	}
	if a.ID == "" {
		return nil
	}
	if err := s.send(ctx, a, kind); err != nil {
		var limit *code.LimitError
		if errors.As(err, &limit) || !errors.Is(err, store.ErrUnavailable) {
			s.log.Info("verification code not resent", "account_id", a.ID, "channel", kind, "error", err.Error())
			return nil
		}
		return err
	}
	return nil
}

// Verify marks the contact identifier names as verified when code is its
// current code. Anything else is code.ErrInvalid.
func (s *Service) Verify(ctx context.Context, identifier, plain string) (account.Account, account.Kind, error) {
	a, kind, err := s.find(ctx, identifier)
	if err != nil {
		return account.Account{}, "", err
	}
	t, ok := targetOf(a, kind)
	if a.ID == "" || !ok {
		return account.Account{}, "", code.ErrInvalid
	}
	r, err := s.codes.Check(ctx, a.Realm, a.ID, t.purpose, plain)
	if err != nil {
		return account.Account{}, "", err
	}
	switch kind {
	case account.KindEmail:
		a.EmailVerified = true
	case account.KindPhone:
		a.PhoneVerified = true
	}
	a.UpdatedAt = s.clock.Now()
	if err := s.store.VerifyContact(ctx, a, r); err != nil {
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			// The code was used or replaced meanwhile, or the account changed:
			// ask for the code again rather than guess.
			return account.Account{}, "", code.ErrInvalid
		}
		return account.Account{}, "", err
	}
	a.Version++
	return a, kind, nil
}

// find resolves a resident's email or phone to the account and the kind of
// contact it is; an unknown identifier is a zero account and no error.
func (s *Service) find(ctx context.Context, identifier string) (account.Account, account.Kind, error) {
	id, ok := s.checks.LoginIdentifier(account.Resident, identifier)
	if !ok {
		return account.Account{}, "", nil
	}
	accountID, err := s.store.LookupIdentifier(ctx, account.Resident, id)
	if errors.Is(err, store.ErrNotFound) {
		return account.Account{}, "", nil
	}
	if err != nil {
		return account.Account{}, "", err
	}
	a, err := s.store.GetAccount(ctx, account.Resident, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return account.Account{}, "", nil
	}
	return a, id.Kind, err
}
