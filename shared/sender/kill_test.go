package sender_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/app/allparts"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/deadletter"
	"github.com/ekolek/identity/shared/emulator"
	"github.com/ekolek/identity/shared/logging"
	"github.com/ekolek/identity/shared/notify/mototest"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
)

const killFrom = "noreply@kill.test.example"

// withKillableMoto builds the app from env as the functions build
// themselves (config.Load, the AWS clients from awsenv with their bounds),
// its messages delivered through SES and SNS on moto (a private one the
// test may kill and start again); its log goes to logs.
func withKillableMoto(t *testing.T, moto *emulator.Child, env map[string]string, logs *emulator.Output) *app.App {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "",
		"AWS_ENDPOINT_URL_SES": moto.Endpoint, "AWS_ENDPOINT_URL_SNS": moto.Endpoint,
	} {
		t.Setenv(k, v)
	}
	dir := t.TempDir()
	env["EKOLEK_NOTIFIER"], env["EKOLEK_EMAIL_FROM"], env["EKOLEK_DATA_DIR"] = "aws", killFrom, dir
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	parts := allparts.Parts()
	parts.AWSConfig = nil // the functions' own loader (awsenv)
	a, err := app.Open(t.Context(), cfg, logging.New(logs, slog.LevelInfo), app.Options{Parts: parts, Hash: &cheapHash})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	verifySender(t, moto)
	return a
}

// verifySender verifies the sender identity on moto, as SES has it;
// a moto started again has forgotten it (SES would not).
func verifySender(t *testing.T, moto *emulator.Child) {
	t.Helper()
	if _, err := mototest.NewSESClient(moto.Endpoint).VerifyEmailIdentity(t.Context(), &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(killFrom)}); err != nil {
		t.Fatal(err)
	}
}

// restart starts moto again on its port, with the sender identity.
func restart(t *testing.T, moto *emulator.Child) time.Duration {
	t.Helper()
	start := time.Now()
	if err := moto.Restart(); err != nil {
		t.Fatal(err)
	}
	verifySender(t, moto)
	return time.Since(start)
}

func kill(t *testing.T, moto *emulator.Child) {
	t.Helper()
	if err := moto.Kill(); err != nil {
		t.Fatal(err)
	}
}

// checkJSONLines fails the test for a line of logs that is not JSON.
func checkJSONLines(t *testing.T, logs string) {
	t.Helper()
	for i, l := range strings.Split(strings.TrimSuffix(logs, "\n"), "\n") {
		if !json.Valid([]byte(l)) {
			t.Errorf("log line %d is not JSON: %s", i+1, l)
		}
	}
}

// post sends body to path on h as JSON and returns the answer and how
// long it took.
func post(h http.Handler, path, body string) (*httptest.ResponseRecorder, time.Duration) {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	start := time.Now()
	h.ServeHTTP(w, r)
	return w, time.Since(start)
}

