package mfa

import (
	"context"
	"errors"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/clock"
)

// Passkeys are the WebAuthn ceremonies (package passkey, with
// go-webauthn). They are an optional part: the library adds 4.6 MB to a
// function, so only the function that serves the passkey routes links it,
// and everything else (package mfa, the HTTP API, the login function) knows
// passkeys by this interface alone. Options are the JSON the browser's
// navigator.credentials.create or .get takes; a credential is the
// PublicKeyCredential the browser answered with, as JSON.
type Passkeys interface {
	// RegistrationOptions starts registering a passkey for a.
	RegistrationOptions(ctx context.Context, a account.Account) (any, error)
	// Register finishes it with the browser's credential and the person's
	// name for it; first is as for Service.ConfirmTOTP. The account's
	// first factor comes with recovery codes. ErrInvalidCredential for an
	// answer that is refused.
	Register(ctx context.Context, a account.Account, name string, credential []byte, first *StepStart) (Confirmed, error)
	// LoginOptions starts a passkey login in realm: the second step of the
	// login whose mfa_token is given, or ("") a login by a passkey alone.
	LoginOptions(ctx context.Context, realm account.Realm, mfaToken string) (any, error)
	// Login finishes it from ip. A second step (with its mfa_token) runs
	// as every second step does: its Passed has the token's record. A
	// passkey-only login's has none (Record zero). ErrInvalidCredential,
	// ErrInvalidToken, *throttle.Refused, *WrongCodeError or a store
	// error. The caller checks the account's status.
	Login(ctx context.Context, realm account.Realm, mfaToken string, credential []byte, ip string) (Passed, error)
}

// RelyingParty is the passkeys' relying party: its id (a domain name) and
// the origins ceremonies may come from (config: EKOLEK_WEBAUTHN_RP_ID,
// EKOLEK_WEBAUTHN_ORIGINS).
type RelyingParty struct {
	ID      string
	Origins []string
}

// PasskeyStore is what passkeys read and write: the second factor's
// records and accounts.
type PasskeyStore interface {
	Store
	Accounts
}

// NewPasskeys builds the Passkeys part (passkey.New) for the relying party
// rp, on s, storing factors through factors.
type NewPasskeys func(rp RelyingParty, s PasskeyStore, factors *Service, c clock.Clock) (Passkeys, error)

// ErrInvalidCredential is every refused passkey answer: malformed, for a
// challenge that is unknown, used, expired or of another realm, account or
// purpose, a signature that does not verify, a counter that did not move
// on (a cloned authenticator), a credential that is not the account's.
var ErrInvalidCredential = errors.New("mfa: passkey answer refused")
