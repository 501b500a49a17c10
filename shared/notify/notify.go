// Package notify is the port through which the platform sends codes and
// notices to people: one Notifier interface, the message texts (Compose) and
// a Router that picks a notifier per channel. The adapters live in the
// subpackages ses (email) and sns (SMS); the local outbox keeps messages in
// the store instead.
package notify

import (
	"context"
	"errors"
	"fmt"
)

// Channel is how a message travels.
type Channel string

// The channels a message can take.
const (
	Email Channel = "email"
	SMS   Channel = "sms"
)

// Message is one message to one person. Text is the plain text (the whole
// SMS, or the email's text part); HTML is the email's HTML part (empty for
// SMS).
type Message struct {
	Channel Channel
	To      string // an email address, or a phone number in E.164
	Subject string // email only
	Text    string
	HTML    string
}

// Notifier sends messages.
type Notifier interface {
	Send(ctx context.Context, m Message) error
}

// ErrUndeliverable means the provider refused this message for good (bad
// address, opted-out number); retrying will not help.
var ErrUndeliverable = errors.New("notify: undeliverable")

// ErrUnavailable means the provider could not be reached or failed; nothing
// was sent.
var ErrUnavailable = errors.New("notify: unavailable")

// ProviderCode is the error code a provider answered with (SES's
// "MessageRejected", SNS's "OptedOut"…), wrapped in a failed send's error
// beside ErrUndeliverable or ErrUnavailable: what the refusal was, without
// the provider's message (which can echo the recipient back).
type ProviderCode string

func (c ProviderCode) Error() string { return string(c) }

// Reason names why a send failed in a word fit for a metric dimension: the
// provider's code when it answered, "timeout" when the attempt ran out of
// time, else "unavailable" or "undeliverable".
func Reason(err error) string {
	var code ProviderCode
	switch {
	case errors.As(err, &code):
		return string(code)
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, ErrUndeliverable):
		return "undeliverable"
	}
	return "unavailable"
}

// Router sends email through one notifier and SMS through another.
type Router struct {
	Email, SMS Notifier
}

// Send hands m to the notifier for its channel. A channel without a notifier
// is a wiring mistake, reported as such rather than as a provider failure.
func (r Router) Send(ctx context.Context, m Message) error {
	var n Notifier
	switch m.Channel {
	case Email:
		n = r.Email
	case SMS:
		n = r.SMS
	default:
		return fmt.Errorf("notify: unknown channel %q", m.Channel)
	}
	if n == nil {
		return fmt.Errorf("notify: no notifier for channel %q", m.Channel)
	}
	return n.Send(ctx, m)
}
