// Package passkey is the WebAuthn side of the second factor
// (github.com/go-webauthn/webauthn): registering a passkey, a passkey as a
// login's second step, and a login by a passkey alone (a discoverable
// credential names its account). Credential records are mfa.Factors in the
// mfa store; each ceremony's challenge is an mfa.Ceremony, stored when the
// options go out and taken (deleted, once) when the browser answers, so a
// challenge cannot be answered twice. It is its own package so that only
// the functions serving passkey routes link the WebAuthn library.
package passkey

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/mfa"
	"github.com/ekolek/identity/shared/store"
)

// RPName is the relying party's name browsers show.
const RPName = "E-KOLEK"

// ErrInvalid is every refused ceremony answer (mfa.ErrInvalidCredential):
// malformed, for a challenge that is unknown, used, expired, of another
// realm, account or purpose, a signature that does not verify, a counter
// that went back (a cloned authenticator), a credential that is not the
// account's.
var ErrInvalid = mfa.ErrInvalidCredential

// Config is the relying party: its id (a domain) and the origins
// ceremonies may come from.
type Config struct {
	RPID    string
	Origins []string
}

// Store is what passkeys read and write: the mfa store and accounts.
type Store = mfa.PasskeyStore

// Service runs WebAuthn ceremonies.
type Service struct {
	wa    *webauthn.WebAuthn
	store Store
	mfa   *mfa.Service
	clock clock.Clock
}

// NewService returns a Service for the relying party cfg. Factors are
// stored through factors (which gives a first factor its recovery codes
// and runs a second step's token).
func NewService(cfg Config, s Store, factors *mfa.Service, c clock.Clock) (*Service, error) {
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          cfg.RPID,
		RPDisplayName: RPName,
		RPOrigins:     cfg.Origins,
		// No attestation is asked for (conveyance none): any authenticator
		// the person has will do, and none is checked against a vendor list.
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: mfa.CeremonyTTL, TimeoutUVD: mfa.CeremonyTTL},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: mfa.CeremonyTTL, TimeoutUVD: mfa.CeremonyTTL},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("passkey: relying party: %w", err)
	}
	return &Service{wa: wa, store: s, mfa: factors, clock: c}, nil
}

// New is the optional part app.Parts.Passkeys: a Service for the relying
// party rp.
func New(rp mfa.RelyingParty, s mfa.PasskeyStore, factors *mfa.Service, c clock.Clock) (mfa.Passkeys, error) {
	return NewService(Config{RPID: rp.ID, Origins: rp.Origins}, s, factors, c)
}

var _ mfa.NewPasskeys = New

// user is an account as WebAuthn sees it, with its passkeys.
type user struct {
	a        account.Account
	passkeys []mfa.Factor
}

// Handle is the WebAuthn user handle of an account: its realm and id, so
// a discoverable credential names both, and nothing personal.
func Handle(realm account.Realm, accountID string) []byte {
	return []byte(string(realm) + ":" + accountID)
}

// WebAuthnID implements webauthn.User.
func (u user) WebAuthnID() []byte { return Handle(u.a.Realm, u.a.ID) }

// WebAuthnName implements webauthn.User: what the person signs in with.
func (u user) WebAuthnName() string {
	if u.a.Realm == account.Admin {
		return u.a.Username
	}
	if u.a.Email != "" {
		return u.a.Email
	}
	return u.a.Phone
}

// WebAuthnDisplayName implements webauthn.User.
func (u user) WebAuthnDisplayName() string {
	if u.a.Realm == account.Admin {
		return u.a.FullName
	}
	return strings.TrimSpace(u.a.FirstName + " " + u.a.LastName)
}

