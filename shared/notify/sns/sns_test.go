package sns_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode"

	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/notify/awsnotify"
	"github.com/ekolek/identity/shared/notify/mototest"
	"github.com/ekolek/identity/shared/notify/sns"
)

func TestMain(m *testing.M) { os.Exit(mototest.Main(m)) }

// phone returns a Philippine mobile number in E.164 that no other test is
// likely to use, so each test finds its own SMS among everything moto kept.
func phone() string {
	return fmt.Sprintf("+63917%07d", rand.IntN(10_000_000))
}

func sentTo(t *testing.T, number string) []mototest.SentSMS {
	t.Helper()
	_, all := mototest.Sent(t)
	var mine []mototest.SentSMS
	for _, s := range all {
		if s.PhoneNumber == number {
			mine = append(mine, s)
		}
	}
	return mine
}

type attr struct{ dataType, value string }

// attributes reads the message attributes out of a Publish request form
// (MessageAttributes.entry.N.Name / .Value.DataType / .Value.StringValue).
func attributes(f url.Values) map[string]attr {
	out := map[string]attr{}
	for i := 1; ; i++ {
		p := fmt.Sprintf("MessageAttributes.entry.%d.", i)
		name := f.Get(p + "Name")
		if name == "" {
			return out
		}
		out[name] = attr{f.Get(p + "Value.DataType"), f.Get(p + "Value.StringValue")}
	}
}

func TestSendSMS(t *testing.T) {
	to := phone()
	rec := mototest.NewRecorder()
	n := sns.New(mototest.SNSClient(t, func(o *awssns.Options) { o.HTTPClient = rec }), sns.Options{})
	m := notify.Compose(notify.VerifyPhone, "fil", notify.SMS, to, notify.Data{Name: "Ma. Cristina Peña", Code: "550291", Minutes: 10})
	if err := n.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}

	got := sentTo(t, to)
	if len(got) != 1 || got[0].Message != m.Text || got[0].ID == "" {
		t.Fatalf("moto has %+v for %s, want one SMS %q", got, to, m.Text)
	}

	// Moto does not keep message attributes: read them from the request.
	forms := rec.Forms()
	if len(forms) != 1 {
		t.Fatalf("%d requests, want 1", len(forms))
	}
	f := forms[0]
	if f.Get("Action") != "Publish" || f.Get("PhoneNumber") != to || f.Get("Message") != m.Text {
		t.Errorf("request = %v, want Publish of the text to %s", f, to)
	}
	if f.Has("TopicArn") || f.Has("TargetArn") || f.Has("Subject") {
		t.Errorf("request has a topic, target or subject: %v", f)
	}
	want := map[string]attr{"AWS.SNS.SMS.SMSType": {"String", "Transactional"}}
	if got := attributes(f); !equal(got, want) {
		t.Errorf("attributes = %v, want %v", got, want)
	}
}

