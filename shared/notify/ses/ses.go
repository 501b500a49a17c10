// Package ses sends email through Amazon SES (the v1 SendEmail API), as a
// notify.Notifier.
package ses

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsses "github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/smithy-go"

	"github.com/ekolek/identity/shared/notify"
)

// SendEmailAPI is the part of *ses.Client the notifier uses.
type SendEmailAPI interface {
	SendEmail(ctx context.Context, in *awsses.SendEmailInput, optFns ...func(*awsses.Options)) (*awsses.SendEmailOutput, error)
}

// Notifier sends email messages from one verified SES identity.
type Notifier struct {
	client SendEmailAPI
	from   string
}

// New returns a notifier that sends through client from the address from
// (EKOLEK_EMAIL_FROM; SES must have it, or its domain, verified).
func New(client SendEmailAPI, from string) *Notifier {
	return &Notifier{client: client, from: from}
}

var _ notify.Notifier = (*Notifier)(nil)

// Send sends m as one email with a text and, when m has one, an HTML part.
// A refusal that retrying cannot fix wraps notify.ErrUndeliverable; any other
// failure wraps notify.ErrUnavailable. When SES answered, the error names
// SES's error code, never its message (see classify); the SDK's error is
// not wrapped, so callers cannot come to depend on SDK types.
func (n *Notifier) Send(ctx context.Context, m notify.Message) error {
	if m.Channel != notify.Email {
		return fmt.Errorf("ses: cannot send a %q message, only email", m.Channel)
	}
	body := &types.Body{}
	if m.Text != "" {
		body.Text = utf8(m.Text)
	}
	if m.HTML != "" {
		body.Html = utf8(m.HTML)
	}
	_, err := n.client.SendEmail(ctx, &awsses.SendEmailInput{
		Source:      aws.String(n.from),
		Destination: &types.Destination{ToAddresses: []string{m.To}},
		Message:     &types.Message{Subject: utf8(m.Subject), Body: body},
	})
	if err != nil {
		return classify(ctx, err)
	}
	return nil
}

func utf8(s string) *types.Content {
	return &types.Content{Data: aws.String(s), Charset: aws.String("UTF-8")}
}

// classify maps an SES failure onto the notify errors. An API error is
// told by its code alone: SES's message can echo the address back, and
// these errors reach the logs.
func classify(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%w: ses SendEmail: %w", notify.ErrUnavailable, ctxErr)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "MessageRejected", // e.g. a sender or (in the sandbox) recipient not verified, a virus
			"MailFromDomainNotVerifiedException",
			"InvalidParameterValue": // what SES answers for a malformed address ("Missing final '@domain'")
			return fmt.Errorf("%w: ses SendEmail: %w", notify.ErrUndeliverable, notify.ProviderCode(apiErr.ErrorCode()))
		}
	}
	if errors.As(err, &apiErr) {
		return fmt.Errorf("%w: ses SendEmail: %w", notify.ErrUnavailable, notify.ProviderCode(apiErr.ErrorCode()))
	}
	// Transport errors name the endpoint, not the recipient.
	return fmt.Errorf("%w: ses SendEmail: %v", notify.ErrUnavailable, err)
}
