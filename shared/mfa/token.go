package mfa

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/token"
)

// The mfa_token's limits.
const (
	TokenTTL    = 5 * time.Minute
	MaxAttempts = 5
)

// TokenPurpose is what an mfa_token lets its holder do.
type TokenPurpose string

// Token purposes: the second step of a login, or an admin's enrollment of
// a first factor at the login that requires one.
const (
	ForLogin  TokenPurpose = "login"
	ForEnroll TokenPurpose = "enroll"
)

// TokenRecord is the stored side of an mfa_token: the token (a JWT) names
// it by its jti, and it holds what the password step established. The
// token is bound to that password check: it is made by it alone, works
// once, and only while the account's session epoch is the one the check
// read (a password change or reset, a suspension or "end all sessions"
// since refuses it).
type TokenRecord struct {
	Realm     account.Realm
	AccountID string
	ID        string
	Purpose   TokenPurpose
	// Identifier is the canonical login identifier the password step was
	// for: a wrong code counts toward its lock.
	Identifier string
	// Remember is the login's "keep me signed in".
	Remember  bool
	Epoch     int64
	Attempts  int
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Binds reports whether the token may still act for a as it is now.
func (t TokenRecord) Binds(a account.Account) bool {
	return a.Realm == t.Realm && a.ID == t.AccountID && a.SessionEpoch == t.Epoch
}

// Token is an issued mfa_token.
type Token struct {
	Value     string
	ExpiresAt time.Time
	Record    TokenRecord
}

func tokenAudience(realm account.Realm) string { return string(realm) + ":mfa" }

// IssueToken makes the mfa_token of a password check that passed for a
// (its identifier as the lock counts it, and the login's remember).
func (s *Service) IssueToken(ctx context.Context, a account.Account, purpose TokenPurpose, identifier string, remember bool) (Token, error) {
	now := s.clock.Now()
	r := TokenRecord{
		Realm: a.Realm, AccountID: a.ID, ID: account.NewID(), Purpose: purpose,
		Identifier: identifier, Remember: remember, Epoch: a.SessionEpoch,
		CreatedAt: now, ExpiresAt: now.Add(TokenTTL),
	}
	v, err := s.tokens.Sign(token.Claims{Audience: tokenAudience(a.Realm), Subject: a.ID, ID: r.ID, IssuedAt: now, ExpiresAt: r.ExpiresAt})
	if err != nil {
		return Token{}, fmt.Errorf("mfa: sign token: %w", err)
	}
	if err := s.store.PutMFAToken(ctx, r); err != nil {
		return Token{}, err
	}
	return Token{Value: v, ExpiresAt: r.ExpiresAt, Record: r}, nil
}

// OpenToken reads the record of an mfa_token of realm for purpose without
// using it: ErrInvalidToken when the token is not ours, of another realm
// or purpose, expired, used, or out of tries.
func (s *Service) OpenToken(ctx context.Context, realm account.Realm, value string, purpose TokenPurpose) (TokenRecord, error) {
	now := s.clock.Now()
	c, err := s.tokens.Parse(ctx, tokenAudience(realm), value, now)
	if err != nil || !account.ValidID(c.Subject) || !account.ValidID(c.ID) {
		return TokenRecord{}, ErrInvalidToken
	}
	r, err := s.store.GetMFAToken(ctx, realm, c.Subject, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return TokenRecord{}, ErrInvalidToken
	}
	if err != nil {
		return TokenRecord{}, err
	}
	if r.Purpose != purpose || r.Attempts >= MaxAttempts || !now.Before(r.ExpiresAt) {
		return TokenRecord{}, ErrInvalidToken
	}
	return r, nil
}

// reserve counts one try at r before anything is compared: ErrInvalidToken
// when it has none left (or is gone). The returned record carries the count.
func (s *Service) reserve(ctx context.Context, r TokenRecord) (TokenRecord, error) {
	n, err := s.store.ReserveMFAAttempt(ctx, r)
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return TokenRecord{}, ErrInvalidToken
	}
	if err != nil {
		return TokenRecord{}, err
	}
	r.Attempts = n
	return r, nil
}

// redeem uses r up: of concurrent redemptions one passes, the others get
// ErrInvalidToken.
func (s *Service) redeem(ctx context.Context, r TokenRecord) error {
	err := s.store.RedeemMFAToken(ctx, r)
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return ErrInvalidToken
	}
	return err
}