// WebAuthnCredentials implements webauthn.User.
func (u user) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, 0, len(u.passkeys))
	for _, f := range u.passkeys {
		p := f.Passkey
		transports := make([]protocol.AuthenticatorTransport, len(p.Transports))
		for i, t := range p.Transports {
			transports[i] = protocol.AuthenticatorTransport(t)
		}
		out = append(out, webauthn.Credential{
			ID: p.CredentialID, PublicKey: p.PublicKey, AttestationType: p.AttestationType, Transport: transports,
			Flags:         webauthn.CredentialFlags{UserPresent: true, UserVerified: p.UserVerified, BackupEligible: p.BackupEligible, BackupState: p.BackupState},
			Authenticator: webauthn.Authenticator{AAGUID: p.AAGUID, SignCount: p.SignCount},
		})
	}
	return out
}

// userOf reads a's active passkeys.
func (s *Service) userOf(ctx context.Context, a account.Account) (user, error) {
	_, fs, err := s.store.Factors(ctx, a.Realm, a.ID)
	if err != nil {
		return user{}, err
	}
	u := user{a: a}
	for _, f := range fs {
		if f.Type == mfa.WebAuthn && f.Usable() && f.Passkey != nil {
			u.passkeys = append(u.passkeys, f)
		}
	}
	return u, nil
}

// ceremonyKey is how a ceremony is stored: the SHA-256 of its challenge.
func ceremonyKey(challenge string) string {
	sum := sha256.Sum256([]byte(challenge))
	return hex.EncodeToString(sum[:])
}

// begin stores the ceremony of session data sd.
func (s *Service) begin(ctx context.Context, realm account.Realm, accountID, tokenID string, p mfa.CeremonyPurpose, sd *webauthn.SessionData) error {
	data, err := json.Marshal(sd)
	if err != nil {
		return fmt.Errorf("passkey: session data: %w", err)
	}
	now := s.clock.Now()
	return s.store.PutCeremony(ctx, mfa.Ceremony{
		Realm: realm, Key: ceremonyKey(sd.Challenge), AccountID: accountID, Purpose: p, TokenID: tokenID,
		Data: data, CreatedAt: now, ExpiresAt: now.Add(mfa.CeremonyTTL),
	})
}

// take takes the ceremony challenge names in realm, once, and checks it is
// live and for p: ErrInvalid otherwise.
func (s *Service) take(ctx context.Context, realm account.Realm, challenge string, p mfa.CeremonyPurpose) (mfa.Ceremony, webauthn.SessionData, error) {
	c, err := s.store.TakeCeremony(ctx, realm, ceremonyKey(challenge))
	if errors.Is(err, store.ErrNotFound) {
		return mfa.Ceremony{}, webauthn.SessionData{}, ErrInvalid
	}
	if err != nil {
		return mfa.Ceremony{}, webauthn.SessionData{}, err
	}
	var sd webauthn.SessionData
	if c.Purpose != p || !s.clock.Now().Before(c.ExpiresAt) || json.Unmarshal(c.Data, &sd) != nil {
		return mfa.Ceremony{}, webauthn.SessionData{}, ErrInvalid
	}
	return c, sd, nil
}

// RegistrationOptions starts registering a passkey for a: the options for
// navigator.credentials.create. A resident (discoverable) key and user
// verification are preferred, so the passkey can also sign in alone; a's
// passkeys are excluded, so one authenticator is not registered twice.
func (s *Service) RegistrationOptions(ctx context.Context, a account.Account) (any, error) {
	u, err := s.userOf(ctx, a)
	if err != nil {
		return nil, err
	}
	creation, sd, err := s.wa.BeginRegistration(u,
		webauthn.WithExclusions(webauthn.Credentials(u.WebAuthnCredentials()).CredentialDescriptors()),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationPreferred,
		}),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementPreferred),
	)
	if err != nil {
		return nil, fmt.Errorf("passkey: begin registration: %w", err)
	}
	if err := s.begin(ctx, a.Realm, a.ID, "", mfa.Register, sd); err != nil {
		return nil, err
	}
	return creation, nil
}

