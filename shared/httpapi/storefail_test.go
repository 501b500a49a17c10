package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/store/embedded"
)

// flakyStore is the real embedded store with a switch: when armed, its nth
// call from then on fails with store.ErrUnavailable before touching anything,
// like a DynamoDB call that never arrived.
type flakyStore struct {
	app.Store
	mu     sync.Mutex
	calls  int
	failAt int // 0: never
	failed bool
}

func (f *flakyStore) arm(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls, f.failAt, f.failed = 0, n, false
}

// disarm stops failures and reports whether one was injected since arm.
func (f *flakyStore) disarm() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failAt = 0
	return f.failed
}

func (f *flakyStore) check() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.failAt > 0 && f.calls == f.failAt {
		f.failed = true
		return fmt.Errorf("%w: injected failure", store.ErrUnavailable)
	}
	return nil
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

func (f *flakyStore) DeleteSessions(ctx context.Context, r account.Realm, id string) (int, error) {
	if err := f.check(); err != nil {
		return 0, err
	}
	return f.Store.DeleteSessions(ctx, r, id)
}

// snapshot is everything in the store, read around the switch.
func snapshot(t *testing.T, s app.Store) string {
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
				out = append(out, a, ss)
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	data, _ := json.Marshal(out)
	return string(data)
}

// Every route, with its store failing at each of its calls in turn, answers
// 503 and leaves the store exactly as it was.
func TestStoreFailureChangesNothing(t *testing.T) {
	type scenario struct {
		name string
		// setup prepares state with the store healthy; act is the request under test.
		act    func(e *env, b *browser, id string) *response
		status int
	}
	scenarios := []scenario{
		{"register", func(e *env, b *browser, _ string) *response {
			return b.do("POST", "/v1/resident/register", map[string]string{"first_name": "Maria", "last_name": "Santos",
				"email": "maria@example.com", "phone": "09181234567", "barangay": "Poblacion", "password": "sampaguita jeepney harbor 77"})
		}, 201},
		{"login", func(e *env, b *browser, _ string) *response {
			return e.browser().login("resident", "juan@example.com", residentPassword)
		}, 200},
		{"login over a presented session", func(e *env, b *browser, _ string) *response {
			return b.login("resident", "juan@example.com", residentPassword)
		}, 200},
		{"logout", func(e *env, b *browser, _ string) *response { return b.logout("resident") }, 204},
		{"session", func(e *env, b *browser, _ string) *response { return b.session("resident") }, 200},
		{"session after idle expiry", func(e *env, b *browser, _ string) *response {
			e.clock.Advance(3 * time.Hour)
			return b.session("resident")
		}, 401},
		{"list residents", func(e *env, b *browser, _ string) *response {
			return b.do("GET", "/v1/admin/residents", nil)
		}, 200},
		{"suspend", func(e *env, b *browser, id string) *response {
			return b.do("POST", "/v1/admin/residents/"+id+"/suspend", nil)
		}, 200},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			for n := 1; ; n++ {
				dir := t.TempDir()
				real, err := embedded.Open(dir)
				if err != nil {
					t.Fatal(err)
				}
				flaky := &flakyStore{Store: real}
				e := newEnv(t, withStore(flaky))
				id := e.approvedResident()
				b := e.browser()
				b.mustLogin("resident", "juan@example.com", residentPassword)
				b.mustLogin("admin", "boss", adminPassword)
				before := snapshot(t, real)
				flaky.arm(n)
				r := sc.act(e, b, id)
				if !flaky.disarm() {
					if r.status != sc.status {
						t.Fatalf("healthy store: %d %s, want %d", r.status, r.body, sc.status)
					}
					_ = real.Close()
					return
				}
				if r.status != 503 || r.errCode() != "unavailable" || r.header.Get("Retry-After") == "" {
					t.Fatalf("store call %d failed: got %d %s, want 503 unavailable with Retry-After", n, r.status, r.body)
				}
				if after := snapshot(t, real); after != before {
					t.Fatalf("store call %d failed and the store changed:\nbefore %s\nafter  %s", n, before, after)
				}
				_ = real.Close()
			}
		})
	}
}
