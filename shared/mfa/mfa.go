// Package mfa is the second factor of both realms: TOTP authenticators,
// passkeys (their records; the WebAuthn ceremonies are package passkey),
// one-time recovery codes, and the mfa_token that carries a login from its
// password step to its second step.
//
// Every single-use rule is a conditional write in the store, never a check
// of what was read: a TOTP time step is accepted only above the factor's
// last used step, a recovery code is removed on condition it is still in
// the set, a WebAuthn challenge is deleted on condition it still exists, an
// mfa_token's tries are reserved before the code is compared and it is
// redeemed by a conditional delete. Of any number of concurrent uses of one
// thing, exactly one passes.
package mfa

import (
	"context"
	"errors"
	"time"

	"github.com/ekolek/identity/shared/account"
)

// Type is a kind of second factor an account enrolls.
type Type string

// Factor types.
const (
	TOTP     Type = "totp"
	WebAuthn Type = "webauthn"
)

// Method is how a second step is passed: a factor type, or a recovery code.
type Method string

// Methods of a second step.
const (
	MethodTOTP     Method = Method(TOTP)
	MethodWebAuthn Method = Method(WebAuthn)
	MethodRecovery Method = "recovery"
)

// State is where a factor is in its life.
type State string

// States: a TOTP factor is pending from enrollment until a first code
// confirms it (and expires if none does); a passkey is active from its
// registration.
const (
	Pending State = "pending"
	Active  State = "active"
)

// PendingTTL is how long an enrolled TOTP factor waits for its first code.
const PendingTTL = 15 * time.Minute

// Factor is one enrolled second factor of an account.
type Factor struct {
	Realm     account.Realm
	AccountID string
	ID        string // account.NewID's shape
	Type      Type
	// Name is the owner's name for it ("Phone", "YubiKey"); may be empty.
	Name       string
	State      State
	CreatedAt  time.Time
	LastUsedAt time.Time // zero until first used
	// ExpiresAt is when a pending factor lapses; zero for an active one.
	ExpiresAt time.Time

	// Secret is a TOTP factor's key, sealed (AES-256-GCM, see Keys.seal);
	// never stored in plain.
	Secret string
	// LastStep is the last TOTP time step accepted (the confirming code's
	// included); a code of this step or an earlier one is refused.
	LastStep int64

	// Passkey is a WebAuthn factor's credential; nil for TOTP.
	Passkey *Passkey
}

// Passkey is a WebAuthn credential record (the fields WebAuthn §4 names a
// credential record, as far as login checks them).
type Passkey struct {
	CredentialID []byte
	PublicKey    []byte // COSE_Key
	SignCount    uint32
	AAGUID       []byte
	// Transports are the authenticator's (usb, nfc, ble, internal, hybrid),
	// given back in allowCredentials so the browser knows where to look.
	Transports      []string
	AttestationType string
	UserVerified    bool
	BackupEligible  bool
	BackupState     bool
}

// Usable reports whether f can pass a second step at now: active, or a
// pending factor is not.
func (f Factor) Usable() bool { return f.State == Active }

// Enrollment is an account's second-factor summary: how many active
// factors it has, and its recovery codes. Every change of it is conditional
// on Version, so two concurrent changes (removing each of the last two
// factors, say) cannot both pass a rule that holds for each alone.
type Enrollment struct {
	Realm     account.Realm
	AccountID string
	// Version is 0 when nothing is stored yet; each write moves it by one.
	Version int64
	// Active counts the account's active factors.
	Active int
	// Recovery holds the unused recovery codes' hashes (RecoveryKeys.hash).
	Recovery []string
	// RecoveryKey names the key the hashes were made with.
	RecoveryKey string
	// RecoveryAt is when the set was made.
	RecoveryAt time.Time
}

