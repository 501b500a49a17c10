package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/store/backend"
	"github.com/ekolek/identity/shared/store/embedded"
	"github.com/ekolek/identity/shared/throttle"
)

// openEmbedded opens an embedded store of the test's own, for a test that
// wraps it; it is closed when the test ends, after the env's own clean-up.
func openEmbedded(t *testing.T) *embedded.Store {
	t.Helper()
	real, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = real.Close() })
	return real
}

// flakyStore is the real embedded store with a switch: when armed, its nth
// call from then on fails with store.ErrUnavailable before touching anything,
// like a DynamoDB call that never arrived.
type flakyStore struct {
	backend.Store
	mu     sync.Mutex
	calls  int
	failAt int // 0: never
	// failMethod, when set, fails the first call of that method instead.
	failMethod string
	// down keeps failing every call from failAt on, as a store that stays
	// down does (so nothing can be undone after the first failure).
	down   bool
	failed string // the first method that failed, "" if none
}

// armMethod fails the next call of the named method (only that one).
func (f *flakyStore) armMethod(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls, f.failAt, f.failMethod, f.failed = 0, 0, name, ""
}

func (f *flakyStore) arm(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls, f.failAt, f.failed = 0, n, ""
}

// disarm stops failures and says which method failed since arm ("" for none).
func (f *flakyStore) disarm() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failAt, f.failMethod = 0, ""
	return f.failed
}

func (f *flakyStore) check() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	pc, _, _, _ := runtime.Caller(1)
	name := runtime.FuncForPC(pc).Name()
	name = name[strings.LastIndexByte(name, '.')+1:]
	if f.failMethod != "" && f.failMethod == name {
		f.failMethod, f.failed = "", name
		return fmt.Errorf("%w: injected failure", store.ErrUnavailable)
	}
	if f.failAt > 0 && (f.calls == f.failAt || f.down && f.calls > f.failAt) {
		if f.failed == "" {
			f.failed = name
		}
		return fmt.Errorf("%w: injected failure", store.ErrUnavailable)
	}
	return nil
}

func (f *flakyStore) Hit(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (throttle.Counter, error) {
	if err := f.check(); err != nil {
		return throttle.Counter{}, err
	}
	return f.Store.Hit(ctx, key, limit, window, now)
}

func (f *flakyStore) Peek(ctx context.Context, key string, now time.Time) (throttle.Counter, error) {
	if err := f.check(); err != nil {
		return throttle.Counter{}, err
	}
	return f.Store.Peek(ctx, key, now)
}

func (f *flakyStore) Release(ctx context.Context, key string, now time.Time) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.Release(ctx, key, now)
}

func (f *flakyStore) Clear(ctx context.Context, key string) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.Clear(ctx, key)
}

func (f *flakyStore) Refund(ctx context.Context, c throttle.Charge) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.Refund(ctx, c)
}

func (f *flakyStore) PutCode(ctx context.Context, r code.Record, m outbox.Message) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.PutCode(ctx, r, m)
}

func (f *flakyStore) GetCode(ctx context.Context, realm account.Realm, id string, p code.Purpose) (code.Record, error) {
	if err := f.check(); err != nil {
		return code.Record{}, err
	}
	return f.Store.GetCode(ctx, realm, id, p)
}

func (f *flakyStore) ReserveAttempt(ctx context.Context, r code.Record) (int, error) {
	if err := f.check(); err != nil {
		return 0, err
	}
	return f.Store.ReserveAttempt(ctx, r)
}

func (f *flakyStore) MarkCodeVerified(ctx context.Context, r code.Record, exp time.Time) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.MarkCodeVerified(ctx, r, exp)
}

func (f *flakyStore) PutMessage(ctx context.Context, m outbox.Message) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.PutMessage(ctx, m)
}

func (f *flakyStore) VerifyContact(ctx context.Context, a account.Account, r code.Record) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.VerifyContact(ctx, a, r)
}

func (f *flakyStore) ResetPassword(ctx context.Context, a account.Account, r code.Record, keep []string) (int, error) {
	if err := f.check(); err != nil {
		return 0, err
	}
	return f.Store.ResetPassword(ctx, a, r, keep)
}

func (f *flakyStore) AppendEvent(ctx context.Context, e audit.Event, exp time.Time) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.AppendEvent(ctx, e, exp)
}

func (f *flakyStore) CreateAccount(ctx context.Context, a account.Account) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.CreateAccount(ctx, a)
}

func (f *flakyStore) GetAccount(ctx context.Context, r account.Realm, id string) (account.Account, error) {
	if err := f.check(); err != nil {
		return account.Account{}, err
	}
	return f.Store.GetAccount(ctx, r, id)
}

func (f *flakyStore) LookupIdentifier(ctx context.Context, r account.Realm, id account.Identifier) (string, error) {
	if err := f.check(); err != nil {
		return "", err
	}
	return f.Store.LookupIdentifier(ctx, r, id)
}

func (f *flakyStore) UpdateAccount(ctx context.Context, a account.Account) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.UpdateAccount(ctx, a)
}

