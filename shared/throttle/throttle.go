// Package throttle counts events in windows on the store, so limits hold
// across every Lambda instance, and answers whether one more is allowed.
package throttle

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ekolek/identity/shared/store"
)

// Counter is a counter's state after a hit.
type Counter struct {
	Count   int
	Allowed bool
	// ResetAt is when the window ends and the count starts again.
	ResetAt time.Time
}

// RetryAfter is how long until a refused hit could succeed.
func (c Counter) RetryAfter(now time.Time) time.Duration {
	if d := c.ResetAt.Sub(now); d > 0 {
		return d
	}
	return 0
}

// Store keeps counters.
type Store interface {
	// Hit counts one event against key. When key has no live window (none,
	// or one that ended at or before now) a new window [now, now+window)
	// starts with count 1. Otherwise the count goes up by one unless it has
	// reached limit, in which case nothing changes and Allowed is false.
	// Atomic: concurrent hits never lose a count or pass the limit.
	Hit(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (Counter, error)
	// Peek returns key's live counter without counting (Count 0 when none).
	Peek(ctx context.Context, key string, now time.Time) (Counter, error)
	// Release takes one hit back from key's live window (one that ends
	// after now) when its count is above zero; otherwise it changes nothing.
	// Atomic like Hit. (A hit made just before a window ended is given back
	// by the window that follows: one place per request in flight at the
	// turn of a window, no more.)
	Release(ctx context.Context, key string, now time.Time) error
	// Refund takes back the hit c records from the window that counted it
	// (the counter's window still ends at c.Ends) when its count is above
	// zero; otherwise (the window ended and another began, or the counter
	// is gone) it changes nothing. Unlike Release it can be called long
	// after the hit: a message's send limits are given back when its
	// delivery finally fails, minutes later, and must not take a hit from
	// a window that never counted it. Atomic like Hit.
	Refund(ctx context.Context, c Charge) error
	// Clear removes key's counter.
	Clear(ctx context.Context, key string) error
}

// counters is the Store as a Guard uses it. A counter write whose outcome
// is unknown (store.ErrOutcomeUnknown) is reported as store.ErrUnavailable:
// a counter is the guard's bookkeeping, and when it fails, the change the
// request asked for has not been made (the guard answers first) or is kept
// anyway (clearing a lock after a reset is best effort). At most the
// counter moved, which is no change the person could check for.
type counters struct{ Store }

func (c counters) Hit(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (Counter, error) {
	n, err := c.Store.Hit(ctx, key, limit, window, now)
	return n, bookkeeping(err)
}

func (c counters) Release(ctx context.Context, key string, now time.Time) error {
	return bookkeeping(c.Store.Release(ctx, key, now))
}

func (c counters) Clear(ctx context.Context, key string) error {
	return bookkeeping(c.Store.Clear(ctx, key))
}

func bookkeeping(err error) error {
	if errors.Is(err, store.ErrOutcomeUnknown) {
		return fmt.Errorf("%w: a counter's write: %v", store.ErrUnavailable, err)
	}
	return err
}

// Charge is one hit a counter took: its key and the end of the window that
// counted it, which is all Refund needs to give it back.
type Charge struct {
	Key  string
	Ends time.Time
}

// ChargeOf is the charge of an allowed hit c on key.
func ChargeOf(key string, c Counter) Charge { return Charge{Key: key, Ends: c.ResetAt} }

// Refunder gives charges back (Store.Refund).
type Refunder interface {
	Refund(ctx context.Context, c Charge) error
}

// RefundAll gives each of charges back to the window that took it. It
// has until ctx's deadline and GiveBackTime more, even once ctx has ended
// (GiveBackTime from now when ctx has no deadline or it has passed): a
// request ending, often by its deadline passing, must not leave a send
// counted that was never accepted, nor answer later than the time it
// keeps for that. It returns what it could not give back.
func RefundAll(ctx context.Context, r Refunder, charges []Charge) error {
	if len(charges) == 0 {
		return nil
	}
	end := time.Now()
	if d, ok := ctx.Deadline(); ok && d.After(end) {
		end = d
	}
	ctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), end.Add(GiveBackTime))
	defer cancel()
	var errs []error
	for _, c := range charges {
		if err := r.Refund(ctx, c); err != nil {
			errs = append(errs, fmt.Errorf("throttle: %s not given back: %w", c.Key, err))
		}
	}
	return errors.Join(errs...)
}
