package passkey_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/mfa"
	"github.com/ekolek/identity/shared/passkey"
	"github.com/ekolek/identity/shared/passkey/passkeytest"
	"github.com/ekolek/identity/shared/store/embedded"
	"github.com/ekolek/identity/shared/throttle"
	"github.com/ekolek/identity/shared/token"
)

const (
	rpID   = "localhost"
	origin = "http://localhost:8080"
	ip     = "203.0.113.9"
)

type rig struct {
	pk    *passkey.Service
	mfa   *mfa.Service
	store *embedded.Store
	clock *clock.Manual
	guard *throttle.Guard
	auth  *passkeytest.Authenticator
}

func newRig(t *testing.T) *rig {
	t.Helper()
	s, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	secret := bytes.Repeat([]byte{9}, 32)
	tk, _ := token.NewKeys(secret)
	mk, _ := mfa.NewKeys(secret)
	c := clock.NewManual(time.Now())
	g := throttle.NewGuard(s, throttle.DefaultLimits, c)
	m := mfa.NewService(mfa.Deps{Store: s, Accounts: s, Keys: mk, Tokens: tk, Guard: g, Clock: c, Policy: mfa.Policy{AdminRequired: true}})
	pk, err := passkey.NewService(passkey.Config{RPID: rpID, Origins: []string{origin}}, s, m, c)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{pk: pk, mfa: m, store: s, clock: c, guard: g, auth: passkeytest.New(rpID, origin)}
}

