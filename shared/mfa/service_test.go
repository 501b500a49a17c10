package mfa_test

import (
	"bytes"
	"errors"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/mfa"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/store/embedded"
	"github.com/ekolek/identity/shared/throttle"
	"github.com/ekolek/identity/shared/token"
	"github.com/ekolek/identity/shared/totp"
)

// The service runs on the embedded store (the conformance suite holds
// DynamoDB to the same contract) with a manual clock.
type rig struct {
	svc   *mfa.Service
	store *embedded.Store
	clock *clock.Manual
	guard *throttle.Guard
	keys  *token.Keys
}

const ip = "203.0.113.9"

func newRig(t *testing.T, p mfa.Policy) *rig {
	t.Helper()
	s, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	secret := bytes.Repeat([]byte{7}, 32)
	tk, _ := token.NewKeys(secret)
	mk, _ := mfa.NewKeys(secret)
	// Mid-step, so a code of now stays one for the whole test.
	c := clock.NewManual(time.Date(2025, 3, 1, 8, 0, 10, 0, time.UTC))
	g := throttle.NewGuard(s, throttle.DefaultLimits, c)
	return &rig{svc: mfa.NewService(mfa.Deps{Store: s, Accounts: s, Keys: mk, Tokens: tk, Guard: g, Clock: c, Policy: p, TOTP: totp.App{}}), store: s, clock: c, guard: g, keys: tk}
}

