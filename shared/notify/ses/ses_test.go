package ses_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	awsses "github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"

	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/notify/mototest"
	"github.com/ekolek/identity/shared/notify/ses"
)

func TestMain(m *testing.M) { os.Exit(mototest.Main(m)) }

var seq atomic.Int64

// address returns an address no other test (or test run against a shared
// moto) uses, so each test finds its own mail among everything moto kept.
func address(local string) string {
	return fmt.Sprintf("%s-%d-%d-%d@example.com", local, os.Getpid(), time.Now().UnixNano(), seq.Add(1))
}

func sentTo(t *testing.T, to string) []mototest.SentEmail {
	t.Helper()
	emails, _ := mototest.Sent(t)
	var mine []mototest.SentEmail
	for _, e := range emails {
		if slices.Contains(e.To, to) {
			mine = append(mine, e)
		}
	}
	return mine
}

func TestSendEmail(t *testing.T) {
	from, to := address("noreply"), address("maria")
	mototest.VerifyIdentity(t, from)
	rec := mototest.NewRecorder()
	n := ses.New(mototest.SESClient(t, func(o *awsses.Options) { o.HTTPClient = rec }), from)

	m := notify.Compose(notify.ResetCode, "fil", notify.Email, to, notify.Data{Name: "Ma. Cristina Peña", Code: "483920", Minutes: 10})
	if err := n.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}

	got := sentTo(t, to)
	if len(got) != 1 {
		t.Fatalf("moto has %d emails to %s, want 1: %+v", len(got), to, got)
	}
	e := got[0]
	if e.Source != from || !slices.Equal(e.To, []string{to}) || len(e.Cc)+len(e.Bcc) != 0 {
		t.Errorf("moto has source %q, to %v, cc %v, bcc %v; want %q to [%q] only", e.Source, e.To, e.Cc, e.Bcc, from, to)
	}
	if e.Subject != m.Subject {
		t.Errorf("subject = %q, want %q", e.Subject, m.Subject)
	}
	// Moto keeps one body, the HTML part when there is one.
	if e.Body != m.HTML {
		t.Errorf("body = %q, want the HTML part %q", e.Body, m.HTML)
	}

	// What moto does not keep, read from the request itself.
	forms := rec.Forms()
	if len(forms) != 1 {
		t.Fatalf("%d requests, want 1", len(forms))
	}
	f := forms[0]
	want := map[string]string{
		"Action":                           "SendEmail",
		"Source":                           from,
		"Destination.ToAddresses.member.1": to,
		"Message.Subject.Data":             m.Subject,
		"Message.Subject.Charset":          "UTF-8",
		"Message.Body.Text.Data":           m.Text,
		"Message.Body.Text.Charset":        "UTF-8",
		"Message.Body.Html.Data":           m.HTML,
		"Message.Body.Html.Charset":        "UTF-8",
	}
	for k, v := range want {
		if f.Get(k) != v {
			t.Errorf("request %s = %q, want %q", k, f.Get(k), v)
		}
	}
	if f.Has("Destination.ToAddresses.member.2") || f.Has("Destination.CcAddresses.member.1") || f.Has("Destination.BccAddresses.member.1") {
		t.Errorf("request has more recipients than %s: %v", to, f)
	}
}

func TestSendTextOnlyEmail(t *testing.T) {
	from, to := address("noreply"), address("juan")
	mototest.VerifyIdentity(t, from)
	n := ses.New(mototest.SESClient(t), from)
	m := notify.Message{Channel: notify.Email, To: to, Subject: "Plain", Text: "Text only, ñ and all."}
	if err := n.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := sentTo(t, to)
	if len(got) != 1 || got[0].Body != m.Text || got[0].Subject != m.Subject {
		t.Fatalf("moto has %+v, want one email with body %q", got, m.Text)
	}
}

