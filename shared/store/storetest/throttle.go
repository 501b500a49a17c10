package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/throttle"
)

// wall is the current time in a non-UTC zone, without a monotonic reading.
// Tests of items that carry a TTL (counters, codes, the outbox) use times
// near it, so that no TTL sweep can remove an item during the test.
func wall() time.Time { return time.Now().Round(0).In(base.Location()) }

func hit(t *testing.T, s Store, k string, limit int, window time.Duration, now time.Time) throttle.Counter {
	t.Helper()
	c, err := s.Hit(ctx(t), k, limit, window, now)
	if err != nil {
		t.Fatalf("Hit(%q, limit %d) at %v: %v", k, limit, now, err)
	}
	return c
}

func peek(t *testing.T, s Store, k string, now time.Time) throttle.Counter {
	t.Helper()
	c, err := s.Peek(ctx(t), k, now)
	if err != nil {
		t.Fatalf("Peek(%q): %v", k, err)
	}
	return c
}

// wantCounter compares what a hit or peek returned; ResetAt to the millisecond.
func wantCounter(t *testing.T, what string, got throttle.Counter, count int, allowed bool, reset time.Time) {
	t.Helper()
	if got.Count != count || got.Allowed != allowed || !ms(got.ResetAt).Equal(ms(reset)) {
		t.Fatalf("%s = {Count %d, Allowed %v, ResetAt %v}; want {%d, %v, %v}",
			what, got.Count, got.Allowed, got.ResetAt, count, allowed, reset)
	}
}

func testHitWindow(t *testing.T, s Store) {
	const k = "code-sends:resident:r1:verify_email"
	now := wall()
	end := now.Add(time.Minute)
	wantCounter(t, "first hit", hit(t, s, k, 3, time.Minute, now), 1, true, end)
	// The window argument only matters when a window starts.
	wantCounter(t, "second hit", hit(t, s, k, 3, time.Hour, now.Add(10*time.Second)), 2, true, end)
	wantCounter(t, "third hit", hit(t, s, k, 3, time.Minute, now.Add(20*time.Second)), 3, true, end)
	c := hit(t, s, k, 3, time.Minute, now.Add(30*time.Second))
	wantCounter(t, "hit over the limit", c, 3, false, end)
	if d := c.RetryAfter(now.Add(30 * time.Second)); d < 30*time.Second-time.Millisecond || d > 30*time.Second {
		t.Errorf("RetryAfter 30s before the window ends = %v", d)
	}
	wantCounter(t, "refused hit just before the end", hit(t, s, k, 3, time.Minute, c.ResetAt.Add(-time.Nanosecond)), 3, false, end)
	wantCounter(t, "peek after refusals", peek(t, s, k, now.Add(40*time.Second)), 3, true, end)

	// A window that ended at or before now is gone: a hit starts afresh.
	next := c.ResetAt
	wantCounter(t, "hit as the window ends", hit(t, s, k, 3, time.Minute, next), 1, true, next.Add(time.Minute))
	wantCounter(t, "hit in the new window", hit(t, s, k, 3, time.Minute, next.Add(time.Second)), 2, true, next.Add(time.Minute))
	later := next.Add(time.Hour)
	wantCounter(t, "hit long after", hit(t, s, k, 3, 2*time.Minute, later), 1, true, later.Add(2*time.Minute))

	// A limit of 1 is a cooldown.
	const cd = "code-cooldown:resident:r1:verify_email"
	wantCounter(t, "cooldown first", hit(t, s, cd, 1, time.Minute, now), 1, true, end)
	wantCounter(t, "cooldown second", hit(t, s, cd, 1, time.Minute, now.Add(59*time.Second)), 1, false, end)
	wantCounter(t, "cooldown over", hit(t, s, cd, 1, time.Minute, end), 1, true, end.Add(time.Minute))
}

func testHitKeys(t *testing.T, s Store) {
	now := wall()
	keys := []string{"a", "a:b", "a#b", "sms-daily:2025-03-01", "login:resident:juan@example.com"}
	for i, k := range keys {
		for range i + 1 {
			hit(t, s, k, 10, time.Minute, now)
		}
	}
	for i, k := range keys {
		wantCounter(t, "peek "+k, peek(t, s, k, now), i+1, true, now.Add(time.Minute))
	}
	if c := peek(t, s, "b", now); c.Count != 0 {
		t.Errorf("peek of a key never hit: count %d", c.Count)
	}
}

