package sender_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/deadletter"
	"github.com/ekolek/identity/shared/emulator"
	"github.com/ekolek/identity/shared/logging"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/notify/mototest"
	sesnotify "github.com/ekolek/identity/shared/notify/ses"
	snsnotify "github.com/ekolek/identity/shared/notify/sns"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/sender"
	"github.com/ekolek/identity/shared/store/backend"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
	"github.com/ekolek/identity/shared/store/embedded"
	"github.com/ekolek/identity/shared/throttle"
)

// TestMain runs the tests and stops the DynamoDB Local this binary
// started; moto_server, started with a parent-death signal, goes with the
// process (as in infra/samcheck).
func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

const from = "noreply@sender.test.example"

// rig is a system's outbox: the store, the code engine and the outbox
// that queue messages as requests do, and a sender over the same store.
type rig struct {
	t      *testing.T
	store  backend.Store
	clock  *clock.Manual
	codes  *code.Engine
	queue  *code.Outbox
	sealer *outbox.Sealer
	logs   *emulator.Output
	sender *sender.Sender
}

var secret = []byte(strings.Repeat("s", 32))

func newRig(t *testing.T, st backend.Store, n notify.Notifier, dead sender.DeadLetters) *rig {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC))
	sealer, err := outbox.NewSealer(secret)
	if err != nil {
		t.Fatal(err)
	}
	guard := throttle.NewGuard(st, throttle.DefaultLimits, clk)
	logs := &emulator.Output{}
	log := logging.New(logs, slog.LevelInfo)
	return &rig{
		t: t, store: st, clock: clk, sealer: sealer, logs: logs,
		codes:  code.NewEngine(st, st, secret, clk),
		queue:  code.NewOutbox(outbox.NewComposer(sealer, clk), st, st, guard, 100, clk),
		sender: sender.New(st, n, sealer, dead, clk, log),
	}
}

