package notify_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ekolek/identity/shared/notify"
)

// recorder is a Notifier that keeps what it is given.
type recorder struct {
	got []notify.Message
	err error
}

func (r *recorder) Send(_ context.Context, m notify.Message) error {
	r.got = append(r.got, m)
	return r.err
}

func TestRouterSendsByChannel(t *testing.T) {
	email, sms := &recorder{}, &recorder{err: notify.ErrUnavailable}
	r := notify.Router{Email: email, SMS: sms}
	ctx := context.Background()
	em := notify.Message{Channel: notify.Email, To: "maria@example.com", Subject: "s", Text: "t"}
	sm := notify.Message{Channel: notify.SMS, To: "+639171234567", Text: "t"}
	if err := r.Send(ctx, em); err != nil {
		t.Fatalf("email: %v", err)
	}
	if err := r.Send(ctx, sm); !errors.Is(err, notify.ErrUnavailable) {
		t.Fatalf("sms: err = %v, want the SMS notifier's ErrUnavailable", err)
	}
	if len(email.got) != 1 || email.got[0] != em || len(sms.got) != 1 || sms.got[0] != sm {
		t.Fatalf("email notifier got %+v, SMS notifier got %+v", email.got, sms.got)
	}
}

func TestRouterRefusesWhatItCannotRoute(t *testing.T) {
	ctx := context.Background()
	email := &recorder{}
	for name, tc := range map[string]struct {
		r notify.Router
		m notify.Message
	}{
		"unknown channel": {notify.Router{Email: email, SMS: email}, notify.Message{Channel: "fax", To: "x"}},
		"empty channel":   {notify.Router{Email: email, SMS: email}, notify.Message{To: "x"}},
		"no SMS notifier": {notify.Router{Email: email}, notify.Message{Channel: notify.SMS, To: "+639171234567"}},
	} {
		err := tc.r.Send(ctx, tc.m)
		if err == nil || errors.Is(err, notify.ErrUndeliverable) || errors.Is(err, notify.ErrUnavailable) {
			t.Errorf("%s: err = %v, want a wiring error", name, err)
		}
	}
	if len(email.got) != 0 {
		t.Errorf("a refused message reached a notifier: %+v", email.got)
	}
}