func TestSendSMSWithSenderID(t *testing.T) {
	to := phone()
	rec := mototest.NewRecorder()
	n := sns.New(mototest.SNSClient(t, func(o *awssns.Options) { o.HTTPClient = rec }), sns.Options{SenderID: "EKOLEK"})
	if err := n.Send(context.Background(), notify.Message{Channel: notify.SMS, To: to, Text: "hello"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := sentTo(t, to); len(got) != 1 {
		t.Fatalf("moto has %+v for %s, want one SMS", got, to)
	}
	want := map[string]attr{
		"AWS.SNS.SMS.SMSType":  {"String", "Transactional"},
		"AWS.SNS.SMS.SenderID": {"String", "EKOLEK"},
	}
	if got := attributes(rec.Forms()[0]); !equal(got, want) {
		t.Errorf("attributes = %v, want %v", got, want)
	}
}

func equal(a, b map[string]attr) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestNonE164NumberIsUndeliverable(t *testing.T) {
	n := sns.New(mototest.SNSClient(t), sns.Options{})
	local := "09171234567" // what a resident types; the account layer normalises it
	err := n.Send(context.Background(), notify.Message{Channel: notify.SMS, To: local, Text: "hello"})
	if !errors.Is(err, notify.ErrUndeliverable) || errors.Is(err, notify.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUndeliverable", err)
	}
	var apiErr *types.InvalidParameterException
	if errors.As(err, &apiErr) {
		t.Errorf("the SDK error is in the chain (%T); callers should see only notify's errors", apiErr)
	}
	if got := sentTo(t, local); len(got) != 0 {
		t.Errorf("moto kept a refused SMS: %+v", got)
	}
}

func TestUnreachableIsUnavailable(t *testing.T) {
	client := mototest.NewSNSClient("http://127.0.0.1:1", func(o *awssns.Options) { o.RetryMaxAttempts = 1 })
	err := sns.New(client, sns.Options{}).Send(context.Background(), notify.Message{Channel: notify.SMS, To: "+639171234567", Text: "hello"})
	if !errors.Is(err, notify.ErrUnavailable) || errors.Is(err, notify.ErrUndeliverable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestCanceledContextIsUnavailable(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := sns.New(mototest.SNSClient(t), sns.Options{}).Send(ctx, notify.Message{Channel: notify.SMS, To: phone(), Text: "hello"})
	if !errors.Is(err, notify.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrUnavailable wrapping context.Canceled", err)
	}
}

func TestRefusesEmail(t *testing.T) {
	rec := mototest.NewRecorder()
	n := sns.New(mototest.SNSClient(t, func(o *awssns.Options) { o.HTTPClient = rec }), sns.Options{})
	err := n.Send(context.Background(), notify.Message{Channel: notify.Email, To: "maria@example.com", Subject: "s", Text: "t"})
	if err == nil || errors.Is(err, notify.ErrUndeliverable) || errors.Is(err, notify.ErrUnavailable) {
		t.Fatalf("err = %v, want a refusal that is neither provider error", err)
	}
	if n := len(rec.Forms()); n != 0 {
		t.Errorf("%d requests went to SNS for an email", n)
	}
}

// publishFunc lets a test hand the notifier an error SNS returns in
// production but moto never does (moto accepts SMS to opted-out numbers).
type publishFunc func() error

func (f publishFunc) Publish(context.Context, *awssns.PublishInput, ...func(*awssns.Options)) (*awssns.PublishOutput, error) {
	return &awssns.PublishOutput{}, f()
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		err  error
		want error
	}{
		{&types.OptedOutException{}, notify.ErrUndeliverable},
		{&types.InvalidParameterException{}, notify.ErrUndeliverable},
		{&types.InvalidParameterValueException{}, notify.ErrUndeliverable},
		{&types.EndpointDisabledException{}, notify.ErrUndeliverable},
		{&types.ThrottledException{}, notify.ErrUnavailable},
		{&types.InternalErrorException{}, notify.ErrUnavailable},
		{&types.AuthorizationErrorException{}, notify.ErrUnavailable},
		{errors.New("connection reset"), notify.ErrUnavailable},
	}
	for _, tt := range tests {
		err := sns.New(publishFunc(func() error { return tt.err }), sns.Options{}).
			Send(context.Background(), notify.Message{Channel: notify.SMS, To: "+639171234567", Text: "t"})
		if !errors.Is(err, tt.want) {
			t.Errorf("SNS error %T: got %v, want %v", tt.err, err, tt.want)
		}
	}
}

// The sender ID the system texts as is one SNS accepts: 1-11 letters and
// digits, at least one letter. SNS refuses any other on every message.
func TestSenderIDIsOneSNSAccepts(t *testing.T) {
	valid := func(id string) bool {
		return regexp.MustCompile(`^[A-Za-z0-9]{1,11}$`).MatchString(id) && strings.ContainsFunc(id, unicode.IsLetter)
	}
	if !valid(awsnotify.SenderID) {
		t.Errorf("awsnotify.SenderID %q: SNS would refuse every SMS", awsnotify.SenderID)
	}
	for _, bad := range []string{"E-KOLEK", "EKOLEKCITYPH", "12345"} {
		if valid(bad) {
			t.Errorf("%q passes the check, but SNS refuses it", bad)
		}
	}
}