func TestUnverifiedSenderIsUndeliverable(t *testing.T) {
	from, to := address("unverified"), address("maria")
	n := ses.New(mototest.SESClient(t), from)
	err := n.Send(context.Background(), notify.Compose(notify.VerifyEmail, "en", notify.Email, to, notify.Data{Code: "123456", Minutes: 10}))
	if !errors.Is(err, notify.ErrUndeliverable) || errors.Is(err, notify.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUndeliverable", err)
	}
	var apiErr *types.MessageRejected
	if errors.As(err, &apiErr) {
		t.Errorf("the SDK error is in the chain (%T); callers should see only notify's errors", apiErr)
	}
	if got := sentTo(t, to); len(got) != 0 {
		t.Errorf("moto kept a rejected email: %+v", got)
	}
}

func TestMalformedRecipientIsUndeliverable(t *testing.T) {
	from := address("noreply")
	mototest.VerifyIdentity(t, from)
	n := ses.New(mototest.SESClient(t), from)
	err := n.Send(context.Background(), notify.Message{Channel: notify.Email, To: "not-an-address", Subject: "s", Text: "t"})
	if !errors.Is(err, notify.ErrUndeliverable) {
		t.Fatalf("err = %v, want ErrUndeliverable", err)
	}
}

func TestUnreachableIsUnavailable(t *testing.T) {
	client := mototest.NewSESClient("http://127.0.0.1:1", func(o *awsses.Options) { o.RetryMaxAttempts = 1 })
	n := ses.New(client, "noreply@example.com")
	err := n.Send(context.Background(), notify.Message{Channel: notify.Email, To: "maria@example.com", Subject: "s", Text: "t"})
	if !errors.Is(err, notify.ErrUnavailable) || errors.Is(err, notify.ErrUndeliverable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestCanceledContextIsUnavailable(t *testing.T) {
	from := address("noreply")
	mototest.VerifyIdentity(t, from)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := ses.New(mototest.SESClient(t), from).Send(ctx, notify.Message{Channel: notify.Email, To: address("maria"), Subject: "s", Text: "t"})
	if !errors.Is(err, notify.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrUnavailable wrapping context.Canceled", err)
	}
}

func TestRefusesSMS(t *testing.T) {
	rec := mototest.NewRecorder()
	n := ses.New(mototest.SESClient(t, func(o *awsses.Options) { o.HTTPClient = rec }), address("noreply"))
	err := n.Send(context.Background(), notify.Message{Channel: notify.SMS, To: "+639171234567", Text: "t"})
	if err == nil || errors.Is(err, notify.ErrUndeliverable) || errors.Is(err, notify.ErrUnavailable) {
		t.Fatalf("err = %v, want a refusal that is neither provider error", err)
	}
	if n := len(rec.Forms()); n != 0 {
		t.Errorf("%d requests went to SES for an SMS", n)
	}
}

// sendEmailFunc lets a test hand the notifier an error SES returns in
// production but moto never does.
type sendEmailFunc func() error

func (f sendEmailFunc) SendEmail(context.Context, *awsses.SendEmailInput, ...func(*awsses.Options)) (*awsses.SendEmailOutput, error) {
	return &awsses.SendEmailOutput{}, f()
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		err  error
		want error
	}{
		{&types.MessageRejected{Message: new("Email address is not verified.")}, notify.ErrUndeliverable},
		{&types.MailFromDomainNotVerifiedException{}, notify.ErrUndeliverable},
		{&types.AccountSendingPausedException{}, notify.ErrUnavailable},
		{&types.ConfigurationSetDoesNotExistException{}, notify.ErrUnavailable},
		{errors.New("connection reset"), notify.ErrUnavailable},
	}
	for _, tt := range tests {
		err := ses.New(sendEmailFunc(func() error { return tt.err }), "noreply@example.com").
			Send(context.Background(), notify.Message{Channel: notify.Email, To: "maria@example.com", Subject: "s", Text: "t"})
		if !errors.Is(err, tt.want) {
			t.Errorf("SES error %T: got %v, want %v", tt.err, err, tt.want)
		}
	}
}