// The local API as `make run` serves it against the emulators
// (EKOLEK_NOTIFIER=aws), its sender inside the process, and moto killed
// (SIGKILL) while residents ask for reset codes by SMS: their requests
// answer in the code routes' time, nothing waits for the provider; each
// message's attempt fails at once (the connection is refused) and is left
// to try again. Moto started again on its port within the attempts, the
// sweep delivers every message, each exactly once (the refused attempts
// sent nothing). (By SMS: a moto started again has forgotten SES's
// verified sender, which a sweep could meet before the test verifies it
// again; function sender's test below sends email.)
func TestLocalDeliveryWithAKilledProvider(t *testing.T) {
	moto := mototest.Private(t)
	logs := &emulator.Output{}
	a := withKillableMoto(t, moto, map[string]string{}, logs)
	h, err := a.Handler()
	if err != nil {
		t.Fatal(err)
	}
	// A sweep of 2 s (make run's is sender.Sweep): the outage below
	// spends one or two of each message's attempts.
	deliver(t, a, 2*time.Second)
	// Residents with a verified number (registered, the SMS code entered).
	code := regexp.MustCompile(`\b\d{6}\b`)
	var phones []string
	for i := range 4 {
		phone := fmt.Sprintf("+63918123450%d", i)
		w, _ := post(h, "/v1/resident/register", fmt.Sprintf(`{"first_name":"Maria","last_name":"Santos","email":"maria%d@kill.test.example",
			"phone":"%s","barangay":"Landayan","password":"mango tricycle umbrella 42"}`, i, phone))
		if w.Code != http.StatusCreated {
			t.Fatalf("registration: %d %s", w.Code, w.Body)
		}
		waitFor(t, "the SMS code", func() bool { return len(mototest.SentTo(t, moto.Endpoint)[phone]) == 1 })
		sms := mototest.SentTo(t, moto.Endpoint)[phone][0]
		if w, _ := post(h, "/v1/resident/register/verify", `{"identifier":"`+phone+`","code":"`+code.FindString(sms)+`"}`); w.Code != http.StatusNoContent {
			t.Fatalf("verifying %s: %d %s", phone, w.Code, w.Body)
		}
		phones = append(phones, phone)
	}
	before := len(devOutbox(t, h))

	kill(t, moto)
	var wg sync.WaitGroup
	for _, phone := range phones {
		wg.Go(func() {
			w, took := post(h, "/v1/resident/password-reset", `{"identifier":"`+phone+`","channel":"sms"}`)
			if w.Code != http.StatusAccepted || took > codeAnswerLimit {
				t.Errorf("reset request with the provider killed: %d %s in %v, want 202 within %v", w.Code, w.Body, took, codeAnswerLimit)
			}
		})
	}
	wg.Wait()
	pending := func() []devMessage { return devOutbox(t, h)[before:] }
	waitFor(t, "every message's first attempt to fail", func() bool {
		ms := pending()
		for _, m := range ms {
			if m.Attempts == 0 {
				return false
			}
		}
		return len(ms) == len(phones)
	})
	took := restart(t, moto)
	for _, m := range pending() {
		if m.State != string(outbox.Sending) || m.Attempts >= outbox.MaxAttempts {
			t.Fatalf("moto back after %v: a message %s after %d attempts, want one still to be tried", took, m.State, m.Attempts)
		}
	}
	waitFor(t, "the sweep to deliver every message", func() bool {
		for _, m := range pending() {
			if m.State != string(outbox.Sent) {
				return false
			}
		}
		return true
	})
	sent := mototest.SentTo(t, moto.Endpoint)
	for _, phone := range phones {
		if len(sent[phone]) != 1 || !strings.Contains(sent[phone][0], "reset") {
			t.Errorf("moto accepted %q for %s, want the reset code once", sent[phone], phone)
		}
	}
	t.Logf("moto started again in %v; every message delivered", took.Round(time.Millisecond))
	checkJSONLines(t, logs.String())
}

