package code

import (
	"context"
	"errors"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/throttle"
)

// ErrSMSCapReached means the system-wide daily SMS budget is spent.
var ErrSMSCapReached = errors.New("code: daily SMS cap reached")

// Outbox composes messages in the account's language and queues them in
// the outbox (package outbox), holding SMS to the system-wide daily cap
// (SMS costs money; email barely). Nothing here talks to a provider: the
// sender delivers the queued messages off the request path.
type Outbox struct {
	composer *outbox.Composer
	messages outbox.Store
	counters throttle.Store
	guard    *throttle.Guard
	smsCap   int
	clock    clock.Clock
}

// NewOutbox returns an Outbox queueing messages composed by c on messages,
// allowing smsDailyCap SMS per UTC day in all, and guard's SMSPerNumber
// limit to any one number.
func NewOutbox(c *outbox.Composer, messages outbox.Store, counters throttle.Store, guard *throttle.Guard, smsDailyCap int, clk clock.Clock) *Outbox {
	return &Outbox{composer: c, messages: messages, counters: counters, guard: guard, smsCap: smsDailyCap, clock: clk}
}

// Allow spends one message of the budgets that apply to ch and to: for SMS
// the recipient's number, then the system's day. It returns the charges it
// took (the refused step's excepted), which whoever asked gives back if
// the message is not accepted. A code asks through Engine.Send, after the
// code's own limits and before issuing the code; a notice through Notice.
func (o *Outbox) Allow(ctx context.Context, ch notify.Channel, to string) ([]throttle.Charge, error) {
	if ch != notify.SMS {
		return nil, nil
	}
	number, err := o.guard.Spend(ctx, throttle.SMSNumber, to)
	if err != nil {
		return nil, err
	}
	charges := []throttle.Charge{number}
	now := o.clock.Now()
	day := now.Truncate(24 * time.Hour)
	k := "sms-daily:" + day.Format("2006-01-02")
	c, err := o.counters.Hit(ctx, k, o.smsCap, day.Add(24*time.Hour).Sub(now), now)
	if err != nil {
		return charges, err
	}
	if !c.Allowed {
		return charges, ErrSMSCapReached
	}
	return append(charges, throttle.ChargeOf(k, c)), nil
}

// Notice queues a message that carries no code (the password-changed
// notice) for an account of realm: its budgets (Allow), then the message,
// one write of its own. A refusal or a write that certainly did not happen
// gives the budgets back.
func (o *Outbox) Notice(ctx context.Context, kind notify.Kind, lang string, ch notify.Channel, to string, data notify.Data, realm account.Realm, accountID string) error {
	charges, err := o.Allow(ctx, ch, to)
	if err != nil {
		return errors.Join(err, throttle.RefundAll(ctx, o.counters, charges))
	}
	m, err := o.composer.Compose(kind, lang, ch, to, data, realm, accountID)
	if err != nil {
		return errors.Join(err, throttle.RefundAll(ctx, o.counters, charges))
	}
	m.Charges = charges
	if err := o.messages.PutMessage(ctx, m); err != nil {
		if NotWritten(err) {
			return errors.Join(err, throttle.RefundAll(ctx, o.counters, charges))
		}
		return err
	}
	return nil
}

// NotifyAccount queues a notice of kind to a's email address, when a has
// proved it (an admin's address was set by whoever created the account), in
// a's language: the second factor's notices of changes to how the account
// signs in. They go by email only: an SMS costs money against the daily
// cap, and the password-change notice already covers the phone.
func (o *Outbox) NotifyAccount(ctx context.Context, a account.Account, kind notify.Kind, data notify.Data) error {
	if a.Email == "" || !a.EmailVerified {
		return nil
	}
	if data.Name == "" {
		data.Name = a.GreetingName()
	}
	return o.Notice(ctx, kind, a.Language, notify.Email, a.Email, data, a.Realm, a.ID)
}
