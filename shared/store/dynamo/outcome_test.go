package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
)

// fakeDynamoDB answers the store's calls over HTTP the way a sick DynamoDB
// would: answer decides, for the nth attempt (from 1) of the current call,
// what comes back. A hang lasts until the client gives up.
type fakeDynamoDB struct {
	attempt atomic.Int32
	answer  func(n int, w http.ResponseWriter, r *http.Request)
}

func (f *fakeDynamoDB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	f.answer(int(f.attempt.Add(1)), w, r)
}

// The answers, as DynamoDB's JSON protocol gives them.
func hang(_ int, _ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

func reset(_ int, w http.ResponseWriter, _ *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func ok(_ int, w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_, _ = io.WriteString(w, "{}")
}

func serviceError(status int, typ string) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, `{"__type":"%s","message":"from the fake"}`, typ)
	}
}

// then answers first on the first attempt and rest on the others.
func then(first, rest func(int, http.ResponseWriter, *http.Request)) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			first(n, w, r)
			return
		}
		rest(n, w, r)
	}
}

// TestWriteOutcomes pins which failures leave a write's outcome unknown
// (store.ErrOutcomeUnknown: the request may have reached DynamoDB, and it
// is not sent again) and which are DynamoDB's own refusal or never reached
// it (store.ErrUnavailable: nothing was changed; retried as the SDK
// retries), for every kind of write the store makes; reads are never
// unknown. The client is bounded as awsenv.Bounded bounds it (3 attempts,
// a response-header timeout), with shorter times.
func TestWriteOutcomes(t *testing.T) {
	var (
		validation = serviceError(400, "com.amazonaws.dynamodb.v20120810#ValidationException")
		throttled  = serviceError(400, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException")
		internal   = serviceError(500, "com.amazonaws.dynamodb.v20120810#InternalServerError")
	)
	cases := []struct {
		name   string
		answer func(int, http.ResponseWriter, *http.Request) // nil: nothing listens
		// ctx ends the call's context: after d, or before the call when d is 0.
		ctx         *time.Duration
		write, read error
		// The attempts DynamoDB saw of each write and of the read.
		writeTries, readTries int
	}{
		{name: "no answer before the response-header timeout", answer: hang,
			write: store.ErrOutcomeUnknown, writeTries: 1, read: store.ErrUnavailable, readTries: 3},
		{name: "connection closed after the request was read", answer: reset,
			write: store.ErrOutcomeUnknown, writeTries: 1, read: store.ErrUnavailable, readTries: 3},
		{name: "deadline while waiting for the answer", answer: hang, ctx: ptr(100 * time.Millisecond),
			write: store.ErrOutcomeUnknown, writeTries: 1, read: store.ErrUnavailable, readTries: 1},
		{name: "500 internal server error", answer: internal,
			write: store.ErrOutcomeUnknown, writeTries: 1, read: store.ErrUnavailable, readTries: 3},
		{name: "500, then success", answer: then(internal, ok),
			write: store.ErrOutcomeUnknown, writeTries: 1, read: store.ErrNotFound, readTries: 2},
		{name: "validation error", answer: validation,
			write: store.ErrUnavailable, writeTries: 1, read: store.ErrUnavailable, readTries: 1},
		{name: "throttled on every attempt", answer: throttled,
			write: store.ErrUnavailable, writeTries: 3, read: store.ErrUnavailable, readTries: 3},
		{name: "throttled, then success", answer: then(throttled, ok),
			write: nil, writeTries: 2, read: store.ErrNotFound, readTries: 2},
		{name: "connection refused", answer: nil, write: store.ErrUnavailable, read: store.ErrUnavailable},
		{name: "context ended before the call", answer: hang, ctx: ptr(time.Duration(0)),
			write: store.ErrUnavailable, read: store.ErrUnavailable},
	}
	a := account.Account{Realm: account.Resident, ID: "r1", Status: account.StatusPending, Email: "juan@example.com", Version: 1}
	writes := map[string]func(context.Context, *dynamo.Store) error{
		"PutItem (UpdateAccount)": func(ctx context.Context, s *dynamo.Store) error { return s.UpdateAccount(ctx, a) },
		"UpdateItem (Release)": func(ctx context.Context, s *dynamo.Store) error {
			return s.Release(ctx, "k", time.Now())
		},
		"DeleteItem (Clear)": func(ctx context.Context, s *dynamo.Store) error { return s.Clear(ctx, "k") },
		"TransactWriteItems (CreateAccount)": func(ctx context.Context, s *dynamo.Store) error {
			return s.CreateAccount(ctx, a)
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			endpoint := "http://127.0.0.1:1"
			fake := &fakeDynamoDB{answer: c.answer}
			if c.answer != nil {
				srv := httptest.NewServer(fake)
				t.Cleanup(srv.Close)
				endpoint = srv.URL
			}
			call := func(what string, op func(context.Context, *dynamo.Store) error, want error, tries int) {
				fake.attempt.Store(0)
				// A client per call: the SDK's retry quota is per client.
				client := dynamotest.NewClient(endpoint, func(o *dynamodb.Options) {
					o.HTTPClient = &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: 200 * time.Millisecond}}
					o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
						so.MaxAttempts = 3
						so.MaxBackoff = 10 * time.Millisecond
					})
				})
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
				defer cancel()
				if c.ctx != nil {
					ctx, cancel = context.WithTimeout(ctx, *c.ctx)
					defer cancel()
				}
				err := op(ctx, dynamo.New(client, "table"))
				switch {
				case want == nil && err != nil:
					t.Errorf("%s: %v, want success", what, err)
				case want != nil && !errors.Is(err, want):
					t.Errorf("%s: %v, want %v", what, err, want)
				case errors.Is(err, store.ErrOutcomeUnknown) && errors.Is(err, store.ErrUnavailable):
					t.Errorf("%s: %v is both unknown and unavailable", what, err)
				}
				if n := int(fake.attempt.Load()); n != tries {
					t.Errorf("%s: DynamoDB saw %d attempts, want %d", what, n, tries)
				}
			}
			for name, write := range writes {
				call(name, write, c.write, c.writeTries)
			}
			call("GetItem (GetAccount)", func(ctx context.Context, s *dynamo.Store) error {
				_, err := s.GetAccount(ctx, account.Resident, "r1")
				return err
			}, c.read, c.readTries)
		})
	}
}

func ptr[T any](v T) *T { return &v }