// Function sender as deployed (DynamoDB table, SES and SNS through the
// bounded AWS clients, the SQS dead-letter queue), with moto's SES killed
// (SIGKILL; the queue is on another moto, up). An invocation with the
// provider down reports every message as a batch item failure, at once
// (connections refused), and keeps it to try again; once moto is back on
// its port, the event source mapping's retry delivers each exactly once.
// A provider that stays down past the attempts fails the message for
// good: it is dead-lettered and its send limits are given back, so the
// person's next request queues a new code at once, which goes out once
// the provider is back.
func TestFunctionSenderWithAKilledProvider(t *testing.T) {
	moto := mototest.Private(t)
	queues := mototest.SQSClient(t)
	queue := mototest.NewQueue(t, queues)
	db := dynamotest.Client(t)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamotest.Endpoint(t))
	t.Setenv("AWS_ENDPOINT_URL_SQS", mototest.Endpoint(t))
	logs := &emulator.Output{}
	a := withKillableMoto(t, moto, map[string]string{
		"EKOLEK_STORE": "dynamodb", "EKOLEK_TABLE": dynamotest.NewTable(t, db), "EKOLEK_DEAD_LETTER_QUEUE_URL": queue,
	}, logs)
	h, err := a.Handler("reset-request")
	if err != nil {
		t.Fatal(err)
	}
	snd, err := a.Sender()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := a.Accounts.CreateAdmin(t.Context(), account.NewAdmin{Username: fmt.Sprintf("admin%d", i), Email: fmt.Sprintf("admin%d@kill.test.example", i),
			FullName: "Admin", Role: "security_analyst", Password: "correct horse battery staple"}); err != nil {
			t.Fatal(err)
		}
	}
	// list is the outbox's messages, oldest first.
	list := func() []outbox.Message {
		now := a.Clock.Now()
		ms, err := a.Store.ListMessages(t.Context(), now.Add(-time.Hour), now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	latest := func(m outbox.Message) outbox.Message {
		for _, x := range list() {
			if x.ID == m.ID {
				return x
			}
		}
		t.Fatalf("message %s is gone", m.ID)
		return m
	}
	// invoke runs the function on ms's stream records in an invocation of
	// the function's timeout, and returns how many it reported failed. It
	// takes well under one stalled attempt's time (the clients' response
	// timeout, 2 s, three times): a refused connection fails at once.
	invoke := func(ms ...outbox.Message) int {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		start := time.Now()
		res, err := snd.HandleStream(ctx, streamEvent(ms...))
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("an invocation for %d messages took %v", len(ms), took)
		}
		return len(failedItems(t, res, err))
	}

	timedReset(t, h, "admin0")
	timedReset(t, h, "admin1")
	first := list()
	kill(t, moto)
	if n := invoke(first...); n != len(first) {
		t.Fatalf("with the provider killed: %d of %d messages reported failed", n, len(first))
	}
	for _, m := range first {
		if got := latest(m); got.State != outbox.Sending || got.Attempts != 1 || got.LastError == "" {
			t.Fatalf("after an attempt with the provider killed: %+v", got)
		}
	}
	took := restart(t, moto)
	if n := invoke(first...); n != 0 {
		t.Fatalf("with the provider back: %d messages reported failed", n)
	}
	sent := mototest.SentTo(t, moto.Endpoint)
	for i, m := range first {
		if got := latest(m); got.State != outbox.Sent || got.Attempts != 2 {
			t.Errorf("after the retry: %s with %d attempts, want sent after 2", got.State, got.Attempts)
		}
		if to := fmt.Sprintf("admin%d@kill.test.example", i); len(sent[to]) != 1 {
			t.Errorf("moto accepted %d emails to %s, want 1", len(sent[to]), to)
		}
	}

	// Down past the attempts.
	timedReset(t, h, "admin2")
	ms := list()
	lost := ms[len(ms)-1]
	kill(t, moto)
	for attempt := 1; attempt <= outbox.MaxAttempts; attempt++ {
		want := 1
		if attempt == outbox.MaxAttempts {
			want = 0 // failed for good: nothing left to retry
		}
		if n := invoke(lost); n != want {
			t.Fatalf("attempt %d with the provider killed: %d reported failed, want %d", attempt, n, want)
		}
	}
	if got := latest(lost); got.State != outbox.Failed || got.Attempts != outbox.MaxAttempts {
		t.Fatalf("after %d attempts with the provider killed: %s after %d", outbox.MaxAttempts, got.State, got.Attempts)
	}
	letters := mototest.Received(t, queues, queue)
	var l deadletter.Letter
	if len(letters) != 1 || json.Unmarshal([]byte(letters[0]), &l) != nil || l.MessageID != lost.ID {
		t.Errorf("dead letters %q, want the failed message's", letters)
	}
	// Its send limits were given back: the next request queues a new code
	// (the cooldown would have held it for a minute).
	timedReset(t, h, "admin2")
	ms = list()
	again := ms[len(ms)-1]
	if again.ID == lost.ID || again.AccountID != lost.AccountID {
		t.Fatalf("no new code queued after the failed one")
	}
	took2 := restart(t, moto)
	if n := invoke(again); n != 0 {
		t.Fatalf("the new code with the provider back: reported failed")
	}
	if got := mototest.SentTo(t, moto.Endpoint)["admin2@kill.test.example"]; len(got) != 1 {
		t.Errorf("moto accepted %d emails to admin2, want the new code's", len(got))
	}
	t.Logf("moto started again in %v and %v", took.Round(time.Millisecond), took2.Round(time.Millisecond))
	checkJSONLines(t, logs.String())
}
