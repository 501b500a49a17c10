package dynamo_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
)

func rawItem(t *testing.T, client *dynamodb.Client, table, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := client.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName: aws.String(table),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: pk},
			"SK": &types.AttributeValueMemberS{Value: sk},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("GetItem(%s, %s): %v", pk, sk, err)
	}
	if len(out.Item) == 0 {
		t.Fatalf("no item %s / %s", pk, sk)
	}
	return out.Item
}

func wantN(t *testing.T, it map[string]types.AttributeValue, name string, want int64) {
	t.Helper()
	n, ok := it[name].(*types.AttributeValueMemberN)
	if !ok || n.Value != fmt.Sprint(want) {
		t.Errorf("%s = %#v, want N %d", name, it[name], want)
	}
}

// ceil is t in epoch seconds, rounded up: a TTL never ends an item early.
func ceil(t time.Time) int64 {
	if t.Nanosecond() > 0 {
		return t.Unix() + 1
	}
	return t.Unix()
}

// TestItemLayout pins the keys and TTL attributes of codes, counters and
// outbox messages that the package documentation describes.
func TestItemLayout(t *testing.T) {
	client := dynamotest.Client(t)
	table := dynamotest.NewTable(t, client)
	s := dynamo.New(client, table)
	now := time.Now().Truncate(time.Second).Add(250 * time.Millisecond)

	r := code.Record{Realm: account.Resident, AccountID: "r1", Purpose: code.PasswordReset, ID: "c1",
		MAC: "ab", State: code.Pending, CreatedAt: now, ExpiresAt: now.Add(code.TTL)}
	if err := s.PutCode(t.Context(), r); err != nil {
		t.Fatalf("PutCode: %v", err)
	}
	it := rawItem(t, client, table, "ACCT#resident#r1", "CODE#password_reset")
	wantN(t, it, "expires_at", ceil(r.ExpiresAt))
	exp := now.Add(15*time.Minute + 500*time.Millisecond)
	if err := s.MarkCodeVerified(t.Context(), r, exp); err != nil {
		t.Fatalf("MarkCodeVerified: %v", err)
	}
	it = rawItem(t, client, table, "ACCT#resident#r1", "CODE#password_reset")
	wantN(t, it, "expires_at", ceil(exp))

	if _, err := s.Hit(t.Context(), "code-sends:x", 3, time.Hour, now); err != nil {
		t.Fatalf("Hit: %v", err)
	}
	it = rawItem(t, client, table, "THROTTLE#code-sends:x", "COUNTER")
	wantN(t, it, "n", 1)
	wantN(t, it, "ends", now.Add(time.Hour).UnixNano())
	wantN(t, it, "expires_at", ceil(now.Add(time.Hour)))

	e := outbox.Entry{ID: "m1", Channel: notify.Email, To: "juan@example.com", Body: "hi", SentAt: now}
	if err := s.AppendOutbox(t.Context(), e, now.Add(outbox.Retention)); err != nil {
		t.Fatalf("AppendOutbox: %v", err)
	}
	it = rawItem(t, client, table, "OUTBOX", fmt.Sprintf("%020d#m1", now.UnixNano()))
	wantN(t, it, "expires_at", ceil(now.Add(outbox.Retention)))
}

// TestOutboxListsExpired documents that TTL is lazy: a message past its
// expiry is still listed until DynamoDB gets round to deleting it.
func TestOutboxListsExpired(t *testing.T) {
	client := dynamotest.Client(t)
	s := dynamo.New(client, dynamotest.NewTable(t, client))
	now := time.Now()
	if err := s.AppendOutbox(t.Context(), outbox.Entry{ID: "old", SentAt: now.Add(-time.Hour)}, now.Add(-time.Minute)); err != nil {
		t.Fatalf("AppendOutbox: %v", err)
	}
	if err := s.AppendOutbox(t.Context(), outbox.Entry{ID: "new", SentAt: now}, now.Add(time.Hour)); err != nil {
		t.Fatalf("AppendOutbox: %v", err)
	}
	es, err := s.ListOutbox(t.Context())
	if err != nil {
		t.Fatalf("ListOutbox: %v", err)
	}
	if len(es) != 2 || es[0].ID != "old" || es[1].ID != "new" {
		t.Errorf("ListOutbox = %+v, want old (expired, not yet removed) then new", es)
	}
}

// TestListOutboxPages checks ListOutbox follows LastEvaluatedKey: 2.4 MB
// of messages take at least three 1 MB pages.
func TestListOutboxPages(t *testing.T) {
	client := dynamotest.Client(t)
	api := &dynamo.CountingAPI{API: client}
	s := dynamo.New(api, dynamotest.NewTable(t, client))
	const n = 60
	now := time.Now()
	html := strings.Repeat("x", 40<<10)
	for i := range n {
		e := outbox.Entry{ID: fmt.Sprintf("m%02d", i), HTML: html, SentAt: now.Add(time.Duration(i) * time.Microsecond)}
		if err := s.AppendOutbox(t.Context(), e, now.Add(time.Hour)); err != nil {
			t.Fatalf("AppendOutbox: %v", err)
		}
	}
	es, err := s.ListOutbox(t.Context())
	if err != nil {
		t.Fatalf("ListOutbox: %v", err)
	}
	if len(es) != n || es[0].ID != "m00" || es[n-1].ID != fmt.Sprintf("m%02d", n-1) {
		t.Fatalf("ListOutbox: %d entries, want %d in order", len(es), n)
	}
	if q := api.Reads.Load(); q < 3 {
		t.Errorf("ListOutbox made %d queries, want at least 3 pages", q)
	}
}

// TestHitBudget pins what a hit costs: one write in a live window (allowed
// or refused), two when it starts one.
func TestHitBudget(t *testing.T) {
	client := dynamotest.Client(t)
	api := &dynamo.CountingAPI{API: client}
	s := dynamo.New(api, dynamotest.NewTable(t, client))
	now := time.Now()
	for i, want := range []struct {
		allowed bool
		writes  int64
	}{{true, 2}, {true, 1}, {false, 1}, {false, 1}} {
		api.Writes.Store(0)
		c, err := s.Hit(t.Context(), "k", 2, time.Minute, now)
		if err != nil {
			t.Fatalf("hit %d: %v", i+1, err)
		}
		if c.Allowed != want.allowed || api.Writes.Load() != want.writes {
			t.Errorf("hit %d: allowed %v with %d writes; want %v with %d", i+1, c.Allowed, api.Writes.Load(), want.allowed, want.writes)
		}
	}
	if r := api.Reads.Load(); r != 0 {
		t.Errorf("hits made %d reads", r)
	}
}