func (f *flakyStore) UpdateAccountEndSessions(ctx context.Context, a account.Account) (int, error) {
	if err := f.check(); err != nil {
		return 0, err
	}
	return f.Store.UpdateAccountEndSessions(ctx, a)
}

func (f *flakyStore) UpdateAccountEndSessionsExcept(ctx context.Context, a account.Account, keep []string) (int, error) {
	if err := f.check(); err != nil {
		return 0, err
	}
	return f.Store.UpdateAccountEndSessionsExcept(ctx, a, keep)
}

func (f *flakyStore) ListAccounts(ctx context.Context, q account.ListQuery) ([]account.Account, string, error) {
	if err := f.check(); err != nil {
		return nil, "", err
	}
	return f.Store.ListAccounts(ctx, q)
}

func (f *flakyStore) CreateSession(ctx context.Context, s session.Session) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.CreateSession(ctx, s)
}

func (f *flakyStore) ReplaceSession(ctx context.Context, s session.Session, oldAccountID, oldKey string) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.ReplaceSession(ctx, s, oldAccountID, oldKey)
}

func (f *flakyStore) GetSession(ctx context.Context, r account.Realm, id, key string) (session.Session, account.Account, error) {
	if err := f.check(); err != nil {
		return session.Session{}, account.Account{}, err
	}
	return f.Store.GetSession(ctx, r, id, key)
}

func (f *flakyStore) TouchSession(ctx context.Context, s session.Session, seen, idle time.Time) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.TouchSession(ctx, s, seen, idle)
}

func (f *flakyStore) DeleteSession(ctx context.Context, r account.Realm, id, key string) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.Store.DeleteSession(ctx, r, id, key)
}

func (f *flakyStore) ListSessions(ctx context.Context, r account.Realm, id string) ([]session.Session, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	return f.Store.ListSessions(ctx, r, id)
}

func (f *flakyStore) EndSessions(ctx context.Context, r account.Realm, id string, keep []string) (int, error) {
	if err := f.check(); err != nil {
		return 0, err
	}
	return f.Store.EndSessions(ctx, r, id, keep)
}

