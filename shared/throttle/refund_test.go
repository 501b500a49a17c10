package throttle_test

import (
	"context"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/store/embedded"
	"github.com/ekolek/identity/shared/throttle"
)

// stalledRefunds is a store whose refunds hang until their context ends,
// as on a DynamoDB that stopped answering.
type stalledRefunds struct{ *embedded.Store }

func (stalledRefunds) Refund(ctx context.Context, _ throttle.Charge) error {
	<-ctx.Done()
	return ctx.Err()
}

// A code's charges are given back even when the request's deadline has
// passed (that is usually why they are), and within the deadline and
// throttle.GiveBackTime more, however long the store takes: a request
// that gives them back still answers inside the time it keeps for that
// (httpapi.AnswerMargin).
func TestRefundAllFitsTheRequestsDeadline(t *testing.T) {
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	now := time.Now()
	c, err := st.Hit(t.Context(), "cooldown:r1", 1, time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	ended, cancel := context.WithDeadline(context.Background(), now.Add(-time.Second))
	defer cancel()
	if err := throttle.RefundAll(ended, st, []throttle.Charge{throttle.ChargeOf("cooldown:r1", c)}); err != nil {
		t.Fatalf("refund after the deadline: %v", err)
	}
	if c, _ := st.Peek(t.Context(), "cooldown:r1", now); c.Count != 0 {
		t.Errorf("after the refund the count is %d, want 0", c.Count)
	}

	stalled := stalledRefunds{st}
	for _, left := range []time.Duration{-time.Second, 300 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(context.Background(), left)
		start := time.Now()
		err := throttle.RefundAll(ctx, stalled, []throttle.Charge{{Key: "cooldown:r1", Ends: now.Add(time.Minute)}})
		cancel()
		took, want := time.Since(start), max(left, 0)+throttle.GiveBackTime
		if err == nil || took < want-10*time.Millisecond || took > want+150*time.Millisecond {
			t.Errorf("refund on a stalled store with %v left: %v after %v, want an error after %v", left, err, took, want)
		}
	}
}