// Register finishes a registration of a's: credential is the browser's
// answer (the PublicKeyCredential as JSON), name the person's name for it.
// The first factor of the account comes with recovery codes; first is the
// enrollment step standing in for a session, if any (mfa.Service's
// AddPasskey).
func (s *Service) Register(ctx context.Context, a account.Account, name string, credential []byte, first *mfa.StepStart) (mfa.Confirmed, error) {
	parsed, err := protocol.ParseCredentialCreationResponseBytes(credential)
	if err != nil {
		return mfa.Confirmed{}, ErrInvalid
	}
	c, sd, err := s.take(ctx, a.Realm, parsed.Response.CollectedClientData.Challenge, mfa.Register)
	if err != nil {
		return mfa.Confirmed{}, err
	}
	if c.AccountID != a.ID {
		return mfa.Confirmed{}, ErrInvalid
	}
	u, err := s.userOf(ctx, a)
	if err != nil {
		return mfa.Confirmed{}, err
	}
	cred, err := s.wa.CreateCredential(u, sd, parsed)
	if err != nil {
		return mfa.Confirmed{}, ErrInvalid
	}
	now := s.clock.Now()
	f := mfa.Factor{
		Realm: a.Realm, AccountID: a.ID, ID: account.NewID(), Type: mfa.WebAuthn, Name: name,
		State: mfa.Active, CreatedAt: now,
		Passkey: &mfa.Passkey{
			CredentialID: cred.ID, PublicKey: cred.PublicKey, SignCount: cred.Authenticator.SignCount,
			AAGUID: cred.Authenticator.AAGUID, AttestationType: cred.AttestationType,
			UserVerified: cred.Flags.UserVerified, BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState,
		},
	}
	for _, t := range cred.Transport {
		f.Passkey.Transports = append(f.Passkey.Transports, string(t))
	}
	return s.mfa.AddPasskey(ctx, a, f, first)
}

// LoginOptions starts a passkey login in realm: the options for
// navigator.credentials.get. With an mfa_token it is that login's second
// step, offering the account's passkeys (user verification preferred: the
// password was the first factor). Without one it is a login by a passkey
// alone: the browser offers the discoverable credentials it holds for this
// site, and user verification is required, as the passkey stands for both
// factors.
func (s *Service) LoginOptions(ctx context.Context, realm account.Realm, mfaToken string) (any, error) {
	if mfaToken == "" {
		assertion, sd, err := s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
		if err != nil {
			return nil, fmt.Errorf("passkey: begin login: %w", err)
		}
		return assertion, s.begin(ctx, realm, "", "", mfa.Login, sd)
	}
	r, err := s.mfa.OpenToken(ctx, realm, mfaToken, mfa.ForLogin)
	if err != nil {
		return nil, err
	}
	a, err := s.store.GetAccount(ctx, realm, r.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, mfa.ErrInvalidToken
	}
	if err != nil {
		return nil, err
	}
	u, err := s.userOf(ctx, a)
	if err != nil {
		return nil, err
	}
	if len(u.passkeys) == 0 {
		return nil, mfa.ErrNoFactor
	}
	assertion, sd, err := s.wa.BeginLogin(u, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, fmt.Errorf("passkey: begin login: %w", err)
	}
	return assertion, s.begin(ctx, realm, a.ID, r.ID, mfa.Login, sd)
}

