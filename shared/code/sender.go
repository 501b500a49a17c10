package code

import (
	"context"
	"fmt"
	"time"

	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/throttle"
)

// ErrSMSCapReached means the system-wide daily SMS budget is spent.
var ErrSMSCapReached = fmt.Errorf("code: daily SMS cap reached")

// Sender composes messages in the account's language and sends them,
// holding SMS to the system-wide daily cap (SMS costs money; email barely).
type Sender struct {
	notifier notify.Notifier
	counters throttle.Store
	smsCap   int
	clock    clock.Clock
}

// NewSender returns a Sender allowing smsDailyCap SMS per UTC day.
func NewSender(n notify.Notifier, counters throttle.Store, smsDailyCap int, c clock.Clock) *Sender {
	return &Sender{notifier: n, counters: counters, smsCap: smsDailyCap, clock: c}
}

// Send composes kind for one recipient and sends it.
func (s *Sender) Send(ctx context.Context, kind notify.Kind, lang string, ch notify.Channel, to string, data notify.Data) error {
	if ch == notify.SMS {
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
	return s.notifier.Send(ctx, notify.Compose(kind, lang, ch, to, data))
}
