package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/httpapi"
	"github.com/ekolek/identity/shared/store/backend"
	"github.com/ekolek/identity/shared/store/embedded"
	"github.com/ekolek/identity/shared/throttle"
)

// stalledStore is the embedded store whose limit checks, when stalled,
// hang until the request's context ends and then return its bare error,
// as a DynamoDB call to a paused server would if nothing mapped it.
type stalledStore struct {
	backend.Store
	stalled atomic.Bool
}

func (s *stalledStore) wait(ctx context.Context) error {
	if !s.stalled.Load() {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

func (s *stalledStore) Hit(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (throttle.Counter, error) {
	if err := s.wait(ctx); err != nil {
		return throttle.Counter{}, err
	}
	return s.Store.Hit(ctx, key, limit, window, now)
}

func (s *stalledStore) Peek(ctx context.Context, key string, now time.Time) (throttle.Counter, error) {
	if err := s.wait(ctx); err != nil {
		return throttle.Counter{}, err
	}
	return s.Store.Peek(ctx, key, now)
}

func withRequestTimeout(d time.Duration) envOption {
	return func(c *config.Config, _ *app.Options) { c.RequestTimeout = d }
}

// A request whose store hangs answers 503 unavailable with Retry-After
// when its budget (EKOLEK_REQUEST_TIMEOUT, here 300 ms) runs out, not
// when the store wakes up, and the next request after it is served.
func TestRequestDeadlineWithoutInvocationDeadline(t *testing.T) {
	emb, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emb.Close() })
	st := &stalledStore{Store: emb}
	e := newEnv(t, withStore(st), withRequestTimeout(300*time.Millisecond))
	b := e.browser()

	st.stalled.Store(true)
	start := time.Now()
	res := b.login("resident", "nobody@example.com", "correct horse battery")
	took := time.Since(start)
	if res.status != http.StatusServiceUnavailable || res.errCode() != "unavailable" || res.header.Get("Retry-After") == "" {
		t.Fatalf("stalled login: %d %s Retry-After=%q, want 503 unavailable with Retry-After", res.status, res.errCode(), res.header.Get("Retry-After"))
	}
	if took < 300*time.Millisecond || took > time.Second {
		t.Errorf("stalled login answered after %v, want about the 300ms budget", took)
	}

	st.stalled.Store(false)
	if res := b.login("resident", "nobody@example.com", "correct horse battery"); res.status != http.StatusUnauthorized {
		t.Errorf("login after the stall: %d %s, want 401", res.status, res.errCode())
	}
}

// Under Lambda the invocation's deadline bounds the request, less
// AnswerMargin to answer in: a 1.5 s invocation stops at about 1 s.
func TestRequestDeadlineFromInvocation(t *testing.T) {
	emb, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emb.Close() })
	st := &stalledStore{Store: emb}
	// A budget far longer than the invocation: the invocation must win.
	e := newEnv(t, withStore(st), withRequestTimeout(time.Minute))
	h, err := e.app.Handler("login")
	if err != nil {
		t.Fatal(err)
	}
	st.stalled.Store(true)
	// From before the invocation's deadline is set, so that a busy
	// machine's delay before ServeHTTP is not taken off the wait.
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	req := httptest.NewRequest(http.MethodPost, "/v1/resident/login", strings.NewReader(`{"identifier":"nobody@example.com","password":"correct horse battery"}`)).WithContext(ctx)
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	took := time.Since(start)
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), `"unavailable"`) {
		t.Fatalf("stalled login under an invocation deadline: %d %s", w.Code, w.Body)
	}
	if want := 1500*time.Millisecond - httpapi.AnswerMargin; took < want || took > want+300*time.Millisecond {
		t.Errorf("answered after %v, want about %v (the invocation's 1.5s less AnswerMargin)", took, want)
	}
	if ctx.Err() != nil {
		t.Errorf("answered after the invocation's deadline")
	}
}
