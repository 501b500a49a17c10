package dynamo_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
	"github.com/ekolek/identity/shared/store/storetest"
	"github.com/ekolek/identity/shared/throttle"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

func TestConformance(t *testing.T) {
	client := dynamotest.Client(t)
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return dynamo.New(client, dynamotest.NewTable(t, client))
	})
}

func TestCreateTableIsIdempotent(t *testing.T) {
	client := dynamotest.Client(t)
	name := dynamotest.NewTable(t, client)
	if err := dynamo.CreateTable(t.Context(), client, name); err != nil {
		t.Fatalf("CreateTable on an existing table: %v", err)
	}
	ttl, err := client.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatalf("DescribeTimeToLive: %v", err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || aws.ToString(d.AttributeName) != "expires_at" ||
		d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Errorf("TTL = %+v, want enabled on expires_at", ttl.TimeToLiveDescription)
	}
}

// TestSessionTTL checks the TTL attribute is epoch seconds no earlier than
// the absolute expiry, so DynamoDB never removes a live session.
func TestSessionTTL(t *testing.T) {
	client := dynamotest.Client(t)
	table := dynamotest.NewTable(t, client)
	s := dynamo.New(client, table)
	exp := time.Date(2025, 3, 1, 16, 0, 0, 500_000_000, time.UTC)
	x := session.Session{Realm: account.Resident, AccountID: "r1", Key: "k1",
		CreatedAt: exp.Add(-8 * time.Hour), LastSeenAt: exp.Add(-8 * time.Hour),
		IdleExpiresAt: exp.Add(-7 * time.Hour), ExpiresAt: exp}
	if err := s.CreateSession(t.Context(), x); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	out, err := client.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName: aws.String(table),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "ACCT#resident#r1"},
			"SK": &types.AttributeValueMemberS{Value: "SESSION#k1"},
		},
	})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	n, ok := out.Item["expires_at"].(*types.AttributeValueMemberN)
	if !ok || n.Value != "1740844801" {
		t.Errorf("expires_at = %#v, want N 1740844801 (%d rounded up)", out.Item["expires_at"], exp.Unix())
	}
}

// TestAuthenticatedReadIsOneCall pins the budget the HTTP layer relies on:
// reading a session with its account is a single read and no write.
func TestAuthenticatedReadIsOneCall(t *testing.T) {
	client := dynamotest.Client(t)
	api := &dynamotest.CountingAPI{API: client}
	s := dynamo.New(api, dynamotest.NewTable(t, client))
	a := account.Account{Realm: account.Resident, ID: "r1", Status: account.StatusApproved, Email: "juan@example.com",
		CreatedAt: time.Now()}
	if err := s.CreateAccount(t.Context(), a); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	now := time.Now()
	x := session.Session{Realm: account.Resident, AccountID: "r1", Key: "k1", CreatedAt: now, LastSeenAt: now,
		IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(8 * time.Hour)}
	if err := s.CreateSession(t.Context(), x); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	if r, w := api.Reads.Load(), api.Writes.Load(); r != 0 || w != 2 {
		t.Fatalf("after two creates: %d reads, %d writes; want 0, 2", r, w)
	}
	api.Reads.Store(0)
	api.Writes.Store(0)
	if _, _, err := s.GetSession(t.Context(), account.Resident, "r1", "k1"); err != nil {
		t.Fatalf("GetSession: %v", err)
	}
	if r, w := api.Reads.Load(), api.Writes.Load(); r != 1 || w != 0 {
		t.Errorf("GetSession made %d reads and %d writes; want 1 and 0", r, w)
	}
}

// TestUnavailable points the store at a port nothing listens on: every
// method must say ErrUnavailable, and nothing else.
func TestUnavailable(t *testing.T) {
	client := dynamotest.NewClient("http://127.0.0.1:1", func(o *dynamodb.Options) {
		o.RetryMaxAttempts = 1
		o.HTTPClient = &http.Client{Timeout: 2 * time.Second}
	})
	checkAllUnavailable(t, dynamo.New(client, "no-such-table"))
	if err := dynamo.CreateTable(t.Context(), client, "no-such-table"); err == nil {
		t.Error("CreateTable against a closed port succeeded")
	}
}