func embeddedStore(t *testing.T) backend.Store {
	t.Helper()
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func dynamoStore(t *testing.T) backend.Store {
	t.Helper()
	client := dynamotest.Client(t)
	return dynamo.New(client, dynamotest.NewTable(t, client))
}

// forEachStore runs fn on the embedded store and on DynamoDB Local.
func forEachStore(t *testing.T, fn func(t *testing.T, st backend.Store)) {
	t.Run("embedded", func(t *testing.T) { fn(t, embeddedStore(t)) })
	t.Run("dynamodb", func(t *testing.T) { fn(t, dynamoStore(t)) })
}

// resetCode queues a reset code to to, as a reset request does, and
// returns its message.
func (r *rig) resetCode(accountID string, ch notify.Channel, to string) outbox.Message {
	r.t.Helper()
	err := r.codes.Send(context.Background(), r.queue, account.Resident, accountID, code.PasswordReset, code.TTL, code.Message{
		Kind: notify.ResetCode, Lang: "en", Channel: ch, To: to, Data: notify.Data{Name: "Juan"},
	})
	if err != nil {
		r.t.Fatalf("queue a reset code to %s: %v", to, err)
	}
	return r.newest()
}

// newest is the message queued last.
func (r *rig) newest() outbox.Message {
	r.t.Helper()
	ms := r.messages()
	if len(ms) == 0 {
		r.t.Fatal("the outbox is empty")
	}
	return ms[len(ms)-1]
}

func (r *rig) messages() []outbox.Message {
	r.t.Helper()
	now := r.clock.Now()
	ms, err := r.store.ListMessages(context.Background(), now.Add(-outbox.Retention), now.Add(time.Hour))
	if err != nil {
		r.t.Fatal(err)
	}
	return ms
}

// message reads m as it is now.
func (r *rig) message(m outbox.Message) outbox.Message {
	r.t.Helper()
	for _, x := range r.messages() {
		if x.ID == m.ID {
			return x
		}
	}
	r.t.Fatalf("message %s is not in the outbox", m.ID)
	return outbox.Message{}
}

// streamEvent is the DynamoDB Stream event of ms's inserts, as the event
// source mapping hands it to function sender (only the keys are read).
func streamEvent(ms ...outbox.Message) events.DynamoDBEvent {
	var ev events.DynamoDBEvent
	for i, m := range ms {
		ev.Records = append(ev.Records, events.DynamoDBEventRecord{
			EventID: m.ID, EventName: "INSERT", EventSource: "aws:dynamodb",
			Change: events.DynamoDBStreamRecord{
				SequenceNumber: strings.Repeat("0", 20) + string(rune('1'+i)),
				Keys: map[string]events.DynamoDBAttributeValue{
					"PK": events.NewStringAttribute("OUTBOX#" + m.CreatedAt.UTC().Format("2006-01-02")),
					"SK": events.NewStringAttribute(m.ID),
				},
			},
		})
	}
	return ev
}

func failedItems(t *testing.T, res events.DynamoDBEventResponse, err error) []string {
	t.Helper()
	if err != nil {
		t.Fatalf("HandleStream: %v", err)
	}
	var out []string
	for _, f := range res.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	return out
}

// motoNotifier sends through the real SES and SNS adapters to moto at ep.
func motoNotifier(t *testing.T, ep string, opts ...func(*clientOptions)) notify.Notifier {
	t.Helper()
	var o clientOptions
	for _, f := range opts {
		f(&o)
	}
	return notify.Router{
		Email: sesnotify.New(mototest.NewSESClient(ep, func(so *ses.Options) {
			if o.timeout > 0 {
				so.HTTPClient, so.RetryMaxAttempts = &http.Client{Timeout: o.timeout}, 1
			}
		}), from),
		SMS: snsnotify.New(mototest.NewSNSClient(ep, func(so *sns.Options) {
			if o.timeout > 0 {
				so.HTTPClient, so.RetryMaxAttempts = &http.Client{Timeout: o.timeout}, 1
			}
		}), snsnotify.Options{SenderID: "EKOLEK"}),
	}
}

type clientOptions struct{ timeout time.Duration }

// impatient makes the clients give up on a call after d, once.
func impatient(d time.Duration) func(*clientOptions) { return func(o *clientOptions) { o.timeout = d } }

// uniqueEmail and uniquePhone are recipients no other test (of this run or
// an earlier one on the same moto) has: moto is shared.
func uniqueEmail(name string) string {
	return fmt.Sprintf("%s.%d@sender.test.example", name, rand.Int64())
}

func uniquePhone() string { return fmt.Sprintf("+63917%07d", rand.IntN(10_000_000)) }

// Messages go out through SES and SNS (moto), each once, with what was
// composed for them; the outbox then says sent.
func TestDeliversThroughSESAndSNS(t *testing.T) {
	ep := mototest.Endpoint(t)
	mototest.VerifyIdentity(t, from)
	forEachStore(t, func(t *testing.T, st backend.Store) {
		r := newRig(t, st, motoNotifier(t, ep), nil)
		email, phone := uniqueEmail("juan"), uniquePhone()
		byEmail := r.resetCode("r1", notify.Email, email)
		bySMS := r.resetCode("r2", notify.SMS, phone)
		for _, m := range []outbox.Message{byEmail, bySMS} {
			if err := r.sender.Deliver(t.Context(), m.ID); err != nil {
				t.Fatalf("Deliver(%s): %v", m.Channel, err)
			}
			got := r.message(m)
			if got.State != outbox.Sent || got.Attempts != 1 {
				t.Errorf("%s message after delivery: %s with %d attempts, want sent after 1", m.Channel, got.State, got.Attempts)
			}
		}
		sent := mototest.SentTo(t, ep)
		for to, m := range map[string]outbox.Message{email: byEmail, phone: bySMS} {
			content, err := r.sealer.Open(m.ID, m.Channel, m.Sealed)
			if err != nil {
				t.Fatal(err)
			}
			want := content.Text
			if content.HTML != "" {
				want = content.HTML // moto keeps the HTML part of an email
			}
			if len(sent[to]) != 1 || sent[to][0] != want {
				t.Errorf("moto accepted %q for %s, want the composed message once", sent[to], to)
			}
		}
	})
}

// The stream may hand the sender the same batch again (a retried
// invocation): the message id is the idempotency key, so each message goes
// out once, and the second time nothing is reported failed.
func TestABatchDeliveredTwiceSendsOnce(t *testing.T) {
	ep := mototest.Endpoint(t)
	mototest.VerifyIdentity(t, from)
	forEachStore(t, func(t *testing.T, st backend.Store) {
		r := newRig(t, st, motoNotifier(t, ep), nil)
		tos := []string{uniqueEmail("ana"), uniqueEmail("ben"), uniquePhone()}
		var ms []outbox.Message
		for i, to := range tos {
			ch := notify.Email
			if strings.HasPrefix(to, "+") {
				ch = notify.SMS
			}
			ms = append(ms, r.resetCode("acct"+string(rune('a'+i)), ch, to))
		}
		ev := streamEvent(ms...)
		for round := range 2 {
			res, err := r.sender.HandleStream(t.Context(), ev)
			if failed := failedItems(t, res, err); len(failed) > 0 {
				t.Fatalf("round %d: batch item failures %v", round+1, failed)
			}
		}
		sent := mototest.SentTo(t, ep)
		for _, to := range tos {
			if len(sent[to]) != 1 {
				t.Errorf("%d messages to %s after the batch came twice, want 1", len(sent[to]), to)
			}
		}
		for _, m := range ms {
			if got := r.message(m); got.State != outbox.Sent || got.Attempts != 1 {
				t.Errorf("message %s: %s after %d attempts, want sent after 1", m.ID, got.State, got.Attempts)
			}
		}
	})
}

// refusingProvider is an SES that answers every call 500 (its
// ServiceUnavailable), and counts them.
func refusingProvider(t *testing.T) (notify.Notifier, *atomic.Int64) {
	t.Helper()
	calls := new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code><Message>down</Message></Error></ErrorResponse>`)
	}))
	t.Cleanup(srv.Close)
	client := mototest.NewSESClient(srv.URL, func(o *ses.Options) { o.RetryMaxAttempts = 1 })
	return notify.Router{Email: sesnotify.New(client, from)}, calls
}

// A provider that refuses: each attempt is counted and reported as a batch
// item failure (the event source mapping tries again); the last one fails
// the message for good and gives its send limits back, so the person can
// ask for a new code at once, not an hour later.
func TestAFailedMessageGivesItsSendLimitsBack(t *testing.T) {
	n, calls := refusingProvider(t)
	r := newRig(t, embeddedStore(t), n, nil)
	m := r.resetCode("r1", notify.Email, "juan@example.com")
	// The cooldown holds: a second code now would be refused.
	if err := r.codes.Send(t.Context(), r.queue, account.Resident, "r1", code.PasswordReset, code.TTL, code.Message{
		Kind: notify.ResetCode, Lang: "en", Channel: notify.Email, To: "juan@example.com",
	}); !errors.As(err, new(*code.LimitError)) {
		t.Fatalf("a second code at once: %v, want the cooldown's refusal", err)
	}
	ev := streamEvent(m)
	for attempt := 1; attempt < outbox.MaxAttempts; attempt++ {
		res, err := r.sender.HandleStream(t.Context(), ev)
		if failed := failedItems(t, res, err); !slices.Equal(failed, []string{ev.Records[0].Change.SequenceNumber}) {
			t.Fatalf("attempt %d: batch item failures %v, want the record's sequence number", attempt, failed)
		}
		got := r.message(m)
		if got.State != outbox.Sending || got.Attempts != attempt || !strings.Contains(got.LastError, "ServiceUnavailable") {
			t.Fatalf("after attempt %d: %s, %d attempts, last error %q", attempt, got.State, got.Attempts, got.LastError)
		}
	}
	res, err := r.sender.HandleStream(t.Context(), ev)
	if failed := failedItems(t, res, err); len(failed) > 0 {
		t.Fatalf("the last attempt: batch item failures %v, want none (the message failed for good)", failed)
	}
	if got := r.message(m); got.State != outbox.Failed || got.Attempts != outbox.MaxAttempts {
		t.Fatalf("after the last attempt: %s with %d attempts, want failed after %d", got.State, got.Attempts, outbox.MaxAttempts)
	}
	if n := calls.Load(); n != outbox.MaxAttempts {
		t.Errorf("the provider was called %d times, want %d", n, outbox.MaxAttempts)
	}
	// Given back: the cooldown and the hourly cap let a new code through at once.
	next := r.resetCode("r1", notify.Email, "juan@example.com")
	if next.ID == m.ID || next.State != outbox.Pending {
		t.Fatalf("no new code was queued: %+v", next)
	}
	// The same batch again changes nothing and sends nothing.
	before := calls.Load()
	res, err = r.sender.HandleStream(t.Context(), ev)
	if failed := failedItems(t, res, err); len(failed) > 0 || calls.Load() != before {
		t.Errorf("the failed message's batch again: failures %v, %d more calls", failed, calls.Load()-before)
	}
}

// The hourly cap holds three codes an hour; codes whose delivery failed
// do not count toward it once given back.
func TestFailedMessagesDoNotSpendTheHourlyCap(t *testing.T) {
	n, _ := refusingProvider(t)
	r := newRig(t, embeddedStore(t), n, nil)
	for i := range code.MaxSendsPerHour + 2 {
		m := r.resetCode("r1", notify.Email, "juan@example.com")
		for range outbox.MaxAttempts {
			_ = r.sender.Deliver(t.Context(), m.ID)
		}
		if got := r.message(m); got.State != outbox.Failed {
			t.Fatalf("code %d: %s, want failed", i+1, got.State)
		}
		r.clock.Advance(code.ResendCooldown / 2) // well inside the hour, and the cooldown
	}
}

// A provider that stalls (moto stopped with SIGSTOP): the attempt gives up
// in its own time, is counted and reported as a batch item failure; once
// the provider answers again the next attempt delivers it.
func TestAStalledProviderIsTriedAgain(t *testing.T) {
	moto := mototest.Private(t)
	ep := moto.Endpoint
	n := motoNotifier(t, ep, impatient(300*time.Millisecond))
	sesClient := mototest.NewSESClient(ep)
	if _, err := sesClient.VerifyEmailIdentity(t.Context(), &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(from)}); err != nil {
		t.Fatal(err)
	}
	r := newRig(t, embeddedStore(t), n, nil)
	phone := uniquePhone()
	m := r.resetCode("r1", notify.SMS, phone)
	if err := moto.Pause(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := r.sender.HandleStream(t.Context(), streamEvent(m))
	if failed := failedItems(t, res, err); len(failed) != 1 {
		t.Fatalf("with the provider stopped: batch item failures %v, want the message's", failed)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the stalled attempt took %v", d)
	}
	if got := r.message(m); got.State != outbox.Sending || got.Attempts != 1 || got.LastError == "" {
		t.Fatalf("after the stalled attempt: %+v", got)
	}
	if err := moto.Resume(); err != nil {
		t.Fatal(err)
	}
	res, err = r.sender.HandleStream(t.Context(), streamEvent(m))
	if failed := failedItems(t, res, err); len(failed) > 0 {
		t.Fatalf("with the provider back: batch item failures %v", failed)
	}
	if got := r.message(m); got.State != outbox.Sent || got.Attempts != 2 {
		t.Fatalf("after the provider came back: %s with %d attempts, want sent after 2", got.State, got.Attempts)
	}
	// The stalled request was in moto's socket when it stopped: resumed,
	// moto may handle it too. A call that timed out may have been
	// delivered; delivery is at least once (docs/decisions.md).
	if sms := mototest.SentTo(t, ep)[phone]; len(sms) < 1 || len(sms) > 2 {
		t.Errorf("moto accepted %d SMS, want the retry's (and perhaps the stalled one's)", len(sms))
	}
}

// A message that fails for good goes to the dead-letter queue (SQS on
// moto) by id and outcome, without its recipient or content.
func TestAFailedMessageIsDeadLettered(t *testing.T) {
	sqsClient := mototest.SQSClient(t)
	url := mototest.NewQueue(t, sqsClient)
	n, _ := refusingProvider(t)
	forEachStore(t, func(t *testing.T, st backend.Store) {
		r := newRig(t, st, n, deadletter.NewQueue(sqsClient, url))
		m := r.resetCode("r1", notify.Email, "juan@example.com")
		for range outbox.MaxAttempts {
			_ = r.sender.Deliver(t.Context(), m.ID)
		}
		if got := r.message(m); got.State != outbox.Failed {
			t.Fatalf("after %d attempts: %s", outbox.MaxAttempts, got.State)
		}
		bodies := mototest.Received(t, sqsClient, url)
		if len(bodies) != 1 {
			t.Fatalf("the dead-letter queue holds %d letters, want 1: %q", len(bodies), bodies)
		}
		var l deadletter.Letter
		if err := json.Unmarshal([]byte(bodies[0]), &l); err != nil {
			t.Fatal(err)
		}
		if l.Source != deadletter.LetterSource || l.MessageID != m.ID || l.Attempts != outbox.MaxAttempts || !strings.Contains(l.LastError, "ServiceUnavailable") ||
			l.Kind != string(notify.ResetCode) || l.AccountID != "r1" {
			t.Errorf("dead letter %+v", l)
		}
		content, _ := r.sealer.Open(m.ID, m.Channel, m.Sealed)
		if strings.Contains(bodies[0], "juan@example.com") || strings.Contains(bodies[0], content.Text[strings.Index(content.Text, "code"):]) {
			t.Errorf("the dead letter holds the recipient or the content: %s", bodies[0])
		}
	})
}

// A refusal no retry can cure (SES rejects the sender: moto rejects mail
// from an address that is not verified) fails the message at its first
// attempt.
func TestAnUndeliverableMessageFailsAtOnce(t *testing.T) {
	ep := mototest.Private(t).Endpoint // nobody verified the sender there
	r := newRig(t, embeddedStore(t), motoNotifier(t, ep), nil)
	m := r.resetCode("r1", notify.Email, "juan@example.com")
	if err := r.sender.Deliver(t.Context(), m.ID); err != nil {
		t.Fatalf("Deliver: %v, want the message closed", err)
	}
	if got := r.message(m); got.State != outbox.Failed || got.Attempts != 1 || !strings.Contains(got.LastError, "undeliverable") {
		t.Fatalf("after a rejection: %+v", got)
	}
}

// A message sealed with a key the sender does not have fails at once: no
// retry can open it.
func TestAMessageThatDoesNotOpenFailsAtOnce(t *testing.T) {
	st := embeddedStore(t)
	r := newRig(t, st, outbox.Keep{}, nil)
	other, err := outbox.NewSealer([]byte(strings.Repeat("o", 32)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := outbox.NewComposer(other, r.clock).Compose(notify.PasswordChanged, "en", notify.Email, "juan@example.com", notify.Data{Name: "Juan"}, account.Resident, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutMessage(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	if err := r.sender.Deliver(t.Context(), m.ID); err != nil {
		t.Fatal(err)
	}
	if got := r.message(m); got.State != outbox.Failed || !strings.Contains(got.LastError, "unsealed") {
		t.Fatalf("a message that does not open: %+v", got)
	}
}

// A stream record that is no message (the filter should not pass it) is
// skipped, not reported.
func TestStreamRecordsOfOtherItemsAreSkipped(t *testing.T) {
	r := newRig(t, embeddedStore(t), outbox.Keep{}, nil)
	ev := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{{
		EventName: "INSERT", Change: events.DynamoDBStreamRecord{SequenceNumber: "1", Keys: map[string]events.DynamoDBAttributeValue{
			"PK": events.NewStringAttribute("ACCT#resident#r1"), "SK": events.NewStringAttribute("CODE#password_reset"),
		}},
	}}}
	res, err := r.sender.HandleStream(t.Context(), ev)
	if failed := failedItems(t, res, err); len(failed) > 0 {
		t.Fatalf("failures %v", failed)
	}
}

// The local sender (Run): a message is delivered at once when its writer
// says so, and one that failed is tried again every sweep until it fails
// for good.
func TestRunDeliversAtOnceAndSweepsRetries(t *testing.T) {
	st := embeddedStore(t)
	wake := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	r := newRig(t, st, outbox.Keep{}, nil)
	go func() { defer close(done); r.sender.Run(ctx, wake, time.Hour) }()
	t.Cleanup(func() { cancel(); <-done })
	m := r.resetCode("r1", notify.Email, "juan@example.com")
	wake <- struct{}{}
	waitFor(t, "the woken sender to deliver", func() bool { return r.message(m).State == outbox.Sent })

	n, calls := refusingProvider(t)
	st2 := embeddedStore(t)
	r2 := newRig(t, st2, n, nil)
	ctx2, cancel2 := context.WithCancel(t.Context())
	done2 := make(chan struct{})
	m2 := r2.resetCode("r1", notify.Email, "juan@example.com")
	go func() { defer close(done2); r2.sender.Run(ctx2, make(chan struct{}), 20*time.Millisecond) }()
	t.Cleanup(func() { cancel2(); <-done2 })
	waitFor(t, "the sweeps to fail the message", func() bool { return r2.message(m2).State == outbox.Failed })
	if n := calls.Load(); n != outbox.MaxAttempts {
		t.Errorf("%d attempts, want %d", n, outbox.MaxAttempts)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// What a delivery costs on DynamoDB (docs/performance.md): a message sent
// is two writes (the claim, the mark), no read; one that fails for good at
// its attempt also gives each of its charges back.
func TestDeliveryCalls(t *testing.T) {
	client := dynamotest.Client(t)
	api := &dynamotest.CountingAPI{API: client}
	st := dynamo.New(api, dynamotest.NewTable(t, client))
	r := newRig(t, st, outbox.Keep{}, nil)
	m := r.resetCode("r1", notify.SMS, "+639171234567")
	api.Calls()
	api.Reads.Store(0)
	api.Writes.Store(0)
	if err := r.sender.Deliver(t.Context(), m.ID); err != nil {
		t.Fatal(err)
	}
	if got := api.Calls(); !slices.Equal(got, []string{"UpdateItem", "UpdateItem"}) || api.Reads.Load() != 0 {
		t.Errorf("a message sent: %v, %d reads; want UpdateItem ×2 (claim, mark), no read", got, api.Reads.Load())
	}

	n, _ := refusingProvider(t)
	failing := newRig(t, st, n, nil)
	failing.clock.Advance(time.Second) // its message is the newest
	f := failing.resetCode("r2", notify.Email, "juan@example.com")
	for range outbox.MaxAttempts - 1 {
		_ = failing.sender.Deliver(t.Context(), f.ID)
	}
	api.Calls()
	_ = failing.sender.Deliver(t.Context(), f.ID)
	want := slices.Repeat([]string{"UpdateItem"}, 2+len(f.Charges))
	if got := api.Calls(); !slices.Equal(got, want) {
		t.Errorf("the last attempt of a message with %d charges: %v, want %v (claim, mark failed, one refund each)", len(f.Charges), got, want)
	}
}

// Delivery is measured where CloudWatch reads it: each outcome logs one
// line in the embedded metric format, a refusal by the provider's own code
// (here SES in a fresh account, where the sender is not verified), with
// the dimensionless total the template's alarm watches.
func TestDeliveryOutcomesAreMetrics(t *testing.T) {
	refusing := mototest.Private(t).Endpoint // nobody verified the sender there
	r := newRig(t, embeddedStore(t), motoNotifier(t, refusing), nil)
	if err := r.sender.Deliver(t.Context(), r.resetCode("r1", notify.Email, "juan@example.com").ID); err != nil {
		t.Fatal(err)
	}
	ok := newRig(t, embeddedStore(t), outbox.Keep{}, nil)
	if err := ok.sender.Deliver(t.Context(), ok.resetCode("r2", notify.SMS, "+639171234567").ID); err != nil {
		t.Fatal(err)
	}

	type directive struct {
		Timestamp         int64
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct{ Name, Unit string }
		}
	}
	metricLines := func(logs string) []map[string]any {
		var out []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("a log line that is not JSON: %q", line)
			}
			if rec["_aws"] != nil {
				out = append(out, rec)
			}
		}
		return out
	}
	check := func(rec map[string]any, name string, dims map[string]string) {
		t.Helper()
		raw, _ := json.Marshal(rec["_aws"])
		var d directive
		if err := json.Unmarshal(raw, &d); err != nil || len(d.CloudWatchMetrics) != 1 {
			t.Fatalf("_aws: %s (%v)", raw, err)
		}
		m := d.CloudWatchMetrics[0]
		wantSets := [][]string{{}}
		var names []string
		for _, n := range []string{"Channel", "Reason"} {
			if _, ok := dims[n]; ok {
				names = append(names, n)
				wantSets = append(wantSets, slices.Clone(names))
			}
		}
		if m.Namespace != "EKOLEK" || len(m.Metrics) != 1 || m.Metrics[0].Name != name || m.Metrics[0].Unit != "Count" ||
			fmt.Sprint(m.Dimensions) != fmt.Sprint(wantSets) || d.Timestamp != r.clock.Now().UnixMilli() {
			t.Errorf("EMF directive %s, want %s in EKOLEK with dimension sets %v", raw, name, wantSets)
		}
		if rec[name] != 1.0 {
			t.Errorf("%s = %v, want 1", name, rec[name])
		}
		for k, v := range dims {
			if rec[k] != v {
				t.Errorf("%s = %v, want %s", k, rec[k], v)
			}
		}
	}
	failed := metricLines(r.logs.String())
	if len(failed) != 1 {
		t.Fatalf("%d metric lines for one refused message", len(failed))
	}
	check(failed[0], sender.MetricFailed, map[string]string{"Channel": "email", "Reason": "MessageRejected"})
	sent := metricLines(ok.logs.String())
	if len(sent) != 1 {
		t.Fatalf("%d metric lines for one sent message", len(sent))
	}
	check(sent[0], sender.MetricSent, map[string]string{"Channel": "sms"})
}