func testPeek(t *testing.T, s Store) {
	now := wall()
	if c := peek(t, s, "k", now); c.Count != 0 || !c.ResetAt.IsZero() {
		t.Errorf("peek of a key never hit = %+v, want zero", c)
	}
	hit(t, s, "k", 3, time.Minute, now)
	hit(t, s, "k", 3, time.Minute, now.Add(time.Second))
	for range 3 {
		wantCounter(t, "peek", peek(t, s, "k", now.Add(2*time.Second)), 2, true, now.Add(time.Minute))
	}
	wantCounter(t, "hit after peeks", hit(t, s, "k", 3, time.Minute, now.Add(3*time.Second)), 3, true, now.Add(time.Minute))
	if c := peek(t, s, "k", now.Add(time.Minute)); c.Count != 0 {
		t.Errorf("peek as the window ends = %+v, want count 0", c)
	}
	if c := peek(t, s, "k", now.Add(time.Hour)); c.Count != 0 {
		t.Errorf("peek after the window = %+v, want count 0", c)
	}
	// Peeking at an ended window does not clear it for an earlier now.
	wantCounter(t, "peek earlier again", peek(t, s, "k", now.Add(4*time.Second)), 3, true, now.Add(time.Minute))
}

func testClear(t *testing.T, s Store) {
	now := wall()
	for range 3 {
		hit(t, s, "k", 3, time.Minute, now)
	}
	hit(t, s, "other", 3, time.Minute, now)
	wantCounter(t, "hit at the limit", hit(t, s, "k", 3, time.Minute, now.Add(time.Second)), 3, false, now.Add(time.Minute))
	for i := range 2 {
		if err := s.Clear(ctx(t), "k"); err != nil {
			t.Fatalf("Clear #%d: %v", i+1, err)
		}
	}
	if c := peek(t, s, "k", now.Add(2*time.Second)); c.Count != 0 {
		t.Errorf("peek after Clear = %+v, want count 0", c)
	}
	later := now.Add(2 * time.Second)
	wantCounter(t, "hit after Clear", hit(t, s, "k", 3, time.Minute, later), 1, true, later.Add(time.Minute))
	wantCounter(t, "other key", peek(t, s, "other", later), 1, true, now.Add(time.Minute))
	if err := s.Clear(ctx(t), "never"); err != nil {
		t.Errorf("Clear of a key never hit: %v", err)
	}
}

// testHitConcurrent: 20 hits at once never lose a count and never pass
// the limit, including the race to start the window.
func testHitConcurrent(t *testing.T, s Store) {
	const n = 20
	for _, limit := range []int{5, 100} {
		t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
			k := fmt.Sprintf("concurrent-%d", limit)
			now := wall()
			got := make([]throttle.Counter, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					got[i], errs[i] = s.Hit(ctx(t), k, limit, time.Minute, now)
				})
			}
			close(start)
			wg.Wait()
			want := min(limit, n)
			var counts []int
			for i, c := range got {
				if errs[i] != nil {
					t.Fatalf("hit %d: %v", i, errs[i])
				}
				if !ms(c.ResetAt).Equal(ms(now.Add(time.Minute))) {
					t.Errorf("hit %d: ResetAt %v, want %v", i, c.ResetAt, now.Add(time.Minute))
				}
				if c.Allowed {
					counts = append(counts, c.Count)
				} else if c.Count != limit {
					t.Errorf("refused hit %d: count %d, want the limit %d", i, c.Count, limit)
				}
			}
			slices.Sort(counts)
			wantCounts := make([]int, want)
			for i := range wantCounts {
				wantCounts[i] = i + 1
			}
			if !slices.Equal(counts, wantCounts) {
				t.Errorf("counts of the allowed hits = %v, want each of 1..%d once", counts, want)
			}
			wantCounter(t, "peek after the hits", peek(t, s, k, now), want, true, now.Add(time.Minute))
		})
	}
}

