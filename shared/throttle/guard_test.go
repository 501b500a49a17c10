package throttle_test

import (
	"context"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/store/embedded"
	"github.com/ekolek/identity/shared/throttle"
)

// BenchmarkCheckLogin is the throttle check every login pays before its
// password hash: two counter reads on the embedded store.
func BenchmarkCheckLogin(b *testing.B) {
	st, err := embedded.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	g := throttle.NewGuard(st, throttle.DefaultLimits, clock.NewManual(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)))
	ctx := context.Background()
	if _, err := g.LoginFailed(ctx, "resident", "email:juan@example.com", "203.0.113.7"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := g.CheckLogin(ctx, "resident", "email:juan@example.com", "203.0.113.7"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLockStartsAtTheFailureThatReachesTheLimit(t *testing.T) {
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := clock.NewManual(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC))
	g := throttle.NewGuard(st, throttle.DefaultLimits, clk)
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		clk.Advance(2 * time.Minute)
		locked, err := g.LoginFailed(ctx, "admin", "username:boss", "198.51.100.1")
		if err != nil || locked != (i == 5) {
			t.Fatalf("failure %d: locked=%v err=%v", i, locked, err)
		}
	}
	// Locked for 15 minutes from the fifth failure, not from the first.
	clk.Advance(14 * time.Minute)
	var ref *throttle.Refused
	if err := g.CheckLogin(ctx, "admin", "username:boss", "198.51.100.2"); err == nil {
		t.Fatal("not locked 14 minutes after the fifth failure")
	} else if r, ok := err.(*throttle.Refused); !ok || r.RetryAfter != time.Minute {
		t.Fatalf("refusal %v (%T), want a minute left", err, err)
	} else {
		ref = r
	}
	if ref.Code != "too_many_attempts" || ref.Limit != "login_identifier" {
		t.Fatalf("refusal %+v", ref)
	}
	// The other realm is not locked.
	if err := g.CheckLogin(ctx, "resident", "username:boss", "198.51.100.2"); err != nil {
		t.Fatalf("other realm: %v", err)
	}
	clk.Advance(time.Minute)
	if err := g.CheckLogin(ctx, "admin", "username:boss", "198.51.100.2"); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	// Counting starts afresh after a lock.
	locked, _ := g.LoginFailed(ctx, "admin", "username:boss", "198.51.100.1")
	if locked {
		t.Fatal("one failure after a lock locked again")
	}
}
