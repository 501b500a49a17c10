// Package sender delivers the outbox (package outbox): it claims a
// message, opens it, sends it through the notifier (SES and SNS, or the
// local Keep) and marks it sent; a failed attempt is tried again, and
// after outbox.MaxAttempts (or a refusal no retry can cure) the message
// fails for good: its send limits are given back, and it is dead-lettered.
// The message id is the idempotency key: a message already sent is never
// claimed again, so a stream batch delivered twice sends once.
//
// Function sender runs it on the table's DynamoDB Stream (HandleStream);
// the local API runs it in its own process (Run).
package sender

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/metrics"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/throttle"
)

// Store is what delivery reads and writes: the outbox, and the counters
// a failed message's charges go back to.
type Store interface {
	outbox.Store
	throttle.Refunder
}

// DeadLetters keeps the messages that failed for good where operators
// look (the SQS dead-letter queue), by id and without their content.
type DeadLetters interface {
	DeadLetter(ctx context.Context, m outbox.Message) error
}

// ErrRetry means an attempt failed and the message has attempts left: it
// is to be tried again (the stream's batch item failure, the local sweep).
var ErrRetry = errors.New("sender: not delivered, to be tried again")

// The delivery metrics (package metrics, namespace EKOLEK): every message
// sent, by channel; every attempt the provider refused or that failed, by
// channel and reason (the provider's error code, "timeout",
// "unavailable"), and in total, which the template alarms on: a sandboxed
// SES account, an unverified sender or SNS's spend limit shows up here
// while the requests themselves still answer as the contract says.
const (
	MetricSent   = "MessagesSent"
	MetricFailed = "MessagesFailed"
)

// AttemptTimeout bounds one attempt's call to the provider. The AWS
// clients give up on a stalled attempt of theirs sooner (awsenv.Bounded:
// three tries of at most 3 s each); this is the backstop.
const AttemptTimeout = 10 * time.Second

// Sender delivers messages.
type Sender struct {
	store    Store
	notifier notify.Notifier
	sealer   *outbox.Sealer
	dead     DeadLetters
	clock    clock.Clock
	log      *slog.Logger
}

// New returns a Sender delivering through n. dead may be nil: a failed
// message is then only marked failed (and logged), as locally, where
// GET /dev/outbox shows it.
func New(s Store, n notify.Notifier, sealer *outbox.Sealer, dead DeadLetters, c clock.Clock, log *slog.Logger) *Sender {
	return &Sender{store: s, notifier: n, sealer: sealer, dead: dead, clock: c, log: log}
}

// Deliver makes one attempt at message id. It returns nil when the
// message's delivery is over (sent now or before, failed for good now or
// before, or gone); ErrRetry (wrapping the cause) when this attempt failed
// and another may succeed; a store error when the outbox could not be
// read or written (nothing was sent, or what was sent is logged).
func (s *Sender) Deliver(ctx context.Context, id string) error {
	m, err := s.store.ClaimMessage(ctx, id, s.clock.Now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.log.Warn("message not delivered: not in the outbox", "message_id", id)
		return nil
	case errors.Is(err, store.ErrConflict) && m.Finished():
		// Sent or failed already: a retried batch, or a second wake-up.
		return nil
	case errors.Is(err, store.ErrConflict):
		// Out of attempts, but not closed: the last attempt ended before
		// it could say so. Close it now.
		return s.giveUp(ctx, m, "attempts used up")
	case err != nil:
		return err
	}
	msg, err := s.sealer.Open(m.ID, m.Channel, m.Sealed)
	if err != nil {
		return s.giveUp(ctx, m, err.Error())
	}
	sendCtx, cancel := context.WithTimeout(ctx, AttemptTimeout)
	err = s.notifier.Send(sendCtx, msg)
	cancel()
	if err == nil {
		metrics.Count(ctx, s.log, s.clock.Now(), MetricSent, metrics.Dimension{Name: "Channel", Value: string(m.Channel)})
		if err := s.record(ctx, func(c context.Context) error { return s.store.MarkMessageSent(c, m, s.clock.Now()) }); err != nil {
			// Sent, but not marked: another attempt would send it again,
			// so none is asked for.
			s.log.Error("message sent but not marked sent", s.attrs(m, "error", err.Error())...)
			return nil
		}
		s.log.Info("message sent", s.attrs(m)...)
		return nil
	}
	metrics.Count(ctx, s.log, s.clock.Now(), MetricFailed,
		metrics.Dimension{Name: "Channel", Value: string(m.Channel)}, metrics.Dimension{Name: "Reason", Value: notify.Reason(err)})
	if errors.Is(err, notify.ErrUndeliverable) || m.Attempts >= outbox.MaxAttempts {
		return s.giveUp(ctx, m, err.Error())
	}
	reason := err.Error()
	if merr := s.record(ctx, func(c context.Context) error { return s.store.MarkMessageFailed(c, m, reason, false, s.clock.Now()) }); merr != nil {
		s.log.Warn("failed attempt not recorded", s.attrs(m, "error", merr.Error())...)
	}
	s.log.Warn("message not sent, to be tried again", s.attrs(m, "error", err.Error())...)
	return fmt.Errorf("%w: %w", ErrRetry, err)
}

// giveUp ends claimed message m as failed for good: it is dead-lettered,
// marked failed, and its charges are given back, so the person can ask
// again at once. The mark is conditional, so of two attempts closing the
// same message only one gives the charges back; dead-lettering comes
// first, so a message marked failed has been dead-lettered (maybe twice).
func (s *Sender) giveUp(ctx context.Context, m outbox.Message, reason string) error {
	m.LastError = reason
	if s.dead != nil {
		if err := s.dead.DeadLetter(ctx, m); err != nil {
			return fmt.Errorf("sender: dead-lettering %s: %w", m.ID, err)
		}
	}
	err := s.record(ctx, func(c context.Context) error { return s.store.MarkMessageFailed(c, m, reason, true, s.clock.Now()) })
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	if err != nil {
		return err
	}
	m.State = outbox.Failed
	if err := s.record(ctx, func(c context.Context) error { return throttle.RefundAll(c, s.store, m.Charges) }); err != nil {
		s.log.Error("send limits of a failed message not given back", s.attrs(m, "error", err.Error())...)
	}
	s.log.Warn("message failed for good; its send limits are given back", s.attrs(m, "error", reason)...)
	return nil
}

// record runs write, which records how an attempt ended (its mark, the
// charges given back), on a context a little longer than ctx: an attempt
// that used up its time is still recorded.
func (s *Sender) record(ctx context.Context, write func(context.Context) error) error {
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	return write(c)
}

// attrs are the log attributes of m: never its recipient or content.
func (s *Sender) attrs(m outbox.Message, more ...any) []any {
	return append([]any{"message_id", m.ID, "kind", m.Kind, "channel", m.Channel, "realm", m.Realm,
		"account_id", m.AccountID, "state", m.State, "attempts", m.Attempts}, more...)
}