func (r *rig) account(t *testing.T, realm account.Realm) account.Account {
	t.Helper()
	id := account.NewID()
	a := account.Account{Realm: realm, ID: id, Status: account.StatusActive,
		Username: "m" + id[:8], FullName: "Maria Cruz", Email: "maria." + id[:8] + "@example.com", EmailVerified: true,
		CreatedAt: r.clock.Now()}
	if realm == account.Resident {
		a.Status, a.Username, a.FullName, a.FirstName, a.LastName = account.StatusApproved, "", "", "Maria", "Cruz"
	}
	if err := r.store.CreateAccount(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	a.Version = 1
	return a
}

func (r *rig) code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.Code(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrolled gives a a confirmed TOTP factor and returns its secret and the
// recovery codes of the confirmation.
func (r *rig) enrolled(t *testing.T, a account.Account) (string, []string) {
	t.Helper()
	e, err := r.svc.EnrollTOTP(t.Context(), a, "Phone")
	if err != nil {
		t.Fatalf("EnrollTOTP: %v", err)
	}
	c, err := r.svc.ConfirmTOTP(t.Context(), a, e.Factor.ID, r.code(t, e.Secret, r.clock.Now()), nil)
	if err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	return e.Secret, c.RecoveryCodes
}

func (r *rig) token(t *testing.T, a account.Account) string {
	t.Helper()
	tok, err := r.svc.IssueToken(t.Context(), a, mfa.ForLogin, a.Email, false)
	if err != nil {
		t.Fatalf("IssueToken: %v", err)
	}
	return tok.Value
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got %v, want %v", what, err, want)
	}
}

func TestEnrollAndConfirm(t *testing.T) {
	r := newRig(t, mfa.Policy{AdminRequired: true})
	a := r.account(t, account.Admin)
	e, err := r.svc.EnrollTOTP(t.Context(), a, "Phone")
	if err != nil {
		t.Fatal(err)
	}
	if e.Factor.State != mfa.Pending || e.Secret == "" || e.QRSVG == "" || e.Factor.Secret == e.Secret {
		t.Fatalf("enrolled = %+v", e)
	}
	stored, err := r.store.GetFactor(t.Context(), account.Admin, a.ID, e.Factor.ID)
	if err != nil || stored.Secret == e.Secret || bytes.Contains([]byte(stored.Secret), []byte(e.Secret)) {
		t.Fatalf("stored secret %q (err %v) shows the secret", stored.Secret, err)
	}
	if o, _ := r.svc.Overview(t.Context(), a); len(o.Factors) != 0 || !o.Required {
		t.Errorf("pending factor listed: %+v", o)
	}

	_, err = r.svc.ConfirmTOTP(t.Context(), a, e.Factor.ID, r.code(t, e.Secret, r.clock.Now().Add(-2*time.Minute)), nil)
	wantErr(t, "ConfirmTOTP with an old code", err, mfa.ErrInvalidCode)
	c, err := r.svc.ConfirmTOTP(t.Context(), a, e.Factor.ID, r.code(t, e.Secret, r.clock.Now()), nil)
	if err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	if len(c.RecoveryCodes) != mfa.RecoveryCount || !regexp.MustCompile(`^\w{5}-\w{5}$`).MatchString(c.RecoveryCodes[0]) {
		t.Errorf("first factor's recovery codes = %v", c.RecoveryCodes)
	}
	_, err = r.svc.ConfirmTOTP(t.Context(), a, e.Factor.ID, r.code(t, e.Secret, r.clock.Now()), nil)
	wantErr(t, "ConfirmTOTP twice", err, store.ErrNotFound)

	// The confirming code's step is used: it cannot also pass a login.
	_, err = r.svc.SecondStep(t.Context(), account.Admin, r.token(t, a), mfa.MethodTOTP, r.code(t, e.Secret, r.clock.Now()), ip)
	wantErr(t, "the confirming code at login", err, mfa.ErrInvalidCode)

	// A second factor brings no new codes.
	e2, _ := r.svc.EnrollTOTP(t.Context(), a, "Tablet")
	c2, err := r.svc.ConfirmTOTP(t.Context(), a, e2.Factor.ID, r.code(t, e2.Secret, r.clock.Now()), nil)
	if err != nil || c2.RecoveryCodes != nil {
		t.Errorf("second factor: %v, codes %v", err, c2.RecoveryCodes)
	}
	o, err := r.svc.Overview(t.Context(), a)
	if err != nil || len(o.Factors) != 2 || o.RecoveryLeft != mfa.RecoveryCount {
		t.Errorf("overview = %+v, %v", o, err)
	}

	// A pending factor lapses.
	e3, _ := r.svc.EnrollTOTP(t.Context(), a, "Late")
	r.clock.Advance(mfa.PendingTTL)
	_, err = r.svc.ConfirmTOTP(t.Context(), a, e3.Factor.ID, r.code(t, e3.Secret, r.clock.Now()), nil)
	wantErr(t, "ConfirmTOTP after the pending factor lapsed", err, store.ErrNotFound)
}

// TestTOTPStepReplay: a code passes a login once; the same code (same
// step) in the next login is refused; the next step's code passes.
func TestTOTPStepReplay(t *testing.T) {
	r := newRig(t, mfa.Policy{})
	a := r.account(t, account.Resident)
	secret, _ := r.enrolled(t, a)
	r.clock.Advance(30 * time.Second)
	c := r.code(t, secret, r.clock.Now())
	p, err := r.svc.SecondStep(t.Context(), account.Resident, r.token(t, a), mfa.MethodTOTP, c, ip)
	if err != nil || p.Account.ID != a.ID || p.FactorID == "" || p.Method != mfa.MethodTOTP {
		t.Fatalf("SecondStep = %+v, %v", p, err)
	}
	_, err = r.svc.SecondStep(t.Context(), account.Resident, r.token(t, a), mfa.MethodTOTP, c, ip)
	var wrong *mfa.WrongCodeError
	if !errors.As(err, &wrong) || wrong.Attempt != 1 {
		t.Fatalf("replayed step: %v, want a judged wrong code", err)
	}
	r.clock.Advance(30 * time.Second)
	if _, err := r.svc.SecondStep(t.Context(), account.Resident, r.token(t, a), mfa.MethodTOTP, r.code(t, secret, r.clock.Now()), ip); err != nil {
		t.Errorf("the next step's code: %v", err)
	}
}

// TestSixthCodeNotCompared: five wrong codes burn the token and lock the
// identifier; the sixth try, with the right code, is refused without
// being compared, and the identifier stays locked for a new login.
func TestSixthCodeNotCompared(t *testing.T) {
	r := newRig(t, mfa.Policy{AdminRequired: true})
	a := r.account(t, account.Admin)
	secret, _ := r.enrolled(t, a)
	r.clock.Advance(30 * time.Second)
	tok := r.token(t, a)
	for i := 1; i <= mfa.MaxAttempts; i++ {
		_, err := r.svc.SecondStep(t.Context(), account.Admin, tok, mfa.MethodTOTP, "000000", ip)
		var wrong *mfa.WrongCodeError
		if !errors.As(err, &wrong) || wrong.Attempt != i || wrong.Locked != (i == mfa.MaxAttempts) {
			t.Fatalf("wrong code %d: %v (%+v)", i, err, wrong)
		}
	}
	_, err := r.svc.SecondStep(t.Context(), account.Admin, tok, mfa.MethodTOTP, r.code(t, secret, r.clock.Now()), ip)
	wantErr(t, "sixth try, with the right code", err, mfa.ErrInvalidToken)
	rec, err := r.store.GetMFAToken(t.Context(), account.Admin, a.ID, tokenID(t, r, tok))
	if err != nil || rec.Attempts != mfa.MaxAttempts {
		t.Errorf("token after six tries: %+v, %v; want %d tries counted", rec, err, mfa.MaxAttempts)
	}
	var refused *throttle.Refused
	if err := r.guard.BeginLogin(t.Context(), string(account.Admin), a.Email, ip); !errors.As(err, &refused) || refused.Limit != throttle.LoginIdentifier {
		t.Errorf("a new login after five wrong codes: %v, want the identifier locked", err)
	}
	// A fresh token of another password check is locked out too.
	_, err = r.svc.SecondStep(t.Context(), account.Admin, r.token(t, a), mfa.MethodTOTP, r.code(t, secret, r.clock.Now()), ip)
	if !errors.As(err, &refused) {
		t.Errorf("another token while locked: %v, want refused", err)
	}
}

func tokenID(t *testing.T, r *rig, value string) string {
	t.Helper()
	c, err := r.keys.Parse(t.Context(), "admin:mfa", value, r.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func TestTokenRefused(t *testing.T) {
	r := newRig(t, mfa.Policy{})
	res := r.account(t, account.Resident)
	secret, _ := r.enrolled(t, res)
	r.clock.Advance(30 * time.Second)
	code := func() string { return r.code(t, secret, r.clock.Now()) }

	_, err := r.svc.SecondStep(t.Context(), account.Admin, r.token(t, res), mfa.MethodTOTP, code(), ip)
	wantErr(t, "a resident's token in the admin realm", err, mfa.ErrInvalidToken)
	_, err = r.svc.SecondStep(t.Context(), account.Resident, "garbage", mfa.MethodTOTP, code(), ip)
	wantErr(t, "garbage", err, mfa.ErrInvalidToken)

	enroll, _ := r.svc.IssueToken(t.Context(), res, mfa.ForEnroll, res.Email, false)
	_, err = r.svc.SecondStep(t.Context(), account.Resident, enroll.Value, mfa.MethodTOTP, code(), ip)
	wantErr(t, "an enrollment token at login", err, mfa.ErrInvalidToken)

	expiring := r.token(t, res)
	r.clock.Advance(mfa.TokenTTL)
	_, err = r.svc.SecondStep(t.Context(), account.Resident, expiring, mfa.MethodTOTP, code(), ip)
	wantErr(t, "an expired token", err, mfa.ErrInvalidToken)

	// A password reset between the two steps (the epoch moves) refuses the token.
	tok := r.token(t, res)
	if _, err := r.store.EndSessions(t.Context(), account.Resident, res.ID, nil); err != nil {
		t.Fatal(err)
	}
	_, err = r.svc.SecondStep(t.Context(), account.Resident, tok, mfa.MethodTOTP, code(), ip)
	wantErr(t, "a token from before the account's sessions ended", err, mfa.ErrInvalidToken)

	fresh, _ := r.store.GetAccount(t.Context(), account.Resident, res.ID)
	used, _ := r.svc.IssueToken(t.Context(), fresh, mfa.ForLogin, fresh.Email, false)
	if _, err := r.svc.SecondStep(t.Context(), account.Resident, used.Value, mfa.MethodTOTP, code(), ip); err != nil {
		t.Fatalf("SecondStep: %v", err)
	}
	r.clock.Advance(30 * time.Second)
	_, err = r.svc.SecondStep(t.Context(), account.Resident, used.Value, mfa.MethodTOTP, code(), ip)
	wantErr(t, "a used token", err, mfa.ErrInvalidToken)
}

// race runs op(0) … op(n-1) at once and returns how many passed.
func race(n int, op func(i int) error) (passed int, errs []error) {
	errs = make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = op(i)
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err == nil {
			passed++
		}
	}
	return passed, errs
}

// TestConcurrentSecondSteps: one code in two logins at once, one token
// used twice at once, one recovery code in two logins at once: each time
// exactly one passes.
func TestConcurrentSecondSteps(t *testing.T) {
	r := newRig(t, mfa.Policy{AdminRequired: true})
	a := r.account(t, account.Admin)
	secret, codes := r.enrolled(t, a)
	r.clock.Advance(30 * time.Second)
	c := r.code(t, secret, r.clock.Now())

	toks := []string{r.token(t, a), r.token(t, a), r.token(t, a), r.token(t, a)}
	if n, errs := race(len(toks), func(i int) error {
		_, err := r.svc.SecondStep(t.Context(), account.Admin, toks[i], mfa.MethodTOTP, c, ip)
		return err
	}); n != 1 {
		t.Errorf("one code in %d logins at once: %d passed (%v)", len(toks), n, errs)
	}

	r.clock.Advance(30 * time.Second)
	c = r.code(t, secret, r.clock.Now())
	tok := r.token(t, a)
	if n, errs := race(4, func(int) error {
		_, err := r.svc.SecondStep(t.Context(), account.Admin, tok, mfa.MethodTOTP, c, ip)
		return err
	}); n != 1 {
		t.Errorf("one token used 4 times at once: %d passed (%v)", n, errs)
	}

	toks = []string{r.token(t, a), r.token(t, a), r.token(t, a)}
	if n, errs := race(len(toks), func(i int) error {
		_, err := r.svc.SecondStep(t.Context(), account.Admin, toks[i], mfa.MethodRecovery, codes[3], ip)
		return err
	}); n != 1 {
		t.Errorf("one recovery code in %d logins at once: %d passed (%v)", len(toks), n, errs)
	}
}

func TestRecoveryStep(t *testing.T) {
	r := newRig(t, mfa.Policy{})
	a := r.account(t, account.Resident)
	_, codes := r.enrolled(t, a)
	typed := " " + codes[0][:4] + " " + codes[0][4:] + " " // as read off paper, spaced
	p, err := r.svc.SecondStep(t.Context(), account.Resident, r.token(t, a), mfa.MethodRecovery, typed, ip)
	if err != nil || p.Method != mfa.MethodRecovery || p.RecoveryLeft != mfa.RecoveryCount-1 {
		t.Fatalf("SecondStep(recovery) = %+v, %v", p, err)
	}
	_, err = r.svc.SecondStep(t.Context(), account.Resident, r.token(t, a), mfa.MethodRecovery, codes[0], ip)
	wantErr(t, "a recovery code twice", err, mfa.ErrInvalidCode)
	_, err = r.svc.SecondStep(t.Context(), account.Resident, r.token(t, a), "sms", "123456", ip)
	wantErr(t, "an unknown method", err, mfa.ErrInvalidCode)

	// New codes (after a reauth) replace the old ones.
	_, err = r.svc.NewRecoveryCodes(t.Context(), a, r.clock.Now().Add(-mfa.ReauthWindow-time.Second))
	wantErr(t, "new codes without a recent reauth", err, mfa.ErrReauthRequired)
	fresh, err := r.svc.NewRecoveryCodes(t.Context(), a, r.clock.Now())
	if err != nil || len(fresh) != mfa.RecoveryCount {
		t.Fatalf("NewRecoveryCodes = %v, %v", fresh, err)
	}
	_, err = r.svc.SecondStep(t.Context(), account.Resident, r.token(t, a), mfa.MethodRecovery, codes[1], ip)
	wantErr(t, "a replaced code", err, mfa.ErrInvalidCode)
	if _, err := r.svc.SecondStep(t.Context(), account.Resident, r.token(t, a), mfa.MethodRecovery, fresh[9], ip); err != nil {
		t.Errorf("a new code: %v", err)
	}
}

func TestRemoveFactor(t *testing.T) {
	r := newRig(t, mfa.Policy{AdminRequired: true})
	adm := r.account(t, account.Admin)
	r.enrolled(t, adm)
	o, _ := r.svc.Overview(t.Context(), adm)
	id := o.Factors[0].ID
	now := r.clock.Now()

	_, err := r.svc.RemoveFactor(t.Context(), adm, now.Add(-mfa.ReauthWindow-time.Second), id)
	wantErr(t, "removal without a recent reauth", err, mfa.ErrReauthRequired)
	_, err = r.svc.RemoveFactor(t.Context(), adm, time.Time{}, id)
	wantErr(t, "removal by a session that never reauthenticated", err, mfa.ErrReauthRequired)
	_, err = r.svc.RemoveFactor(t.Context(), adm, now, id)
	wantErr(t, "an admin's last factor", err, mfa.ErrLastFactor)
	_, err = r.svc.RemoveFactor(t.Context(), adm, now, account.NewID())
	wantErr(t, "an unknown factor", err, store.ErrNotFound)

	// A resident may remove the last factor; the recovery codes go with it.
	res := r.account(t, account.Resident)
	_, codes := r.enrolled(t, res)
	ro, _ := r.svc.Overview(t.Context(), res)
	if _, err := r.svc.RemoveFactor(t.Context(), res, now, ro.Factors[0].ID); err != nil {
		t.Fatalf("a resident's last factor: %v", err)
	}
	if d, _ := r.svc.LoginStep(t.Context(), res); !d.None() {
		t.Errorf("the resident's login still needs %+v", d)
	}
	_, err = r.svc.SecondStep(t.Context(), account.Resident, r.token(t, res), mfa.MethodRecovery, codes[0], ip)
	wantErr(t, "a recovery code of a removed last factor", err, mfa.ErrInvalidCode)
	_, err = r.svc.NewRecoveryCodes(t.Context(), res, now)
	wantErr(t, "new codes without a factor", err, mfa.ErrNoFactor)
}

// TestRemoveLastTwoConcurrently: an admin with two factors removes both
// at once: one removal passes, so the admin keeps a factor.
func TestRemoveLastTwoConcurrently(t *testing.T) {
	r := newRig(t, mfa.Policy{AdminRequired: true})
	a := r.account(t, account.Admin)
	r.enrolled(t, a)
	r.clock.Advance(30 * time.Second)
	r.enrolled(t, a)
	o, _ := r.svc.Overview(t.Context(), a)
	if len(o.Factors) != 2 {
		t.Fatalf("%d factors, want 2", len(o.Factors))
	}
	n, errs := race(2, func(i int) error {
		_, err := r.svc.RemoveFactor(t.Context(), a, r.clock.Now(), o.Factors[i].ID)
		return err
	})
	if n != 1 {
		t.Fatalf("%d removals passed (%v), want 1", n, errs)
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, mfa.ErrLastFactor) {
			t.Errorf("the other removal: %v, want ErrLastFactor", err)
		}
	}
	if o, _ := r.svc.Overview(t.Context(), a); len(o.Factors) != 1 {
		t.Errorf("%d factors left, want 1", len(o.Factors))
	}
}

// TestSecretResealedAfterRotation: a TOTP factor enrolled under an old
// data key still passes when that key is given as previous, and is sealed
// again under the new key at that use, so the old key can then go.
func TestSecretResealedAfterRotation(t *testing.T) {
	r := newRig(t, mfa.Policy{})
	a := r.account(t, account.Resident)
	secret, _ := r.enrolled(t, a)
	before, _ := r.svc.Overview(t.Context(), a)

	oldKey, newKey := bytes.Repeat([]byte{7}, 32), bytes.Repeat([]byte{8}, 32)
	tk, _ := token.NewKeys(newKey, oldKey)
	mk, _ := mfa.NewKeys(newKey, oldKey)
	rotated := mfa.NewService(mfa.Deps{Store: r.store, Accounts: r.store, Keys: mk, Tokens: tk, Guard: r.guard, Clock: r.clock, TOTP: totp.App{}})
	r.clock.Advance(30 * time.Second)
	tok, _ := rotated.IssueToken(t.Context(), a, mfa.ForLogin, a.Email, false)
	if _, err := rotated.SecondStep(t.Context(), account.Resident, tok.Value, mfa.MethodTOTP, r.code(t, secret, r.clock.Now()), ip); err != nil {
		t.Fatalf("during the rotation: %v", err)
	}
	after, _ := r.svc.Overview(t.Context(), a)
	if after.Factors[0].Secret == before.Factors[0].Secret {
		t.Error("the secret was not sealed again under the new key")
	}

	tk2, _ := token.NewKeys(newKey)
	mk2, _ := mfa.NewKeys(newKey)
	next := mfa.NewService(mfa.Deps{Store: r.store, Accounts: r.store, Keys: mk2, Tokens: tk2, Guard: r.guard, Clock: r.clock, TOTP: totp.App{}})
	r.clock.Advance(30 * time.Second)
	tok, _ = next.IssueToken(t.Context(), a, mfa.ForLogin, a.Email, false)
	if _, err := next.SecondStep(t.Context(), account.Resident, tok.Value, mfa.MethodTOTP, r.code(t, secret, r.clock.Now()), ip); err != nil {
		t.Errorf("after the old key is dropped: %v", err)
	}
}
