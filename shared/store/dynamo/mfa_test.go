package dynamo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/mfa"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/store/dynamo"
)

// TestMFAErrorsAreUnavailable: an error DynamoDB itself returns comes out
// of every second-factor method as ErrUnavailable, the SDK error hidden.
func TestMFAErrorsAreUnavailable(t *testing.T) {
	s := dynamo.New(failingAPI{}, "table")
	now := time.Now()
	f := mfa.Factor{Realm: account.Admin, AccountID: "a1", ID: "f1", Type: mfa.WebAuthn, State: mfa.Active, CreatedAt: now,
		Passkey: &mfa.Passkey{CredentialID: []byte{1}, PublicKey: []byte{2}}}
	e := mfa.Enrollment{Realm: account.Admin, AccountID: "a1", Version: 1, Active: 1}
	tok := mfa.TokenRecord{Realm: account.Admin, AccountID: "a1", ID: "t1", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	calls := map[string]func(ctx context.Context) error{
		"Factors": func(ctx context.Context) error {
			_, _, err := s.Factors(ctx, account.Admin, "a1")
			return err
		},
		"GetFactor": func(ctx context.Context) error {
			_, err := s.GetFactor(ctx, account.Admin, "a1", "f1")
			return err
		},
		"CreateFactor":    func(ctx context.Context) error { return s.CreateFactor(ctx, f) },
		"ConfirmFactor":   func(ctx context.Context) error { return s.ConfirmFactor(ctx, f, e) },
		"AddPasskey":      func(ctx context.Context) error { return s.AddPasskey(ctx, f, e) },
		"RemoveFactor":    func(ctx context.Context) error { return s.RemoveFactor(ctx, f, e) },
		"ReplaceRecovery": func(ctx context.Context) error { return s.ReplaceRecovery(ctx, e) },
		"UseRecoveryCode": func(ctx context.Context) error { return s.UseRecoveryCode(ctx, account.Admin, "a1", "h") },
		"UseTOTPStep":     func(ctx context.Context) error { return s.UseTOTPStep(ctx, f, 5) },
		"UsePasskey":      func(ctx context.Context) error { return s.UsePasskey(ctx, f, 0) },
		"LookupPasskey": func(ctx context.Context) error {
			_, err := s.LookupPasskey(ctx, account.Admin, []byte{1})
			return err
		},
		"PutCeremony": func(ctx context.Context) error {
			return s.PutCeremony(ctx, mfa.Ceremony{Realm: account.Admin, Key: "k", CreatedAt: now, ExpiresAt: now.Add(time.Minute)})
		},
		"TakeCeremony": func(ctx context.Context) error {
			_, err := s.TakeCeremony(ctx, account.Admin, "k")
			return err
		},
		"PutMFAToken": func(ctx context.Context) error { return s.PutMFAToken(ctx, tok) },
		"GetMFAToken": func(ctx context.Context) error {
			_, err := s.GetMFAToken(ctx, account.Admin, "a1", "t1")
			return err
		},
		"ReserveMFAAttempt": func(ctx context.Context) error {
			_, err := s.ReserveMFAAttempt(ctx, tok)
			return err
		},
		"RedeemMFAToken": func(ctx context.Context) error { return s.RedeemMFAToken(ctx, tok) },
		"Reauthenticate": func(ctx context.Context) error {
			return s.Reauthenticate(ctx, session.Session{Realm: account.Admin, AccountID: "a1", Key: "k1"}, now)
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call(t.Context())
			if !errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
				t.Fatalf("got %v, want only ErrUnavailable", err)
			}
			var apiErr smithy.APIError
			if errors.As(err, &apiErr) {
				t.Errorf("SDK error %T reachable through %v", apiErr, err)
			}
		})
	}
}
