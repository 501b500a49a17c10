// Package sns sends SMS through Amazon SNS (Publish to a phone number), as a
// notify.Notifier.
package sns

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/ekolek/identity/shared/notify"
)

// PublishAPI is the part of *sns.Client the notifier uses.
type PublishAPI interface {
	Publish(ctx context.Context, in *awssns.PublishInput, optFns ...func(*awssns.Options)) (*awssns.PublishOutput, error)
}

// Options tune every SMS the notifier sends.
type Options struct {
	// SenderID is shown as the sender where the destination country
	// supports alphanumeric sender IDs: 1-11 letters and digits, at least
	// one letter (SNS refuses any other on every message); "" for none.
	SenderID string
}

// Notifier sends SMS messages as transactional SMS.
type Notifier struct {
	client PublishAPI
	attrs  map[string]types.MessageAttributeValue
}

// New returns a notifier that publishes through client.
func New(client PublishAPI, opts Options) *Notifier {
	// Transactional: codes are time-critical, and SNS routes transactional
	// SMS for reliability rather than cost.
	attrs := map[string]types.MessageAttributeValue{
		"AWS.SNS.SMS.SMSType": {DataType: aws.String("String"), StringValue: aws.String("Transactional")},
	}
	if opts.SenderID != "" {
		attrs["AWS.SNS.SMS.SenderID"] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(opts.SenderID)}
	}
	return &Notifier{client: client, attrs: attrs}
}

var _ notify.Notifier = (*Notifier)(nil)

// Send publishes m.Text to the phone number m.To (E.164). A refusal that
// retrying cannot fix (a malformed or opted-out number) wraps
// notify.ErrUndeliverable; any other failure wraps notify.ErrUnavailable.
// SNS's own error text is kept for logs but not wrapped.
func (n *Notifier) Send(ctx context.Context, m notify.Message) error {
	if m.Channel != notify.SMS {
		return fmt.Errorf("sns: cannot send a %q message, only SMS", m.Channel)
	}
	_, err := n.client.Publish(ctx, &awssns.PublishInput{
		PhoneNumber:       aws.String(m.To),
		Message:           aws.String(m.Text),
		MessageAttributes: n.attrs,
	})
	if err != nil {
		return classify(ctx, err)
	}
	return nil
}

// classify maps an SNS failure onto the notify errors.
func classify(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%w: sns Publish: %w", notify.ErrUnavailable, ctxErr)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "InvalidParameter", // e.g. "Phone number does not meet the E164 format"
			"ParameterValueInvalid",
			"OptedOut",
			"EndpointDisabled":
			return fmt.Errorf("%w: sns Publish: %w", notify.ErrUndeliverable, notify.ProviderCode(apiErr.ErrorCode()))
		}
	}
	// Only the error code, never the provider's message: messages can
	// echo the recipient's address or number back, and errors reach logs.
	if errors.As(err, &apiErr) {
		return fmt.Errorf("%w: sns Publish: %w", notify.ErrUnavailable, notify.ProviderCode(apiErr.ErrorCode()))
	}
	// Transport errors name the endpoint, not the recipient.
	return fmt.Errorf("%w: sns Publish: %v", notify.ErrUnavailable, err)
}
