package dynamo_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
	"github.com/ekolek/identity/shared/throttle"
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
	m := outbox.Message{ID: outbox.NewID(now), Kind: notify.ResetCode, Channel: notify.Email, Sealed: []byte{1, 2, 3},
		State: outbox.Pending, CreatedAt: now, UpdatedAt: now, Realm: account.Resident, AccountID: "r1",
		Charges: []throttle.Charge{{Key: "code-sends:resident:r1", Ends: now.Add(time.Hour)}}}
	if err := s.PutCode(t.Context(), r, m); err != nil {
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

	// The code's message, in its UTC day's partition, keyed by its id: the
	// stream's filter matches the PK's prefix.
	it = rawItem(t, client, table, "OUTBOX#"+now.UTC().Format("2006-01-02"), m.ID)
	wantS(t, it, "msg_state", "pending")
	wantN(t, it, "attempts", 0)
	wantS(t, it, "channel", "email")
	wantN(t, it, "expires_at", ceil(now.Add(outbox.Retention)))
	if b, ok := it["sealed"].(*types.AttributeValueMemberB); !ok || len(b.Value) != 3 {
		t.Errorf("sealed = %#v, want the sealed bytes as a binary attribute", it["sealed"])
	}
	charges, ok := it["charges"].(*types.AttributeValueMemberL)
	if !ok || len(charges.Value) != 1 {
		t.Fatalf("charges = %#v, want a list of 1", it["charges"])
	}
	wantN(t, charges.Value[0].(*types.AttributeValueMemberM).Value, "ends", now.Add(time.Hour).UnixNano())
}

// TestHitBudget pins what a hit costs: one write in a live window (allowed
// or refused), two when it starts one.
func TestHitBudget(t *testing.T) {
	client := dynamotest.Client(t)
	api := &dynamotest.CountingAPI{API: client}
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

// TestAccountAndRosterLayout pins the attributes the listing filters on,
// the history's shape and the roster item.
func TestAccountAndRosterLayout(t *testing.T) {
	client := dynamotest.Client(t)
	table := dynamotest.NewTable(t, client)
	s := dynamo.New(client, table)
	now := time.Now().Truncate(time.Second).Add(250 * time.Millisecond)
	a := account.Account{Realm: account.Resident, ID: "r1", Status: account.StatusApproved, Email: "juan@example.com",
		FirstName: "ÉLENA", LastName: "Dela Cruz", Barangay: "San Roque", CreatedAt: now,
		History: []account.StatusChange{
			{At: now, To: account.StatusPending},
			{At: now.Add(time.Minute), By: "adm1", From: account.StatusPending, To: account.StatusApproved, Reason: "ok"},
		}}
	if err := s.CreateAccount(t.Context(), a); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	it := rawItem(t, client, table, "ACCT#resident#r1", "PROFILE")
	wantS(t, it, "first_name_lc", "élena")
	wantS(t, it, "last_name_lc", "dela cruz")
	wantS(t, it, "barangay", "San Roque")
	h, ok := it["history"].(*types.AttributeValueMemberL)
	if !ok || len(h.Value) != 2 {
		t.Fatalf("history = %#v, want a list of 2", it["history"])
	}
	first, ok0 := h.Value[0].(*types.AttributeValueMemberM)
	second, ok1 := h.Value[1].(*types.AttributeValueMemberM)
	if !ok0 || !ok1 {
		t.Fatalf("history entries = %#v, want maps", h.Value)
	}
	wantN(t, first.Value, "at", now.UnixNano())
	wantS(t, first.Value, "to", "pending")
	if len(first.Value) != 2 {
		t.Errorf("system change stored with %d attributes, want at and to only: %#v", len(first.Value), first.Value)
	}
	wantS(t, second.Value, "by", "adm1")
	wantS(t, second.Value, "from", "pending")
	wantS(t, second.Value, "to", "approved")
	wantS(t, second.Value, "reason", "ok")

	// A rename updates the lower-cased copies; no history, no attribute.
	a.Version, a.FirstName, a.History = 1, "Elena", nil
	if err := s.UpdateAccount(t.Context(), a); err != nil {
		t.Fatalf("UpdateAccount: %v", err)
	}
	it = rawItem(t, client, table, "ACCT#resident#r1", "PROFILE")
	wantS(t, it, "first_name_lc", "elena")
	if _, ok := it["history"]; ok {
		t.Errorf("empty history stored: %#v", it["history"])
	}

	ad := account.Account{Realm: account.Admin, ID: "a1", Status: account.StatusActive, Username: "maria", CreatedAt: now}
	if err := s.CreateAccount(t.Context(), ad); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	ad.Version = 1
	for v := range int64(2) {
		if _, err := s.UpdateAdmin(t.Context(), ad, v, false); err != nil {
			t.Fatalf("UpdateAdmin from roster %d: %v", v, err)
		}
		ad.Version++
	}
	it = rawItem(t, client, table, "ROSTER", "ADMINS")
	wantN(t, it, "v", 2)
	if len(it) != 3 {
		t.Errorf("roster item = %#v, want PK, SK and v", it)
	}
}

// TestAdminOperationBudget pins the calls the new account and session
// operations make.
func TestAdminOperationBudget(t *testing.T) {
	client := dynamotest.Client(t)
	api := &dynamotest.CountingAPI{API: client}
	s := dynamo.New(api, dynamotest.NewTable(t, client))
	now := time.Now()
	ad := account.Account{Realm: account.Admin, ID: "a1", Status: account.StatusActive, Username: "maria", CreatedAt: now}
	if err := s.CreateAccount(t.Context(), ad); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	ad.Version = 1
	made := 0
	newSessions := func(n int) {
		t.Helper()
		for range n {
			made++
			x := session.Session{Realm: account.Admin, AccountID: "a1", Key: fmt.Sprintf("k%03d", made), CreatedAt: now,
				LastSeenAt: now, IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(8 * time.Hour)}
			if err := s.CreateSession(t.Context(), x); err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
		}
	}
	check := func(name string, reads, writes int64, call func() error) {
		t.Helper()
		api.Reads.Store(0)
		api.Writes.Store(0)
		if err := call(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r, w := api.Reads.Load(), api.Writes.Load(); r != reads || w != writes {
			t.Errorf("%s: %d reads and %d writes, want %d and %d", name, r, w, reads, writes)
		}
	}
	var roster int64
	check("Roster", 1, 0, func() (err error) { roster, err = s.Roster(t.Context()); return err })
	check("UpdateAdmin", 0, 1, func() error {
		_, err := s.UpdateAdmin(t.Context(), ad, roster, false)
		return err
	})
	ad.Version++
	newSessions(3)
	check("UpdateAdmin ending sessions", 1, 1, func() error {
		_, err := s.UpdateAdmin(t.Context(), ad, roster+1, true)
		return err
	})
	ad.Version++
	newSessions(3)
	check("UpdateAccountEndSessionsExcept", 1, 1, func() error {
		_, err := s.UpdateAccountEndSessionsExcept(t.Context(), ad, []string{"k004"})
		return err
	})
	ad.Version++
	newSessions(30)
	// The account read, the sessions' Query, one transaction.
	check("EndSessions", 2, 1, func() error {
		n, err := s.EndSessions(t.Context(), account.Admin, "a1", []string{"k004", "k007"})
		if err == nil && n != 29 {
			err = fmt.Errorf("%d sessions deleted, want 29 (of 31, keeping 2)", n)
		}
		return err
	})
}