// TestServiceErrorsAreUnavailable feeds a refusal DynamoDB itself returns
// (not a condition failure) through every method: it must come out as
// ErrUnavailable with the SDK error hidden. (Which failures leave a write's
// outcome unknown instead: TestWriteOutcomes.)
func TestServiceErrorsAreUnavailable(t *testing.T) {
	checkAllUnavailable(t, dynamo.New(failingAPI{}, "table"))
}

func checkAllUnavailable(t *testing.T, s *dynamo.Store) {
	t.Helper()
	a := account.Account{Realm: account.Resident, ID: "r1", Status: account.StatusPending,
		Email: "juan@example.com", CreatedAt: time.Now(), Version: 1}
	x := session.Session{Realm: account.Resident, AccountID: "r1", Key: "k1", CreatedAt: time.Now(),
		LastSeenAt: time.Now(), IdleExpiresAt: time.Now().Add(time.Hour), ExpiresAt: time.Now().Add(time.Hour)}
	c := code.Record{Realm: account.Resident, AccountID: "r1", Purpose: code.VerifyEmail, ID: "c1",
		State: code.Pending, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(code.TTL)}
	m := outbox.Message{ID: outbox.NewID(time.Now()), State: outbox.Pending, CreatedAt: time.Now(), Attempts: 1}
	calls := map[string]func(ctx context.Context) error{
		"CreateAccount": func(ctx context.Context) error { return s.CreateAccount(ctx, a) },
		"GetAccount": func(ctx context.Context) error {
			_, err := s.GetAccount(ctx, account.Resident, "r1")
			return err
		},
		"LookupIdentifier": func(ctx context.Context) error {
			_, err := s.LookupIdentifier(ctx, account.Resident, account.Identifier{Kind: account.KindEmail, Value: "juan@example.com"})
			return err
		},
		"UpdateAccount": func(ctx context.Context) error { return s.UpdateAccount(ctx, a) },
		"UpdateAccountEndSessions": func(ctx context.Context) error {
			_, err := s.UpdateAccountEndSessions(ctx, a)
			return err
		},
		"ListAccounts": func(ctx context.Context) error {
			_, _, err := s.ListAccounts(ctx, account.ListQuery{Realm: account.Resident, Limit: 10})
			return err
		},
		"ListAccounts/Filtered": func(ctx context.Context) error {
			_, _, err := s.ListAccounts(ctx, account.ListQuery{Realm: account.Resident, Barangays: []string{"San Roque"}, Prefixes: []string{"ju"}, Limit: 10})
			return err
		},
		"UpdateAccountEndSessionsExcept": func(ctx context.Context) error {
			_, err := s.UpdateAccountEndSessionsExcept(ctx, a, []string{"k1"})
			return err
		},
		"Roster": func(ctx context.Context) error {
			_, err := s.Roster(ctx)
			return err
		},
		"UpdateAdmin": func(ctx context.Context) error {
			_, err := s.UpdateAdmin(ctx, a, 0, false)
			return err
		},
		"UpdateAdmin/EndSessions": func(ctx context.Context) error {
			_, err := s.UpdateAdmin(ctx, a, 0, true)
			return err
		},
		"CreateSession": func(ctx context.Context) error { return s.CreateSession(ctx, x) },
		"GetSession": func(ctx context.Context) error {
			_, _, err := s.GetSession(ctx, account.Resident, "r1", "k1")
			return err
		},
		"TouchSession": func(ctx context.Context) error {
			return s.TouchSession(ctx, x, time.Now(), time.Now().Add(time.Hour))
		},
		"DeleteSession": func(ctx context.Context) error { return s.DeleteSession(ctx, account.Resident, "r1", "k1") },
		"ListSessions": func(ctx context.Context) error {
			_, err := s.ListSessions(ctx, account.Resident, "r1")
			return err
		},
		"EndSessions": func(ctx context.Context) error {
			_, err := s.EndSessions(ctx, account.Resident, "r1", []string{"k1"})
			return err
		},
		"Hit": func(ctx context.Context) error {
			_, err := s.Hit(ctx, "k", 3, time.Minute, time.Now())
			return err
		},
		"Peek": func(ctx context.Context) error {
			_, err := s.Peek(ctx, "k", time.Now())
			return err
		},
		"Clear":   func(ctx context.Context) error { return s.Clear(ctx, "k") },
		"PutCode": func(ctx context.Context) error { return s.PutCode(ctx, c, m) },
		"GetCode": func(ctx context.Context) error {
			_, err := s.GetCode(ctx, account.Resident, "r1", code.VerifyEmail)
			return err
		},
		"ReserveAttempt": func(ctx context.Context) error {
			_, err := s.ReserveAttempt(ctx, c)
			return err
		},
		"MarkCodeVerified": func(ctx context.Context) error { return s.MarkCodeVerified(ctx, c, time.Now().Add(time.Hour)) },
		"VerifyContact":    func(ctx context.Context) error { return s.VerifyContact(ctx, a, c) },
		"ResetPassword": func(ctx context.Context) error {
			_, err := s.ResetPassword(ctx, a, c, nil)
			return err
		},
		"PutMessage": func(ctx context.Context) error { return s.PutMessage(ctx, m) },
		"ClaimMessage": func(ctx context.Context) error {
			_, err := s.ClaimMessage(ctx, m.ID, time.Now())
			return err
		},
		"MarkMessageSent":   func(ctx context.Context) error { return s.MarkMessageSent(ctx, m, time.Now()) },
		"MarkMessageFailed": func(ctx context.Context) error { return s.MarkMessageFailed(ctx, m, "x", true, time.Now()) },
		"ListMessages": func(ctx context.Context) error {
			_, err := s.ListMessages(ctx, time.Now().Add(-time.Hour), time.Now())
			return err
		},
		"ListUnfinished": func(ctx context.Context) error {
			_, err := s.ListUnfinished(ctx, time.Now().Add(-time.Hour), time.Now())
			return err
		},
		"Refund": func(ctx context.Context) error {
			return s.Refund(ctx, throttle.Charge{Key: "k", Ends: time.Now()})
		},
		"AppendEvent": func(ctx context.Context) error {
			return s.AppendEvent(ctx, audit.Event{ID: "e1", Type: audit.LoginFailed, Time: time.Now()}, time.Now().Add(time.Hour))
		},
		"QueryEvents": func(ctx context.Context) error {
			_, _, err := s.QueryEvents(ctx, audit.Query{Type: audit.LoginFailed})
			return err
		},
		"QueryEvents/Account": func(ctx context.Context) error {
			_, _, err := s.QueryEvents(ctx, audit.Query{Realm: account.Resident, AccountID: "r1"})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			err := call(ctx)
			if !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("got %v, want ErrUnavailable", err)
			}
			if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
				t.Errorf("%v also matches a decided outcome", err)
			}
			var apiErr smithy.APIError
			if errors.As(err, &apiErr) {
				t.Errorf("SDK error %T reachable through %v", apiErr, err)
			}
		})
	}
}