func (r *rig) account(t *testing.T, realm account.Realm) account.Account {
	t.Helper()
	id := account.NewID()
	a := account.Account{Realm: realm, ID: id, Status: account.StatusActive,
		Username: "m" + id[:8], FullName: "Maria Cruz", Email: "maria." + id[:8] + "@example.com", EmailVerified: true, CreatedAt: r.clock.Now()}
	if realm == account.Resident {
		a.Status, a.Username, a.FullName, a.FirstName, a.LastName = account.StatusApproved, "", "", "Maria", "Cruz"
	}
	if err := r.store.CreateAccount(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	a.Version = 1
	return a
}

func js(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// register registers a passkey of r.auth for a.
func (r *rig) register(t *testing.T, a account.Account) mfa.Confirmed {
	t.Helper()
	opts, err := r.pk.RegistrationOptions(t.Context(), a)
	if err != nil {
		t.Fatalf("RegistrationOptions: %v", err)
	}
	answer, _, err := r.auth.Create(js(t, opts))
	if err != nil {
		t.Fatalf("authenticator: %v", err)
	}
	c, err := r.pk.Register(t.Context(), a, "Laptop", answer, nil)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	return c
}

func (r *rig) mfaToken(t *testing.T, a account.Account) string {
	t.Helper()
	tok, err := r.mfa.IssueToken(t.Context(), a, mfa.ForLogin, a.Email, false)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Value
}

// loginAnswer starts a login (with tok, or passkey-only) and has the
// authenticator answer it.
func (r *rig) loginAnswer(t *testing.T, realm account.Realm, tok string) []byte {
	t.Helper()
	opts, err := r.pk.LoginOptions(t.Context(), realm, tok)
	if err != nil {
		t.Fatalf("LoginOptions: %v", err)
	}
	answer, _, err := r.auth.Get(js(t, opts))
	if err != nil {
		t.Fatalf("authenticator: %v", err)
	}
	return answer
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got %v, want %v", what, err, want)
	}
}

func TestRegister(t *testing.T) {
	r := newRig(t)
	a := r.account(t, account.Admin)
	c := r.register(t, a)
	p := c.Factor.Passkey
	if c.Factor.Type != mfa.WebAuthn || c.Factor.State != mfa.Active || len(c.RecoveryCodes) != mfa.RecoveryCount ||
		p == nil || len(p.CredentialID) != 32 || len(p.PublicKey) == 0 || !bytes.Equal(p.AAGUID, r.auth.AAGUID) ||
		!p.UserVerified || !p.BackupEligible || len(p.Transports) != 2 {
		t.Fatalf("registered %+v %+v", c.Factor, p)
	}
	got, err := r.store.LookupPasskey(t.Context(), account.Admin, p.CredentialID)
	if err != nil || got.ID != c.Factor.ID {
		t.Errorf("LookupPasskey = %+v, %v", got, err)
	}
	// The same authenticator is excluded from a second registration.
	opts, _ := r.pk.RegistrationOptions(t.Context(), a)
	if _, _, err := r.auth.Create(js(t, opts)); err == nil {
		t.Error("the registered credential was not excluded")
	}
	// A second authenticator registers, without new recovery codes.
	other := passkeytest.New(rpID, origin)
	opts, _ = r.pk.RegistrationOptions(t.Context(), a)
	answer, _, err := other.Create(js(t, opts))
	if err != nil {
		t.Fatal(err)
	}
	c2, err := r.pk.Register(t.Context(), a, "Phone", answer, nil)
	if err != nil || c2.RecoveryCodes != nil {
		t.Errorf("second passkey: %v, codes %v", err, c2.RecoveryCodes)
	}
}

func TestRegisterRefused(t *testing.T) {
	r := newRig(t)
	a := r.account(t, account.Resident)
	b := r.account(t, account.Resident)

	opts, _ := r.pk.RegistrationOptions(t.Context(), a)
	answer, _, _ := r.auth.Create(js(t, opts))
	_, err := r.pk.Register(t.Context(), b, "Stolen", answer, nil)
	wantErr(t, "an answer to another account's ceremony", err, passkey.ErrInvalid)
	_, err = r.pk.Register(t.Context(), a, "Late", answer, nil)
	wantErr(t, "an answer whose ceremony was taken", err, passkey.ErrInvalid)

	opts, _ = r.pk.RegistrationOptions(t.Context(), a)
	evil := passkeytest.New(rpID, "http://localhost:9999")
	answer, _, _ = evil.Create(js(t, opts))
	_, err = r.pk.Register(t.Context(), a, "Phished", answer, nil)
	wantErr(t, "an answer from another origin", err, passkey.ErrInvalid)

	opts, _ = r.pk.RegistrationOptions(t.Context(), a)
	answer, _, _ = r.auth.Create(js(t, opts))
	r.clock.Advance(mfa.CeremonyTTL)
	_, err = r.pk.Register(t.Context(), a, "Slow", answer, nil)
	wantErr(t, "an answer after the ceremony expired", err, passkey.ErrInvalid)

	_, err = r.pk.Register(t.Context(), a, "Junk", []byte(`{"id":"x"}`), nil)
	wantErr(t, "junk", err, passkey.ErrInvalid)
	if o, _ := r.mfa.Overview(t.Context(), a); len(o.Factors) != 0 {
		t.Errorf("refused registrations left %+v", o.Factors)
	}
}

func TestSecondStep(t *testing.T) {
	r := newRig(t)
	a := r.account(t, account.Admin)
	c := r.register(t, a)
	tok := r.mfaToken(t, a)
	in, err := r.pk.Login(t.Context(), account.Admin, tok, r.loginAnswer(t, account.Admin, tok), ip)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if in.Account.ID != a.ID || in.FactorID != c.Factor.ID || in.Method != mfa.MethodWebAuthn || in.Record.AccountID != a.ID {
		t.Errorf("signed in %+v", in)
	}
	stored, _ := r.store.GetFactor(t.Context(), account.Admin, a.ID, c.Factor.ID)
	if stored.Passkey.SignCount != 1 || stored.LastUsedAt.IsZero() {
		t.Errorf("stored factor after a use: count %d, last used %v", stored.Passkey.SignCount, stored.LastUsedAt)
	}
	// The token is used up.
	_, err = r.pk.LoginOptions(t.Context(), account.Admin, tok)
	wantErr(t, "options for a used token", err, mfa.ErrInvalidToken)
}

// TestChallengeUsedOnce: an answer to a challenge is accepted once; the
// same answer again, or at once from elsewhere, is refused.
func TestChallengeUsedOnce(t *testing.T) {
	r := newRig(t)
	a := r.account(t, account.Resident)
	r.register(t, a)
	answer := r.loginAnswer(t, account.Resident, "")
	if _, err := r.pk.Login(t.Context(), account.Resident, "", answer, ip); err != nil {
		t.Fatalf("Login: %v", err)
	}
	_, err := r.pk.Login(t.Context(), account.Resident, "", answer, ip)
	wantErr(t, "the same answer again", err, passkey.ErrInvalid)

	answer = r.loginAnswer(t, account.Resident, "")
	errs := make([]error, 6)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { _, errs[i] = r.pk.Login(t.Context(), account.Resident, "", answer, ip) })
	}
	wg.Wait()
	passed := 0
	for _, err := range errs {
		switch {
		case err == nil:
			passed++
		case !errors.Is(err, passkey.ErrInvalid):
			t.Errorf("a concurrent answer: %v", err)
		}
	}
	if passed != 1 {
		t.Errorf("%d of %d concurrent answers to one challenge passed, want 1", passed, len(errs))
	}
}

