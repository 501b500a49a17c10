package sender_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/app/allparts"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/httpapi"
	"github.com/ekolek/identity/shared/logging"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/notify/mototest"
	sesnotify "github.com/ekolek/identity/shared/notify/ses"
	snsnotify "github.com/ekolek/identity/shared/notify/sns"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/password"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
	"github.com/ekolek/identity/shared/store/embedded"
)

// devMessage is one message of GET /dev/outbox.
type devMessage struct {
	Channel, To, Body, State string
	SentAt                   *string `json:"sent_at"`
	Attempts                 int
}

func devOutbox(t *testing.T, h http.Handler) []devMessage {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/dev/outbox", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("GET /dev/outbox: %d %s", w.Code, w.Body)
	}
	var out struct{ Messages []devMessage }
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

// to is the messages to one recipient.
func to(ms []devMessage, who string) []devMessage {
	return slices.DeleteFunc(slices.Clone(ms), func(m devMessage) bool { return m.To != who })
}

// The local API as `make run` serves it, with the sender inside its
// process (App.Deliver) delivering through SES on a moto that is stopped
// (SIGSTOP): a reset request answers in the code routes' time for a known
// account as for an unknown one, since nothing in the request waits for
// the provider; the message is tried every sweep and, after its last
// attempt, fails for good, shown so in GET /dev/outbox; its send limits are
// given back, so the person asks again at once (not an hour later), and
// once the provider answers, that code goes out.
func TestLocalDeliveryWithAStalledProvider(t *testing.T) {
	moto := mototest.Private(t)
	ep := moto.Endpoint
	const from = "noreply@local.test.example"
	if _, err := mototest.NewSESClient(ep).VerifyEmailIdentity(t.Context(), &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(from)}); err != nil {
		t.Fatal(err)
	}
	// Clients that give up on a stalled call after a second, once: longer
	// than a request may take here, so a request that waited for the
	// provider would show; the deployed ones give up after their bounds
	// (awsenv.Bounded), longer still.
	impatient := &http.Client{Timeout: time.Second}
	notifier := notify.Router{
		Email: sesnotify.New(mototest.NewSESClient(ep, func(o *ses.Options) { o.HTTPClient, o.RetryMaxAttempts = impatient, 1 }), from),
		SMS:   snsnotify.New(mototest.NewSNSClient(ep, func(o *sns.Options) { o.HTTPClient, o.RetryMaxAttempts = impatient, 1 }), snsnotify.Options{SenderID: "EKOLEK"}),
	}
	a, err := app.Open(t.Context(), localConfig(t), logging.New(io.Discard, slog.LevelInfo), app.Options{
		Parts: allparts.Parts(), Notifier: notifier, Hash: &cheapHash,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	h, err := a.Handler()
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, a, 50*time.Millisecond)
	const boss = "boss@local.test.example"
	if _, err := a.Accounts.CreateAdmin(t.Context(), account.NewAdmin{Username: "boss", Email: boss, FullName: "Boss", Role: "super_admin", Password: "correct horse battery staple"}); err != nil {
		t.Fatal(err)
	}
	reset := func(identifier string) time.Duration { return timedReset(t, h, identifier) }

	if err := moto.Pause(); err != nil {
		t.Fatal(err)
	}
	// Nothing in a request waits for the provider: both answer in the
	// floor's time.
	for _, id := range []string{"boss", "nobody"} {
		if took := reset(id); took > codeAnswerLimit {
			t.Errorf("reset request for %s with the provider stopped took %v, want under %v", id, took, codeAnswerLimit)
		}
	}
	waitFor(t, "the message to fail for good", func() bool {
		ms := to(devOutbox(t, h), boss)
		return len(ms) == 1 && ms[0].State == string(outbox.Failed)
	})
	m := to(devOutbox(t, h), boss)[0]
	if m.Attempts != outbox.MaxAttempts || m.SentAt != nil || !strings.Contains(m.Body, "reset") {
		t.Fatalf("the failed message in /dev/outbox: %+v", m)
	}
	// The code is in the message, sealed: not readable in the store's file.
	code := regexp.MustCompile(`\b\d{6}\b`).FindString(m.Body)
	data, err := os.ReadFile(filepath.Join(a.Config.DataDir, embedded.FileName))
	if err != nil || code == "" {
		t.Fatalf("the store's file: %v; the code %q", err, code)
	}
	if bytes.Contains(data, []byte(code)) {
		t.Errorf("the code %s is readable in the store's file", code)
	}
	// Its send limits were given back: the cooldown lets a new code
	// through at once. The provider is back for it.
	if err := moto.Resume(); err != nil {
		t.Fatal(err)
	}
	reset("boss")
	waitFor(t, "the new code to go out", func() bool {
		ms := to(devOutbox(t, h), boss)
		return len(ms) == 2 && ms[1].State == string(outbox.Sent) && ms[1].SentAt != nil
	})
	emails, _ := mototest.SentOn(t, ep)
	var got int
	for _, e := range emails {
		if slices.Contains(e.To, boss) {
			got++
		}
	}
	// The first code's stalled attempts were in moto's socket when it
	// stopped; resumed, moto may handle some of them too.
	if got < 1 || got > 1+outbox.MaxAttempts {
		t.Errorf("moto accepted %d emails to %s, want the new code's", got, boss)
	}
}