// failingAPI answers every call the way DynamoDB does when it refuses one.
type failingAPI struct{ dynamo.API }

var errRefused = &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}

func (failingAPI) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return nil, errRefused
}

func (failingAPI) BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return nil, errRefused
}

func (failingAPI) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return nil, errRefused
}

func (failingAPI) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, errRefused
}

func (failingAPI) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, errRefused
}

func (failingAPI) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return nil, errRefused
}

func (failingAPI) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return nil, errRefused
}

func (failingAPI) BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return nil, errRefused
}

// busyAPI cancels the first failures transactions the way DynamoDB does when
// another transaction holds one of the items.
type busyAPI struct {
	failingAPI
	failures, calls int
}

func (b *busyAPI) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	b.calls++
	if b.calls <= b.failures {
		return nil, &types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{
			{Code: aws.String("None")}, {Code: aws.String("TransactionConflict")},
		}}
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

// TestTransactionConflictRetried covers what DynamoDB Local never does (it
// runs transactions one at a time): a transaction cancelled only because
// another one was in flight is retried, and reported as a lost race if it
// keeps happening.
func TestTransactionConflictRetried(t *testing.T) {
	a := account.Account{Realm: account.Resident, ID: "r1", Status: account.StatusPending,
		Email: "juan@example.com", CreatedAt: time.Now()}
	tests := []struct {
		failures, wantCalls int
		want                error
	}{
		{0, 1, nil},
		{2, 3, nil},
		{100, 4, store.ErrConflict},
	}
	for _, tc := range tests {
		api := &busyAPI{failures: tc.failures}
		err := dynamo.New(api, "table").CreateAccount(t.Context(), a)
		if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("%d conflicts: got %v, want %v", tc.failures, err, tc.want)
		}
		if api.calls != tc.wantCalls {
			t.Errorf("%d conflicts: %d calls, want %d", tc.failures, api.calls, tc.wantCalls)
		}
	}
}