// testRelease: a release takes one hit back from the live window, never
// below zero and never from an ended window; concurrent hits and releases
// lose nothing.
func testRelease(t *testing.T, s Store) {
	now := wall()
	release := func(k string, at time.Time) {
		t.Helper()
		if err := s.Release(ctx(t), k, at); err != nil {
			t.Fatalf("Release(%s): %v", k, err)
		}
	}
	for range 3 {
		hit(t, s, "k", 3, time.Minute, now)
	}
	release("k", now.Add(time.Second))
	wantCounter(t, "after a release", peek(t, s, "k", now.Add(time.Second)), 2, true, now.Add(time.Minute))
	wantCounter(t, "a hit in the freed place", hit(t, s, "k", 3, time.Minute, now.Add(2*time.Second)), 3, true, now.Add(time.Minute))
	for range 5 {
		release("k", now.Add(3*time.Second))
	}
	if c := peek(t, s, "k", now.Add(3*time.Second)); c.Count != 0 {
		t.Errorf("after more releases than hits: %+v, want count 0", c)
	}
	release("never", now)
	if c := peek(t, s, "never", now); c.Count != 0 {
		t.Errorf("a release of a key never hit made a counter: %+v", c)
	}
	// An ended window is left alone: the next hit starts afresh.
	hit(t, s, "old", 3, time.Minute, now)
	release("old", now.Add(time.Minute))
	wantCounter(t, "hit after the window", hit(t, s, "old", 3, time.Minute, now.Add(time.Hour)), 1, true, now.Add(time.Hour+time.Minute))

	for range 5 {
		hit(t, s, "busy", 100, time.Minute, now)
	}
	hitsAndGiveBacks(t, s, "busy", now, func() error { return s.Release(ctx(t), "busy", now) })
}

// hitsAndGiveBacks makes 10 hits of key and 5 give-backs at once, in a
// window of key (a minute from now) that already holds 5: none is lost,
// 10 remain.
func hitsAndGiveBacks(t *testing.T, s Store, key string, now time.Time, giveBack func() error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 15)
	for i := range 15 {
		wg.Go(func() {
			if i%3 == 0 {
				errs <- giveBack()
				return
			}
			_, err := s.Hit(ctx(t), key, 100, time.Minute, now)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	wantCounter(t, "after concurrent hits and give-backs", peek(t, s, key, now), 10, true, now.Add(time.Minute))
}

// testRefund: a refund takes one hit back from the window that counted it,
// however late, never from the window after it, never below zero;
// concurrent hits and refunds lose nothing.
func testRefund(t *testing.T, s Store) {
	now := wall()
	refund := func(c throttle.Charge) {
		t.Helper()
		if err := s.Refund(ctx(t), c); err != nil {
			t.Fatalf("Refund(%+v): %v", c, err)
		}
	}
	var charges []throttle.Charge
	for range 3 {
		charges = append(charges, throttle.ChargeOf("k", hit(t, s, "k", 3, time.Hour, now)))
	}
	if !charges[0].Ends.Equal(charges[2].Ends) || !charges[0].Ends.Equal(now.Add(time.Hour)) {
		t.Fatalf("charges of one window: %+v, want each to end at %v", charges, now.Add(time.Hour))
	}
	wantCounter(t, "at the limit", hit(t, s, "k", 3, time.Hour, now.Add(time.Second)), 3, false, now.Add(time.Hour))
	refund(charges[0])
	wantCounter(t, "a hit in the refunded place", hit(t, s, "k", 3, time.Hour, now.Add(59*time.Minute)), 3, true, now.Add(time.Hour))
	for range 5 {
		refund(charges[1])
	}
	if c := peek(t, s, "k", now.Add(59*time.Minute)); c.Count != 0 {
		t.Errorf("after more refunds than hits: %+v, want count 0", c)
	}
	refund(throttle.Charge{Key: "never", Ends: now.Add(time.Hour)})
	if c := peek(t, s, "never", now); c.Count != 0 {
		t.Errorf("a refund of a key never hit made a counter: %+v", c)
	}
	// A charge of an ended window takes nothing from the window after it.
	old := throttle.ChargeOf("old", hit(t, s, "old", 3, time.Minute, now))
	hit(t, s, "old", 3, time.Minute, now.Add(time.Hour))
	refund(old)
	wantCounter(t, "the next window, after a refund of the one before", peek(t, s, "old", now.Add(time.Hour)), 1, true, now.Add(time.Hour+time.Minute))

	// 10 hits and 5 refunds at once in a window that already holds 5.
	var busy throttle.Charge
	for range 5 {
		busy = throttle.ChargeOf("busy", hit(t, s, "busy", 100, time.Minute, now))
	}
	hitsAndGiveBacks(t, s, "busy", now, func() error { return s.Refund(ctx(t), busy) })
}
