package throttle_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/store/embedded"
	"github.com/ekolek/identity/shared/throttle"
)

func newGuard(t testing.TB) (*throttle.Guard, *clock.Manual) {
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	clk := clock.NewManual(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC))
	return throttle.NewGuard(st, throttle.DefaultLimits, clk), clk
}

// BenchmarkBeginLogin is the throttle check every login pays before its
// password hash (a success clears the counter so every iteration is admitted).
func BenchmarkBeginLogin(b *testing.B) {
	g, _ := newGuard(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := g.BeginLogin(ctx, "resident", "email:juan@example.com", "203.0.113.7"); err != nil {
			b.Fatal(err)
		}
		if err := g.LoginSucceeded(ctx, "resident", "email:juan@example.com", "203.0.113.7"); err != nil {
			b.Fatal(err)
		}
	}
}

func refusal(t *testing.T, err error) *throttle.Refused {
	t.Helper()
	var r *throttle.Refused
	if !errors.As(err, &r) {
		t.Fatalf("got %v, want a refusal", err)
	}
	return r
}

func TestLockStartsAtTheFailureThatReachesTheLimit(t *testing.T) {
	g, clk := newGuard(t)
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		clk.Advance(2 * time.Minute)
		if err := g.BeginLogin(ctx, "admin", "username:boss", "198.51.100.1"); err != nil {
			t.Fatalf("attempt %d refused: %v", i, err)
		}
		locked, err := g.LoginFailed(ctx, "admin", "username:boss", "198.51.100.1")
		if err != nil || locked != (i == 5) {
			t.Fatalf("failure %d: locked=%v err=%v", i, locked, err)
		}
	}
	// Locked for 15 minutes from the fifth failure, not from the first.
	clk.Advance(14 * time.Minute)
	r := refusal(t, g.BeginLogin(ctx, "admin", "username:boss", "198.51.100.2"))
	if r.Limit != throttle.LoginIdentifier || r.RetryAfter != time.Minute || !r.Login() {
		t.Fatalf("refusal %+v", r)
	}
	// The other realm is not locked.
	if err := g.BeginLogin(ctx, "resident", "username:boss", "198.51.100.2"); err != nil {
		t.Fatalf("other realm: %v", err)
	}
	clk.Advance(time.Minute)
	if err := g.BeginLogin(ctx, "admin", "username:boss", "198.51.100.2"); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	if locked, _ := g.LoginFailed(ctx, "admin", "username:boss", "198.51.100.2"); locked {
		t.Fatal("one failure after a lock locked again")
	}
}

// Admission is counted before the hash: attempts in flight at once cannot
// all pass the limit.
func TestConcurrentAttemptsAreAdmittedUpToTheLimit(t *testing.T) {
	g, _ := newGuard(t)
	ctx := context.Background()
	admitted := 0
	for i := 0; i < 20; i++ {
		if g.BeginLogin(ctx, "resident", "email:juan@example.com", "203.0.113.7") == nil {
			admitted++
		}
	}
	if admitted != 5 {
		t.Fatalf("%d attempts admitted without any result yet, want 5", admitted)
	}
}

func TestIPLimitCountsFailuresNotSuccesses(t *testing.T) {
	g, _ := newGuard(t)
	ctx := context.Background()
	// 40 good logins from a shared address do not use up its allowance...
	for i := 0; i < 40; i++ {
		if err := g.BeginLogin(ctx, "resident", "email:r"+string(rune('a'+i%26))+"@example.com", "203.0.113.7"); err != nil {
			t.Fatalf("good login %d refused: %v", i, err)
		}
		if err := g.LoginSucceeded(ctx, "resident", "email:r"+string(rune('a'+i%26))+"@example.com", "203.0.113.7"); err != nil {
			t.Fatal(err)
		}
	}
	// ...but 30 failures (across both realms) do.
	for i := 0; i < 30; i++ {
		realm := []string{"resident", "admin"}[i%2]
		id := "email:x" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "@example.com"
		if err := g.BeginLogin(ctx, realm, id, "203.0.113.7"); err != nil {
			t.Fatalf("failure %d refused early: %v", i, err)
		}
		if _, err := g.LoginFailed(ctx, realm, id, "203.0.113.7"); err != nil {
			t.Fatal(err)
		}
	}
	r := refusal(t, g.BeginLogin(ctx, "resident", "email:new@example.com", "203.0.113.7"))
	if r.Limit != throttle.LoginIP {
		t.Fatalf("refusal %+v", r)
	}
	// IPv6 clients are counted by /64.
	for i := 0; i < 30; i++ {
		_ = g.BeginLogin(ctx, "resident", "email:v6@example.com"+string(rune('a'+i)), "2001:db8:1:2::"+string(rune('a'+i%6)))
	}
	refusal(t, g.BeginLogin(ctx, "resident", "email:other@example.com", "2001:db8:1:2:ffff::1"))
}

// TestSuccessesEarnNoCreditAcrossWindows: the old limit was 30 plus the
// successes of a separately timed window, so successes made late in one
// window raised the limit of the next: only failures count now.
func TestSuccessesEarnNoCreditAcrossWindows(t *testing.T) {
	g, clk := newGuard(t)
	ctx := context.Background()
	const ip = "203.0.113.7"
	fail := func(i int) error {
		id := "email:f" + strconv.Itoa(i) + "@example.com"
		if err := g.BeginLogin(ctx, "resident", id, ip); err != nil {
			return err
		}
		_, err := g.LoginFailed(ctx, "resident", id, ip)
		return err
	}
	if err := fail(0); err != nil {
		t.Fatal(err)
	}
	clk.Advance(10 * time.Minute)
	for i := range 60 {
		id := "email:ok" + strconv.Itoa(i%3) + "@example.com"
		if err := g.BeginLogin(ctx, "resident", id, ip); err != nil {
			t.Fatalf("right password %d refused: %v", i, err)
		}
		// A pending account's right password earns nothing either.
		right := g.LoginSucceeded
		if i%2 == 1 {
			right = g.LoginRefusedByStatus
		}
		if err := right(ctx, "resident", id, ip); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(6 * time.Minute) // the first window has ended
	for i := 1; i <= 30; i++ {
		if err := fail(i); err != nil {
			t.Fatalf("failure %d of the new window refused: %v", i, err)
		}
	}
	r := refusal(t, fail(31))
	if r.Limit != throttle.LoginIP {
		t.Fatalf("refusal %+v, want the IP limit", r)
	}
	// A right password from the throttled IP is refused too: the limit is
	// checked before the password.
	refusal(t, g.BeginLogin(ctx, "resident", "email:ok0@example.com", ip))
}