// deliver runs a's local sender (App.Deliver, as the local API does)
// with sweep until the test ends.
func deliver(t *testing.T, a *app.App, sweep time.Duration) {
	ctx, stop := context.WithCancel(context.Background())
	delivered := make(chan error, 1)
	go func() { delivered <- a.Deliver(ctx, sweep) }()
	t.Cleanup(func() {
		stop()
		if err := <-delivered; err != nil {
			t.Error(err)
		}
	})
}

// codeAnswerLimit is how long a code route may take here: its floor and
// room for a loaded machine, under the second after which the tests'
// impatient provider clients give up, so a request that waited for the
// provider would show.
const codeAnswerLimit = httpapi.CodeRouteFloor + 600*time.Millisecond

// timedReset asks h for an admin password reset by email for identifier
// and returns how long the answer (202) took.
func timedReset(t *testing.T, h http.Handler, identifier string) time.Duration {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/v1/admin/password-reset", strings.NewReader(`{"identifier":"`+identifier+`","channel":"email"}`))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	start := time.Now()
	h.ServeHTTP(w, r)
	took := time.Since(start)
	if w.Code != http.StatusAccepted {
		t.Fatalf("reset request for %s: %d %s", identifier, w.Code, w.Body)
	}
	return took
}

// localConfig is the configuration of make run, in a data directory of
// the test's own.
func localConfig(t *testing.T) config.Config {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Load(func(k string) string {
		if k == "EKOLEK_DATA_DIR" {
			return dir
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// cheapHash is argon2id at its least cost: these tests are not about it.
var cheapHash = password.Params{Memory: 8, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// timing is the answer times of reset requests for known accounts and for
// unknown identifiers under one floor.
type timing struct {
	floor          time.Duration
	known, unknown []time.Duration
}

func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(math.Ceil(q*float64(len(s))))-1]
}

func (tm timing) row() string {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }
	floor := "none"
	if tm.floor > time.Millisecond {
		floor = tm.floor.String()
	}
	return fmt.Sprintf("| %s | %d | %s | %s | %s | %s | %s | %s |", floor, len(tm.known),
		ms(quantile(tm.known, 0.5)), ms(quantile(tm.unknown, 0.5)), ms(quantile(tm.known, 0.5)-quantile(tm.unknown, 0.5)),
		ms(quantile(tm.known, 0.9)), ms(quantile(tm.unknown, 0.9)), ms(quantile(tm.known, 0.9)-quantile(tm.unknown, 0.9)))
}

// measureResetRequests times n reset requests for known admins (each
// queueing a code: the code and its message, one transaction) and n for
// unknown identifiers, interleaved, through the reset-request function's
// handler on DynamoDB Local, with the code routes' floor set to floor.
func measureResetRequests(t *testing.T, n int, floor time.Duration) timing {
	t.Helper()
	client := dynamotest.Client(t)
	st := dynamo.New(client, dynamotest.NewTable(t, client))
	cfg := localConfig(t)
	cfg.Limits.ResetIP.Max = math.MaxInt32 // one address asks for all of them
	clk := clock.NewManual(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC))
	a, err := app.Open(context.Background(), cfg, logging.New(io.Discard, slog.LevelInfo), app.Options{
		Store: st, Clock: clk, CodeRouteFloor: floor, Parts: allparts.Parts(), Hash: &cheapHash,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	h, err := a.Handler("reset-request")
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := a.Accounts.CreateAdmin(t.Context(), account.NewAdmin{
			Username: fmt.Sprintf("known%03d", i), Email: fmt.Sprintf("known%03d@timing.example.gov.ph", i),
			FullName: "Known", Role: "security_analyst", Password: "correct horse battery staple",
		}); err != nil {
			t.Fatal(err)
		}
	}
	ask := func(identifier string) time.Duration { return timedReset(t, h, identifier) }
	// A few of each first: connections, caches.
	for i := range 5 {
		ask(fmt.Sprintf("warm%03d", i))
	}
	tm := timing{floor: floor}
	for i := range n {
		tm.known = append(tm.known, ask(fmt.Sprintf("known%03d", i)))
		tm.unknown = append(tm.unknown, ask(fmt.Sprintf("nobody%03d", i)))
	}
	return tm
}

// A reset request answers a known account (whose code and message are
// written, one transaction) in the time it answers an unknown identifier:
// with the code routes' floor, the medians of 40 of each, interleaved, on
// DynamoDB Local, are within 10 ms of each other, and none answers before
// the floor. Nothing in the request waits for a provider any more; the
// floor only covers the known account's few more DynamoDB writes. Set
// EKOLEK_TIMING_RUNS (e.g. 400) to measure longer and compare floors (the
// numbers in docs/performance.md).
func TestResetRequestTimingHidesAccounts(t *testing.T) {
	n, floors := 40, []time.Duration{httpapi.CodeRouteFloor}
	if v, err := strconv.Atoi(os.Getenv("EKOLEK_TIMING_RUNS")); err == nil && v > 0 {
		n, floors = v, []time.Duration{time.Nanosecond, 50 * time.Millisecond, 100 * time.Millisecond, httpapi.CodeRouteFloor, 400 * time.Millisecond}
	}
	rows := []string{"| floor | requests each | p50 known | p50 unknown | p50 gap | p90 known | p90 unknown | p90 gap |", "|---|---:|---:|---:|---:|---:|---:|---:|"}
	for _, floor := range floors {
		tm := measureResetRequests(t, n, floor)
		rows = append(rows, tm.row())
		if floor != httpapi.CodeRouteFloor {
			continue
		}
		for _, d := range append(slices.Clone(tm.known), tm.unknown...) {
			if d < floor {
				t.Errorf("a reset request answered in %v, before the floor (%v)", d, floor)
			}
		}
		if gap := quantile(tm.known, 0.5) - quantile(tm.unknown, 0.5); gap.Abs() > 10*time.Millisecond {
			t.Errorf("median answer: %v for known accounts, %v for unknown identifiers (gap %v): the timing tells them apart", quantile(tm.known, 0.5), quantile(tm.unknown, 0.5), gap)
		}
	}
	t.Logf("reset request answer times on DynamoDB Local (ms):\n%s", strings.Join(rows, "\n"))
}
