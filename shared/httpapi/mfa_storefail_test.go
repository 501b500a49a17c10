package httpapi_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/mfa"
	"github.com/ekolek/identity/shared/session"
)

// The second factor's store calls, failing when flakyStore is armed.

func (f *flakyStore) Factors(ctx context.Context, r account.Realm, id string) (mfa.Enrollment, []mfa.Factor, error) {
	if err := f.check(); err != nil {
		return mfa.Enrollment{}, nil, err
	}
	return f.Store.Factors(ctx, r, id)
}

func (f *flakyStore) GetFactor(ctx context.Context, r account.Realm, accountID, id string) (mfa.Factor, error) {
	if err := f.check(); err != nil {
		return mfa.Factor{}, err
	}
	return f.Store.GetFactor(ctx, r, accountID, id)
}

func (f *flakyStore) CreateFactor(ctx context.Context, x mfa.Factor) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.CreateFactor(ctx, x)
}

func (f *flakyStore) ConfirmFactor(ctx context.Context, x mfa.Factor, e mfa.Enrollment) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.ConfirmFactor(ctx, x, e)
}

func (f *flakyStore) RemoveFactor(ctx context.Context, x mfa.Factor, e mfa.Enrollment) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.RemoveFactor(ctx, x, e)
}

func (f *flakyStore) ReplaceRecovery(ctx context.Context, e mfa.Enrollment) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.ReplaceRecovery(ctx, e)
}

func (f *flakyStore) Reauthenticate(ctx context.Context, s session.Session, at time.Time) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.Reauthenticate(ctx, s, at)
}

func (f *flakyStore) RenameFactor(ctx context.Context, x mfa.Factor) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.RenameFactor(ctx, x)
}

func (f *flakyStore) ClearFactors(ctx context.Context, a account.Account, e mfa.Enrollment, fs []mfa.Factor) (int, error) {
	if err := f.check(); err != nil {
		return 0, err
	}
	return f.Store.ClearFactors(ctx, a, e, fs)
}

func (f *flakyStore) UseRecoveryCode(ctx context.Context, r account.Realm, id, hash string) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.UseRecoveryCode(ctx, r, id, hash)
}

func (f *flakyStore) UseTOTPStep(ctx context.Context, x mfa.Factor, step int64) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.UseTOTPStep(ctx, x, step)
}

func (f *flakyStore) AddPasskey(ctx context.Context, x mfa.Factor, e mfa.Enrollment) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.AddPasskey(ctx, x, e)
}

func (f *flakyStore) UsePasskey(ctx context.Context, x mfa.Factor, read uint32) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.UsePasskey(ctx, x, read)
}

func (f *flakyStore) LookupPasskey(ctx context.Context, r account.Realm, credentialID []byte) (mfa.Factor, error) {
	if err := f.check(); err != nil {
		return mfa.Factor{}, err
	}
	return f.Store.LookupPasskey(ctx, r, credentialID)
}

func (f *flakyStore) PutCeremony(ctx context.Context, c mfa.Ceremony) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.PutCeremony(ctx, c)
}

func (f *flakyStore) TakeCeremony(ctx context.Context, r account.Realm, k string) (mfa.Ceremony, error) {
	if err := f.check(); err != nil {
		return mfa.Ceremony{}, err
	}
	return f.Store.TakeCeremony(ctx, r, k)
}

func (f *flakyStore) PutMFAToken(ctx context.Context, t mfa.TokenRecord) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.PutMFAToken(ctx, t)
}

func (f *flakyStore) GetMFAToken(ctx context.Context, r account.Realm, accountID, id string) (mfa.TokenRecord, error) {
	if err := f.check(); err != nil {
		return mfa.TokenRecord{}, err
	}
	return f.Store.GetMFAToken(ctx, r, accountID, id)
}

func (f *flakyStore) ReserveMFAAttempt(ctx context.Context, t mfa.TokenRecord) (int, error) {
	if err := f.check(); err != nil {
		return 0, err
	}
	return f.Store.ReserveMFAAttempt(ctx, t)
}

func (f *flakyStore) ReleaseMFAAttempt(ctx context.Context, t mfa.TokenRecord) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.ReleaseMFAAttempt(ctx, t)
}

func (f *flakyStore) RedeemMFAToken(ctx context.Context, t mfa.TokenRecord) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.RedeemMFAToken(ctx, t)
}

