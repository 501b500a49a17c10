package sender

import (
	"context"
	"errors"
	"time"

	"github.com/ekolek/identity/shared/outbox"
)

// Sweep is how often Run tries again the messages whose last attempt
// failed: outbox.MaxAttempts attempts span about four sweeps.
const Sweep = 5 * time.Second

// Run delivers the outbox inside the process that writes it (the local
// API, over the embedded store), as function sender does on the table's
// stream, until ctx ends: the new messages at once whenever wake says
// one was written, and every sweep the messages still to deliver (new,
// or to be tried again after a failed attempt). At start it delivers
// what an earlier run left.
func (s *Sender) Run(ctx context.Context, wake <-chan struct{}, sweep time.Duration) {
	t := time.NewTicker(sweep)
	defer t.Stop()
	s.deliverUnfinished(ctx, false)
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
			s.deliverUnfinished(ctx, true)
		case <-t.C:
			s.deliverUnfinished(ctx, false)
		}
	}
}

// deliverUnfinished makes one attempt at each message of the outbox that
// is still Pending (onlyNew) or Pending or Sending, oldest first.
func (s *Sender) deliverUnfinished(ctx context.Context, onlyNew bool) {
	now := s.clock.Now()
	ms, err := s.store.ListUnfinished(ctx, now.Add(-outbox.Retention), now.Add(time.Hour))
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("outbox not read", "error", err.Error())
		}
		return
	}
	for _, m := range ms {
		if ctx.Err() != nil {
			return
		}
		if onlyNew && m.State != outbox.Pending {
			continue
		}
		// Deliver logs what became of the message; a store failure is left
		// for the next sweep.
		if err := s.Deliver(ctx, m.ID); err != nil && !errors.Is(err, ErrRetry) {
			s.log.Warn("message not delivered", s.attrs(m, "error", err.Error())...)
		}
	}
}
