package code

import (
	"context"
	"errors"
	"time"

	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/throttle"
)

// ErrSMSCapReached means the system-wide daily SMS budget is spent.
var ErrSMSCapReached = errors.New("code: daily SMS cap reached")

// Sender composes messages in the account's language and sends them,
// holding SMS to the system-wide daily cap (SMS costs money; email barely).
type Sender struct {
	notifier notify.Notifier
	counters throttle.Store
	guard    *throttle.Guard
	smsCap   int
	clock    clock.Clock
}

// NewSender returns a Sender allowing smsDailyCap SMS per UTC day in all,
// and guard's SMSPerNumber limit to any one number.
func NewSender(n notify.Notifier, counters throttle.Store, guard *throttle.Guard, smsDailyCap int, c clock.Clock) *Sender {
	return &Sender{notifier: n, counters: counters, guard: guard, smsCap: smsDailyCap, clock: c}
}

// Allow spends one message of the budgets that apply to ch and to: for SMS
// the recipient's number, then the system's day. A code goes out through
// Engine.Send, which asks after the code's own limits and before issuing the
// code; a notice (no code) asks Allow itself before Send.
func (s *Sender) Allow(ctx context.Context, ch notify.Channel, to string) error {
	s.mustSend()
	if ch == notify.SMS {
		if err := s.guard.Allow(ctx, throttle.SMSNumber, to); err != nil {
			return err
		}
		now := s.clock.Now()
		day := now.Truncate(24 * time.Hour)
		c, err := s.counters.Hit(ctx, "sms-daily:"+day.Format("2006-01-02"), s.smsCap, day.Add(24*time.Hour).Sub(now), now)
		if err != nil {
			return err
		}
		if !c.Allowed {
			return ErrSMSCapReached
		}
	}
	return nil
}

// Send composes kind for one recipient and sends it; Allow comes first.
func (s *Sender) Send(ctx context.Context, kind notify.Kind, lang string, ch notify.Channel, to string, data notify.Data) error {
	s.mustSend()
	return s.notifier.Send(ctx, notify.Compose(kind, lang, ch, to, data))
}

// mustSend panics when there is no notifier: the route sends but does not
// declare it, so its handler got none (app.PartTable). Allow and
// Engine.Send check first, so the panic comes before any budget is spent
// or code issued.
func (s *Sender) mustSend() {
	if s.notifier == nil {
		panic("code: no notifier here: the route sends but does not declare NeedsMessages (httpapi.Route.Needs)")
	}
}