// confirmedFactor gives b's resident a confirmed TOTP factor and returns
// its id.
func confirmedFactor(e *env, b *browser) string {
	e.t.Helper()
	en := b.enrollTOTP("resident")
	if r := b.confirmTOTP("resident", en); r.status != 200 {
		e.t.Fatalf("confirm: %d %s", r.status, r.body)
	}
	return en.id
}

// Every second-factor route, with its store failing at each of its calls
// in turn, answers 503 and leaves the store exactly as it was.
func TestSecondFactorStoreFailureChangesNothing(t *testing.T) {
	t.Parallel()
	// The owner's notice is queued once the change has committed: a
	// failure to queue it is logged, and the change stands.
	notices := []string{"PutMessage"}
	scenarios := []scenario{
		{"mfa list", func(e *env, b *browser, _ string) *response { return b.do("GET", "/v1/resident/mfa", nil) }, 200, nil, false},
		{"mfa enroll", func(e *env, b *browser, _ string) *response {
			return b.do("POST", "/v1/resident/mfa/totp", map[string]string{"name": "Phone"})
		}, 200, nil, false},
		{"mfa confirm", func(e *env, b *browser, _ string) *response {
			en := b.enrollTOTP("resident")
			code := e.totpCode(en.secret)
			e.armFailure()
			return b.do("POST", "/v1/resident/mfa/totp/confirm", map[string]string{"id": en.id, "code": code})
		}, 200, notices, true},
		{"mfa recovery codes", func(e *env, b *browser, _ string) *response {
			confirmedFactor(e, b)
			e.armFailure()
			return b.do("POST", "/v1/resident/mfa/recovery-codes", nil)
		}, 200, notices, true},
		{"mfa remove", func(e *env, b *browser, _ string) *response {
			id := confirmedFactor(e, b)
			e.armFailure()
			return b.do("DELETE", "/v1/resident/mfa/"+id, nil)
		}, 204, notices, true},
		{"reauth", func(e *env, b *browser, _ string) *response {
			e.clock.Advance(time.Minute)
			return b.do("POST", "/v1/resident/reauth", map[string]string{"password": residentPassword})
		}, 200, nil, false},
		{"mfa rename", func(e *env, b *browser, _ string) *response {
			id := confirmedFactor(e, b)
			e.armFailure()
			return b.do("PATCH", "/v1/resident/mfa/"+id, map[string]string{"name": "Lola's phone"})
		}, 200, nil, true},
		{"login, a second step due", func(e *env, b *browser, _ string) *response {
			confirmedFactor(e, b)
			e.armFailure()
			return e.browser().login("resident", "juan@example.com", residentPassword)
		}, 200, nil, true},
		{"login's second step", func(e *env, b *browser, _ string) *response {
			en := b.enrollTOTP("resident")
			b.confirmTOTP("resident", en)
			e.nextStep()
			x := e.browser()
			tok := x.loginDue("resident", "juan@example.com", residentPassword).str("mfa_token")
			code := e.totpCode(en.secret)
			e.armFailure()
			return x.secondStep("resident", tok, "totp", code)
		}, 200, nil, true},
		{"passkey registration", func(e *env, b *browser, _ string) *response {
			answer, _, _ := authenticator().Create(b.options("/v1/resident/mfa/webauthn/options", ""))
			e.armFailure()
			return b.do("POST", "/v1/resident/mfa/webauthn", map[string]any{"credential": json.RawMessage(answer)})
		}, 200, notices, true},
		{"passkey login", func(e *env, b *browser, _ string) *response {
			authn := authenticator()
			b.registerPasskey("resident", authn, "")
			x := e.browser()
			answer := x.passkeyAnswer("resident", authn, "")
			e.armFailure()
			return x.passkeyLogin("resident", answer, "")
		}, 200, nil, true},
		{"mfa clear", func(e *env, b *browser, id string) *response {
			// b is the super admin's browser too.
			x := e.browser()
			x.mustLogin("resident", "juan@example.com", residentPassword)
			confirmedFactor(e, x)
			e.armFailure()
			return b.do("DELETE", "/v1/admin/accounts/resident/"+id+"/mfa", nil)
		}, 200, notices, true},
	}
	runScenarios(t, scenarios)
}