// Login finishes a passkey login in realm from ip: credential is the
// browser's answer, mfaToken the login's token for a second step ("" for
// a passkey alone, which must answer a ceremony begun without one). A
// second step runs as every second step does (mfa.Service.BeginStep): the
// token's try is reserved first (and given back when the store fails
// before the answer is judged), and a refused answer counts toward the
// identifier's lock. Errors: ErrInvalid, mfa.ErrInvalidToken,
// *throttle.Refused, *mfa.WrongCodeError, or a store error. The caller
// checks that the account's status lets it in.
func (s *Service) Login(ctx context.Context, realm account.Realm, mfaToken string, credential []byte, ip string) (mfa.Passed, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(credential)
	if err != nil {
		return mfa.Passed{}, ErrInvalid
	}
	c, sd, err := s.take(ctx, realm, parsed.Response.CollectedClientData.Challenge, mfa.Login)
	if err != nil {
		return mfa.Passed{}, err
	}
	if (c.TokenID == "") != (mfaToken == "") {
		return mfa.Passed{}, ErrInvalid
	}
	if mfaToken == "" {
		return s.passkeyOnly(ctx, realm, sd, parsed)
	}
	st, err := s.mfa.BeginStep(ctx, realm, mfaToken, ip)
	if err != nil {
		return mfa.Passed{}, err
	}
	if st.Record.ID != c.TokenID || st.Account.ID != c.AccountID {
		return mfa.Passed{}, ErrInvalid
	}
	u, err := s.userOf(ctx, st.Account)
	if err != nil {
		s.mfa.Unjudged(ctx, st)
		return mfa.Passed{}, err
	}
	cred, err := s.wa.ValidateLogin(u, sd, parsed)
	if err != nil || cred.Authenticator.CloneWarning {
		return mfa.Passed{}, s.mfa.FailStep(ctx, st, ip)
	}
	if err := s.mfa.PassStep(ctx, st); err != nil {
		return mfa.Passed{}, err
	}
	f, err := s.used(ctx, u, cred)
	if err != nil {
		return mfa.Passed{}, err
	}
	return mfa.Passed{StepStart: st, Method: mfa.MethodWebAuthn, FactorID: f.ID}, nil
}

// passkeyOnly checks a discoverable credential's answer: the credential id
// finds the factor, whose account must be the one the user handle names.
func (s *Service) passkeyOnly(ctx context.Context, realm account.Realm, sd webauthn.SessionData, parsed *protocol.ParsedCredentialAssertionData) (mfa.Passed, error) {
	var found user
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		f, err := s.store.LookupPasskey(ctx, realm, rawID)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(userHandle, Handle(realm, f.AccountID)) {
			return nil, ErrInvalid
		}
		a, err := s.store.GetAccount(ctx, realm, f.AccountID)
		if err != nil {
			return nil, err
		}
		found, err = s.userOf(ctx, a)
		return found, err
	}
	_, cred, err := s.wa.ValidatePasskeyLogin(handler, sd, parsed)
	if errors.Is(err, store.ErrUnavailable) {
		return mfa.Passed{}, err
	}
	if err != nil || cred.Authenticator.CloneWarning {
		return mfa.Passed{}, ErrInvalid
	}
	f, err := s.used(ctx, found, cred)
	if err != nil {
		return mfa.Passed{}, err
	}
	return mfa.Passed{StepStart: mfa.StepStart{Account: found.a}, Method: mfa.MethodWebAuthn, FactorID: f.ID}, nil
}

// used records a verified use of one of u's passkeys: its new counter and
// backup state, on condition the counter is still the one checked (of two
// answers verified at once, one is recorded; the other is ErrInvalid).
func (s *Service) used(ctx context.Context, u user, cred *webauthn.Credential) (mfa.Factor, error) {
	i := slices.IndexFunc(u.passkeys, func(f mfa.Factor) bool { return bytes.Equal(f.Passkey.CredentialID, cred.ID) })
	if i < 0 {
		return mfa.Factor{}, ErrInvalid
	}
	f := u.passkeys[i]
	read := f.Passkey.SignCount
	p := *f.Passkey
	p.SignCount, p.BackupState, p.UserVerified = cred.Authenticator.SignCount, cred.Flags.BackupState, cred.Flags.UserVerified
	f.Passkey, f.LastUsedAt = &p, s.clock.Now()
	err := s.store.UsePasskey(ctx, f, read)
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return mfa.Factor{}, ErrInvalid
	}
	if err != nil {
		return mfa.Factor{}, err
	}
	return f, nil
}