// snapshot is everything in the store, read around the switch.
func snapshot(t *testing.T, s backend.Store) string {
	t.Helper()
	ctx := context.Background()
	var out []any
	for _, realm := range []account.Realm{account.Resident, account.Admin} {
		cursor := ""
		for {
			page, next, err := s.ListAccounts(ctx, account.ListQuery{Realm: realm, Limit: 100, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range page {
				ss, err := s.ListSessions(ctx, realm, a.ID)
				if err != nil {
					t.Fatal(err)
				}
				enrollment, factors, err := s.Factors(ctx, realm, a.ID)
				if err != nil {
					t.Fatal(err)
				}
				for i, f := range factors {
					// A factor's use (a TOTP step, a passkey's counter)
					// is a counter too: a second step spends it before
					// its session is written, and a use stays spent when
					// that write fails (else a failure would hand out a
					// second use of one code).
					f.LastStep, f.LastUsedAt = 0, time.Time{}
					if f.Passkey != nil {
						p := *f.Passkey
						p.SignCount, p.BackupState = 0, false
						f.Passkey = &p
					}
					factors[i] = f
				}
				out = append(out, a, ss, enrollment, factors)
				for _, p := range []code.Purpose{code.VerifyEmail, code.VerifyPhone, code.PasswordReset} {
					if r, err := s.GetCode(ctx, realm, a.ID, p); err == nil {
						// A code's try count is a counter like the throttle
						// counters this snapshot leaves out: a try the store
						// saw is counted before the code is compared, and
						// stays counted when a later step fails (else a
						// failure would hand out extra tries).
						r.Attempts = 0
						out = append(out, r)
					}
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	// The outbox: a request that failed queued no message.
	ms, err := s.ListMessages(ctx, time.Unix(0, 0), time.Now().Add(24*365*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, ms)
	data, _ := json.Marshal(out)
	return string(data)
}

// scenario is one request under a failing store.
type scenario struct {
	name string
	// act is the request under test, after a healthy set-up.
	act    func(e *env, b *browser, id string) *response
	status int
	// bestEffort names store calls whose failure the route survives by
	// design (queueing a message, and giving back its send limits when it
	// was not queued): it still answers status.
	bestEffort []string
	// selfArm scenarios make set-up requests of their own and call
	// e.armFailure just before the request under test.
	selfArm bool
}

// Every route, with its store failing at each of its calls in turn, answers
// 503 and leaves the store exactly as it was.
func TestStoreFailureChangesNothing(t *testing.T) {
	t.Parallel()
	scenarios := []scenario{
		{"register", func(e *env, b *browser, _ string) *response {
			return b.do("POST", "/v1/resident/register", map[string]string{"first_name": "Maria", "last_name": "Santos",
				"email": "maria@example.com", "phone": "09181234567", "barangay": "Poblacion", "password": "sampaguita jeepney harbor 77"})
		}, 201, []string{"Hit", "PutCode", "Refund"}, false},
		{"verify contact", func(e *env, b *browser, _ string) *response {
			e.clock.Advance(2 * time.Minute)
			b.do("POST", "/v1/resident/register/resend", map[string]string{"identifier": "09171234567"})
			c, _ := e.lastCode("+639171234567")
			e.armFailure()
			return b.do("POST", "/v1/resident/register/verify", map[string]string{"identifier": "09171234567", "code": c})
		}, 204, nil, true},
		{"reset request", func(e *env, b *browser, _ string) *response {
			return b.do("POST", "/v1/resident/password-reset", map[string]string{"identifier": "juan@example.com", "channel": "email"})
		}, 202, []string{"Hit", "PutCode", "Refund"}, false},
		{"reset verify", func(e *env, b *browser, _ string) *response {
			b.do("POST", "/v1/resident/password-reset", map[string]string{"identifier": "juan@example.com", "channel": "email"})
			c, _ := e.lastCode("juan@example.com")
			e.armFailure()
			return b.do("POST", "/v1/resident/password-reset/verify", map[string]string{"identifier": "juan@example.com", "code": c})
		}, 200, nil, true},
		{"reset confirm", func(e *env, b *browser, _ string) *response {
			b.do("POST", "/v1/resident/password-reset", map[string]string{"identifier": "juan@example.com", "channel": "email"})
			c, _ := e.lastCode("juan@example.com")
			r := b.do("POST", "/v1/resident/password-reset/verify", map[string]string{"identifier": "juan@example.com", "code": c})
			e.armFailure()
			return b.do("POST", "/v1/resident/password-reset/confirm", map[string]string{"reset_token": r.str("reset_token"), "new_password": "kalabasa sitaw talong 2026"})
		}, 204, []string{"PutMessage", "Clear"}, true}, // Clear: lifting the login lock after the reset committed
		{"login", func(e *env, b *browser, _ string) *response {
			return e.browser().login("resident", "juan@example.com", residentPassword)
		}, 200, nil, false},
		{"login over a presented session", func(e *env, b *browser, _ string) *response {
			return b.login("resident", "juan@example.com", residentPassword)
		}, 200, nil, false},
		{"logout", func(e *env, b *browser, _ string) *response { return b.logout("resident") }, 204, nil, false},
		{"session", func(e *env, b *browser, _ string) *response { return b.session("resident") }, 200, nil, false},
		{"session after idle expiry", func(e *env, b *browser, _ string) *response {
			e.clock.Advance(3 * time.Hour)
			return b.session("resident")
		}, 401, nil, false},
		{"list residents", func(e *env, b *browser, _ string) *response {
			return b.do("GET", "/v1/admin/residents", nil)
		}, 200, nil, false},
		{"suspend", func(e *env, b *browser, id string) *response {
			return b.do("POST", "/v1/admin/residents/"+id+"/suspend", nil)
		}, 200, nil, false},
	}
	runScenarios(t, scenarios)
}

// runScenarios runs each scenario with the store failing once (blip) and
// from then on (down), in parallel.
func runScenarios(t *testing.T, scenarios []scenario) {
	for _, sc := range scenarios {
		for _, down := range []bool{false, true} {
			mode := "blip"
			if down {
				mode = "down"
			}
			t.Run(sc.name+"/"+mode, func(t *testing.T) {
				t.Parallel() // each attempt builds its own store and env
				runScenario(t, sc, down)
			})
		}
	}
}

// runScenario fails the store at each call of the request in turn (once, or
// from then on) and checks the answer and the store.
func runScenario(t *testing.T, sc scenario, down bool) {
	for n := 1; ; n++ {
		dir := t.TempDir()
		real, err := embedded.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		// Closed after the env's own clean-up, which still reads it.
		t.Cleanup(func() { _ = real.Close() })
		flaky := &flakyStore{Store: real, down: down}
		e := newEnv(t, withStore(flaky))
		id := e.verifiedResident(false)
		b := e.browser()
		b.mustLogin("resident", "juan@example.com", residentPassword)
		b.mustLogin("admin", "boss", adminPassword)
		var before string
		e.armFailure = func() {
			before = snapshot(t, real)
			flaky.arm(n)
		}
		if !sc.selfArm {
			e.armFailure()
		}
		r := sc.act(e, b, id)
		failed := flaky.disarm()
		// Best-effort steps (sending a message; storing a security event,
		// which is logged instead) may fail while the request succeeds. The
		// same method may also serve a step that is not best effort (a
		// throttle counter), which must answer 503 as below.
		if failed != "" && (slices.Contains(sc.bestEffort, failed) || failed == "AppendEvent") && r.status == sc.status {
			continue
		}
		if failed == "" {
			if r.status != sc.status {
				t.Fatalf("healthy store: %d %s, want %d", r.status, r.body, sc.status)
			}
			return
		}
		if r.status != 503 || r.errCode() != "unavailable" || r.header.Get("Retry-After") == "" {
			t.Fatalf("store call %d (%s) failed: got %d %s, want 503 unavailable with Retry-After", n, failed, r.status, r.body)
		}
		if after := snapshot(t, real); after != before {
			t.Fatalf("store call %d (%s) failed and the store changed:\nbefore %s\nafter  %s", n, failed, before, after)
		}
	}
}