// Ceremony is a pending WebAuthn ceremony: the challenge sent to the
// browser and what the ceremony must check when it answers. It is keyed by
// the challenge's SHA-256, which the answer carries, so the client holds
// nothing else; it is taken (deleted) by the answer, once.
type Ceremony struct {
	Realm account.Realm
	Key   string // hex SHA-256 of the challenge
	// AccountID is the account the ceremony is for; "" for a passkey-only
	// login, where the credential names the account.
	AccountID string
	Purpose   CeremonyPurpose
	// TokenID is the mfa_token a second-step login ceremony belongs to.
	TokenID string
	// Data is the WebAuthn library's session data, as it gave it.
	Data      []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CeremonyPurpose is what a ceremony does.
type CeremonyPurpose string

// Ceremony purposes.
const (
	Register CeremonyPurpose = "register"
	Login    CeremonyPurpose = "login"
)

// CeremonyTTL is how long a ceremony waits for the browser's answer (the
// timeout the options give the browser).
const CeremonyTTL = 5 * time.Minute

// Store keeps factors, enrollments, passkey claims, ceremonies and
// mfa_tokens. Reads are strongly consistent. Factors and the enrollment of
// an account are one partition in DynamoDB, read together by Factors.
type Store interface {
	// Factors returns an account's enrollment (Version 0 when none is
	// stored) and its factors, pending ones included, oldest first.
	Factors(ctx context.Context, realm account.Realm, accountID string) (Enrollment, []Factor, error)
	// GetFactor reads one factor. ErrNotFound.
	GetFactor(ctx context.Context, realm account.Realm, accountID, id string) (Factor, error)
	// CreateFactor stores a new pending factor. ErrConflict when its id
	// exists.
	CreateFactor(ctx context.Context, f Factor) error
	// ConfirmFactor makes the stored pending factor f.ID active (with f's
	// LastStep, Name, Secret and LastUsedAt, and no expiry) and stores e
	// as the account's enrollment, as one change, on condition that the
	// factor is still pending and the stored enrollment's version is
	// e.Version (which the write moves on). ErrNotFound when the factor is
	// gone, ErrConflict when either condition fails.
	ConfirmFactor(ctx context.Context, f Factor, e Enrollment) error
	// AddPasskey stores the new active factor f, claims its credential id
	// in its realm, and stores e, as one change, on condition that the id
	// and the credential are new and the enrollment's version is
	// e.Version. ErrConflict otherwise.
	AddPasskey(ctx context.Context, f Factor, e Enrollment) error
	// RemoveFactor deletes f (and a passkey's claim) and stores e, as one
	// change, on condition that f exists and the enrollment's version is
	// e.Version. ErrNotFound when f is gone, ErrConflict otherwise.
	RemoveFactor(ctx context.Context, f Factor, e Enrollment) error
	// ReplaceRecovery stores e (its new recovery codes) on condition that
	// the stored enrollment's version is e.Version. ErrConflict otherwise.
	ReplaceRecovery(ctx context.Context, e Enrollment) error
	// UseRecoveryCode removes hash from the account's recovery codes (and
	// moves the enrollment's version) on condition that it is still among
	// them. ErrConflict when it is not (used, replaced, or never was);
	// ErrNotFound when the account has no enrollment.
	UseRecoveryCode(ctx context.Context, realm account.Realm, accountID, hash string) error
	// UseTOTPStep records step as f's last used step (with f.Secret, which
	// may have been sealed again under a newer key, and f.LastUsedAt), on
	// condition that f is active and its stored last step is below step.
	// ErrConflict otherwise (a replay, or a concurrent use of the same
	// code); ErrNotFound when f is gone.
	UseTOTPStep(ctx context.Context, f Factor, step int64) error
	// RenameFactor sets the stored factor f.ID's name to f.Name, on
	// condition that it exists. ErrNotFound otherwise.
	RenameFactor(ctx context.Context, f Factor) error
	// ClearFactors deletes the factors fs of account a (passkeys' claims
	// too) and its enrollment (its recovery codes), and ends a's sessions
	// (a new session epoch, as session.Store's EndSessions), as one change,
	// on condition that the stored account is still a.Version and the
	// stored enrollment e.Version. It returns how many sessions ended.
	// ErrConflict when either changed, ErrNotFound when a is gone.
	ClearFactors(ctx context.Context, a account.Account, e Enrollment, fs []Factor) (int, error)
	// UsePasskey stores f's passkey's new sign count, backup state and
	// f.LastUsedAt, on condition that the stored sign count is still
	// readCount. ErrConflict otherwise; ErrNotFound when f is gone.
	UsePasskey(ctx context.Context, f Factor, readCount uint32) error
	// LookupPasskey finds the factor holding a credential id in realm.
	// ErrNotFound.
	LookupPasskey(ctx context.Context, realm account.Realm, credentialID []byte) (Factor, error)

	// PutCeremony stores a new ceremony. ErrConflict when its key exists.
	PutCeremony(ctx context.Context, c Ceremony) error
	// TakeCeremony deletes the ceremony keyed key in realm and returns it:
	// of concurrent takes exactly one gets it, the others ErrNotFound.
	// An expired ceremony is returned too; the caller checks ExpiresAt.
	TakeCeremony(ctx context.Context, realm account.Realm, key string) (Ceremony, error)

	// PutMFAToken stores a new token record. ErrConflict when its id exists.
	PutMFAToken(ctx context.Context, t TokenRecord) error
	// GetMFAToken reads a token record. ErrNotFound.
	GetMFAToken(ctx context.Context, realm account.Realm, accountID, id string) (TokenRecord, error)
	// ReserveMFAAttempt counts one try at the token, on condition it has
	// fewer than MaxAttempts counted, and returns the new count (this
	// try's number). ErrConflict when it is out of tries, ErrNotFound when
	// it is gone.
	ReserveMFAAttempt(ctx context.Context, t TokenRecord) (int, error)
	// ReleaseMFAAttempt gives back one try counted at the token (one that
	// ended without a verdict), on condition it has one counted.
	// ErrConflict when it has none, ErrNotFound when it is gone.
	ReleaseMFAAttempt(ctx context.Context, t TokenRecord) error
	// RedeemMFAToken deletes the token on condition that it exists with at
	// most MaxAttempts tries counted (the redeeming try is one of them): of
	// concurrent redemptions exactly one succeeds, the others get
	// ErrConflict or ErrNotFound.
	RedeemMFAToken(ctx context.Context, t TokenRecord) error
}

// TOTPApp is what TOTP factors need of an authenticator-app library. It is
// an optional part (package totp, with pquerna/otp and a QR code library):
// only the functions whose routes enroll or check TOTP codes link it; the
// Service's TOTP methods panic without it.
type TOTPApp interface {
	// NewKey makes a new random secret for accountName under issuer.
	NewKey(issuer, accountName string) (TOTPKey, error)
	// Match returns the time step within one step of now whose code is
	// code and which is above after (a factor's last used step), or false.
	Match(secret, code string, now time.Time, after int64) (int64, bool)
}

// TOTPKey is a new TOTP secret as an authenticator app takes it: the
// secret in base32 (typed by hand), its otpauth:// URI, and the URI as a
// QR code in SVG.
type TOTPKey struct {
	Secret, URI, QRSVG string
}

// Issuer is the name authenticator apps show beside the account.
const Issuer = "E-KOLEK"

// Label is the account name an authenticator app shows beside the issuer:
// a resident's email (or mobile number), an admin's username marked as
// the console's, so the two entries of one person are told apart.
func Label(a account.Account) string {
	if a.Realm == account.Admin {
		return a.Username + " (admin)"
	}
	if a.Email != "" {
		return a.Email
	}
	return a.Phone
}

// Errors.
var (
	// ErrInvalidCode is every failed second step: a wrong, reused or
	// malformed code, a code of a factor that is gone, a burned recovery
	// code, a passkey assertion that does not verify.
	ErrInvalidCode = errors.New("mfa: invalid code")
	// ErrInvalidToken: an mfa_token that is not ours, not for this realm,
	// expired, used, or out of tries.
	ErrInvalidToken = errors.New("mfa: invalid token")
	// ErrLastFactor: removing the factor would leave an account that must
	// have a second factor without one.
	ErrLastFactor = errors.New("mfa: the last factor of an account that must have one")
	// ErrNoFactor: the operation needs an active factor the account does
	// not have (new recovery codes for an account without a factor).
	ErrNoFactor = errors.New("mfa: no active factor")
)
