package httpapi_test

import (
	"context"
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
		}, 200, nil, true},
		{"mfa recovery codes", func(e *env, b *browser, _ string) *response {
			confirmedFactor(e, b)
			e.armFailure()
			return b.do("POST", "/v1/resident/mfa/recovery-codes", nil)
		}, 200, nil, true},
		{"mfa remove", func(e *env, b *browser, _ string) *response {
			id := confirmedFactor(e, b)
			e.armFailure()
			return b.do("DELETE", "/v1/resident/mfa/"+id, nil)
		}, 204, nil, true},
		{"reauth", func(e *env, b *browser, _ string) *response {
			e.clock.Advance(time.Minute)
			return b.do("POST", "/v1/resident/reauth", map[string]string{"password": residentPassword})
		}, 200, nil, false},
	}
	runScenarios(t, scenarios)
}
