// Package sns sends SMS through Amazon SNS (Publish to a phone number), as a
// notify.Notifier.
package sns

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"

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

// Options tune every SMS the notifier sends. Both are optional.
type Options struct {
	// SenderID is shown as the sender where the destination country
	// supports alphanumeric sender IDs: 1-11 letters and digits, at least
	// one letter.
	SenderID string
	// MaxPriceUSD caps what one SMS may cost, in US dollars ("0.50"); SNS
	// does not send a message that would cost more.
	MaxPriceUSD string
}

var (
	senderID  = regexp.MustCompile(`^[A-Za-z0-9]{1,11}$`)
	hasLetter = regexp.MustCompile(`[A-Za-z]`)
	usd       = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
)

// Validate reports options SNS would refuse on every message, so start-up
// can fail on them instead of each SMS coming back undeliverable.
func (o Options) Validate() error {
	if o.SenderID != "" && (!senderID.MatchString(o.SenderID) || !hasLetter.MatchString(o.SenderID)) {
		return fmt.Errorf("sns: sender ID %q must be 1-11 letters and digits with at least one letter", o.SenderID)
	}
	if o.MaxPriceUSD != "" {
		if p, err := strconv.ParseFloat(o.MaxPriceUSD, 64); !usd.MatchString(o.MaxPriceUSD) || err != nil || p <= 0 {
			return fmt.Errorf("sns: max price %q must be a positive number of US dollars", o.MaxPriceUSD)
		}
	}
	return nil
}

// Notifier sends SMS messages as transactional SMS.
type Notifier struct {
	client PublishAPI
	attrs  map[string]types.MessageAttributeValue
}

// New returns a notifier that publishes through client. It does not check
// opts: the options in use are constants (awsnotify), and SNS refuses every
// message whose sender ID or price it cannot take.
func New(client PublishAPI, opts Options) *Notifier {
	// Transactional: codes are time-critical, and SNS routes transactional
	// SMS for reliability rather than cost.
	attrs := map[string]types.MessageAttributeValue{
		"AWS.SNS.SMS.SMSType": {DataType: aws.String("String"), StringValue: aws.String("Transactional")},
	}
	if opts.SenderID != "" {
		attrs["AWS.SNS.SMS.SenderID"] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(opts.SenderID)}
	}
	if opts.MaxPriceUSD != "" {
		attrs["AWS.SNS.SMS.MaxPrice"] = types.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String(opts.MaxPriceUSD)}
	}
	return &Notifier{client: client, attrs: attrs}
}

var _ notify.Notifier = (*Notifier)(nil)

// Send publishes m.Text to the phone number m.To (E.164). A refusal that
// retrying cannot fix (a malformed or opted-out number) wraps
// notify.ErrUndeliverable; any other failure wraps notify.ErrUnavailable.
// When SNS answered, the error names SNS's error code, never its message
// (see classify); the SDK's error is not wrapped, so callers cannot come to
// depend on SDK types.
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

// classify maps an SNS failure onto the notify errors. An API error is
// told by its code alone: SNS's message can echo the phone number back,
// and these errors reach the logs.
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
			return fmt.Errorf("%w: sns Publish: %s", notify.ErrUndeliverable, apiErr.ErrorCode())
		}
	}
	if errors.As(err, &apiErr) {
		return fmt.Errorf("%w: sns Publish: %s", notify.ErrUnavailable, apiErr.ErrorCode())
	}
	// Transport errors name the endpoint, not the recipient.
	return fmt.Errorf("%w: sns Publish: %v", notify.ErrUnavailable, err)
}