func TestPasskeyOnly(t *testing.T) {
	r := newRig(t)
	a := r.account(t, account.Resident)
	c := r.register(t, a)
	in, err := r.pk.Login(t.Context(), account.Resident, "", r.loginAnswer(t, account.Resident, ""), ip)
	if err != nil || in.Account.ID != a.ID || in.FactorID != c.Factor.ID || in.Record.ID != "" {
		t.Fatalf("passkey-only login = %+v, %v", in, err)
	}

	// The other realm does not know the credential.
	opts, _ := r.pk.LoginOptions(t.Context(), account.Admin, "")
	answer, _, _ := r.auth.Get(js(t, opts))
	_, err = r.pk.Login(t.Context(), account.Admin, "", answer, ip)
	wantErr(t, "a resident's passkey in the admin realm", err, passkey.ErrInvalid)

	// Without user verification a passkey does not stand for two factors.
	r.auth.NoUserVerification = true
	_, err = r.pk.Login(t.Context(), account.Resident, "", r.loginAnswer(t, account.Resident, ""), ip)
	wantErr(t, "a passkey-only login without user verification", err, passkey.ErrInvalid)
	r.auth.NoUserVerification = false

	// A ceremony begun for a second step is not answered as passkey-only, nor the reverse.
	tok := r.mfaToken(t, a)
	_, err = r.pk.Login(t.Context(), account.Resident, "", r.loginAnswer(t, account.Resident, tok), ip)
	wantErr(t, "a second step's ceremony without its token", err, passkey.ErrInvalid)
	_, err = r.pk.Login(t.Context(), account.Resident, r.mfaToken(t, a), r.loginAnswer(t, account.Resident, ""), ip)
	wantErr(t, "a passkey-only ceremony with a token", err, passkey.ErrInvalid)
}

// TestClonedAuthenticator: an assertion whose counter does not move past
// the stored one (a copy of the key used elsewhere) is refused, and as a
// second step it counts as a wrong answer.
func TestClonedAuthenticator(t *testing.T) {
	r := newRig(t)
	a := r.account(t, account.Admin)
	r.register(t, a)
	tok := r.mfaToken(t, a)
	if _, err := r.pk.Login(t.Context(), account.Admin, tok, r.loginAnswer(t, account.Admin, tok), ip); err != nil {
		t.Fatal(err)
	}
	tok = r.mfaToken(t, a)
	opts, err := r.pk.LoginOptions(t.Context(), account.Admin, tok)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
		} `json:"publicKey"`
	}
	_ = json.Unmarshal(js(t, opts), &o)
	_, cred, _ := r.auth.Get(js(t, opts)) // moves the counter to 2, answer thrown away
	cred.Count = 1                        // the clone's counter
	answer, err := r.auth.Assert(cred, o.PublicKey.Challenge)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.pk.Login(t.Context(), account.Admin, tok, answer, ip)
	var wrong *mfa.WrongCodeError
	if !errors.As(err, &wrong) || wrong.Attempt != 1 {
		t.Errorf("a cloned authenticator's answer: %v, want a wrong answer counted", err)
	}
}

func TestSecondStepRefused(t *testing.T) {
	r := newRig(t)
	a := r.account(t, account.Admin)
	r.register(t, a)
	_, err := r.pk.LoginOptions(t.Context(), account.Resident, r.mfaToken(t, a))
	wantErr(t, "an admin's token in the resident realm", err, mfa.ErrInvalidToken)

	noPasskey := r.account(t, account.Admin)
	_, err = r.pk.LoginOptions(t.Context(), account.Admin, r.mfaToken(t, noPasskey))
	wantErr(t, "a second step by passkey for an account without one", err, mfa.ErrNoFactor)

	// An answer under another login's token is refused.
	tok1, tok2 := r.mfaToken(t, a), r.mfaToken(t, a)
	_, err = r.pk.Login(t.Context(), account.Admin, tok2, r.loginAnswer(t, account.Admin, tok1), ip)
	wantErr(t, "an answer under another token", err, passkey.ErrInvalid)

	// Another authenticator's answer is a wrong answer.
	tok := r.mfaToken(t, a)
	opts, _ := r.pk.LoginOptions(t.Context(), account.Admin, tok)
	stranger := passkeytest.New(rpID, origin)
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
		} `json:"publicKey"`
	}
	_ = json.Unmarshal(js(t, opts), &o)
	strangerOpts, _ := r.pk.RegistrationOptions(t.Context(), r.account(t, account.Admin))
	_, cred, _ := stranger.Create(js(t, strangerOpts))
	answer, _ := stranger.Assert(cred, o.PublicKey.Challenge)
	_, err = r.pk.Login(t.Context(), account.Admin, tok, answer, ip)
	var wrong *mfa.WrongCodeError
	if !errors.As(err, &wrong) {
		t.Errorf("a stranger's answer: %v, want a wrong answer", err)
	}
}
