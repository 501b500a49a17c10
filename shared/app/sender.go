package app

import (
	"context"
	"fmt"
	"time"

	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/httpapi"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/sender"
	"github.com/ekolek/identity/shared/store/backend"
)

// writtenStore is the store the services queue messages through: each
// message written (a code's, a notice's) is told to written, without
// waiting, so that the local sender (App.Deliver) delivers it at once.
// Nobody listens on Lambda, where the table's stream tells function
// sender instead.
type writtenStore struct {
	backend.Store
	written chan<- struct{}
}

func (s writtenStore) tell() {
	select {
	case s.written <- struct{}{}:
	default: // one wake-up pending is enough: it reads every new message
	}
}

// PutCode implements code.Store.
func (s writtenStore) PutCode(ctx context.Context, r code.Record, m outbox.Message) error {
	err := s.Store.PutCode(ctx, r, m)
	if err == nil {
		s.tell()
	}
	return err
}

// PutMessage implements outbox.Store.
func (s writtenStore) PutMessage(ctx context.Context, m outbox.Message) error {
	err := s.Store.PutMessage(ctx, m)
	if err == nil {
		s.tell()
	}
	return err
}

// Sender returns the sender of function sender: it refuses when the
// program lacks a part the function needs (app.Background), as Handler
// does for a route's. Outside production a dead-letter queue is not
// needed (`make invoke FN=sender`: a failed message is only marked
// failed, as the local API's sender does).
func (a *App) Sender() (*sender.Sender, error) {
	needs := NeedsOf("sender")
	if a.Config.Env != config.Production {
		needs &^= httpapi.NeedsDeadLetters
	}
	if missing := needs &^ a.parts.provides(); missing != 0 {
		return nil, fmt.Errorf("app: [sender]: built without %v, or its configuration is missing (EKOLEK_NOTIFIER=%s, EKOLEK_DEAD_LETTER_QUEUE_URL=%q)",
			fieldsOf(missing), a.Config.Notifier, a.Config.DeadLetterQueueURL)
	}
	return a.sender(), nil
}

func (a *App) sender() *sender.Sender {
	return sender.New(a.Store, a.parts.notifier, a.sealer, a.parts.dead, a.Clock, a.Log)
}

// Deliver runs the local sender until ctx ends: the outbox delivered
// inside this process, at once when a request writes a message, and
// every sweep for the messages to try again (sender.Run). The local API
// runs it; with EKOLEK_NOTIFIER=outbox delivering marks a message sent
// (outbox.Keep), with aws it goes through SES or SNS. A failed message is
// dead-lettered only where a queue is configured. Without a notifier (a
// program built without Messenger, EKOLEK_NOTIFIER=aws) it says so and
// delivers nothing.
func (a *App) Deliver(ctx context.Context, sweep time.Duration) error {
	if a.parts.notifier == nil {
		return fmt.Errorf("app: no notifier to deliver with (built without %v; EKOLEK_NOTIFIER=%s)", fieldsOf(NeedsOf("sender")&^a.parts.provides()), a.Config.Notifier)
	}
	a.sender().Run(ctx, a.written, sweep)
	return nil
}
