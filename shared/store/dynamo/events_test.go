package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
)

const day = 24 * time.Hour

// evNow is a fixed time of day on a UTC day near now, so TTLs set from it
// lie ahead.
func evNow() time.Time {
	return time.Now().UTC().Truncate(day).Add(-3*day + 10*time.Hour + 250*time.Millisecond)
}

func wantS(t *testing.T, it map[string]types.AttributeValue, name, want string) {
	t.Helper()
	s, ok := it[name].(*types.AttributeValueMemberS)
	if !ok || s.Value != want {
		t.Errorf("%s = %#v, want S %q", name, it[name], want)
	}
}

// TestEventItemLayout pins the keys, TTL and day marker the package
// documentation describes.
func TestEventItemLayout(t *testing.T) {
	client := dynamotest.Client(t)
	table := dynamotest.NewTable(t, client)
	s := dynamo.New(client, table)
	now := evNow()
	exp := now.Add(400 * day)
	withAcct := audit.Event{ID: "e1", Type: audit.LoginSucceeded, Realm: account.Resident, AccountID: "r1",
		Identifier: "ju***@example.com", IP: "203.0.113.7", UserAgent: "ua", RequestID: "req",
		Time: now, Details: map[string]string{"route": "POST /v1/auth/login"}}
	noAcct := audit.Event{ID: "e2", Type: audit.LoginFailed, Realm: account.Admin, Time: now.Add(time.Second)}
	for _, e := range []audit.Event{withAcct, noAcct} {
		if err := s.AppendEvent(t.Context(), e, exp); err != nil {
			t.Fatalf("AppendEvent(%s): %v", e.ID, err)
		}
	}
	d := now.Format("2006-01-02")
	sk := fmt.Sprintf("EVENT#%020d#e1", now.UnixNano())
	it := rawItem(t, client, table, "ACCT#resident#r1", sk)
	wantS(t, it, "GSI1PK", "EVENTS#"+d)
	wantS(t, it, "GSI1SK", fmt.Sprintf("%020d#e1", now.UnixNano()))
	wantS(t, it, "type", "login_succeeded")
	wantN(t, it, "time", now.UnixNano())
	wantN(t, it, "expires_at", ceil(exp))
	if m, ok := it["details"].(*types.AttributeValueMemberM); !ok || len(m.Value) != 1 {
		t.Errorf("details = %#v, want a map of one", it["details"])
	}
	it = rawItem(t, client, table, "EVENTS#"+d, fmt.Sprintf("EVENT#%020d#e2", now.Add(time.Second).UnixNano()))
	wantS(t, it, "GSI1PK", "EVENTS#"+d)
	wantN(t, it, "expires_at", ceil(exp))
	it = rawItem(t, client, table, "EVENTDAYS", d)
	wantN(t, it, "expires_at", ceil(exp)+2*24*3600)
}

// TestEventDayMarkers pins AppendEvent's writes: the day marker once per
// day and Store, again only when an event needs it to live longer, and
// never shortened by another Store's event.
func TestEventDayMarkers(t *testing.T) {
	client := dynamotest.Client(t)
	table := dynamotest.NewTable(t, client)
	api := &dynamotest.CountingAPI{API: client}
	s := dynamo.New(api, table)
	now := evNow()
	d := now.Format("2006-01-02")
	seq := 0
	appendEv := func(s *dynamo.Store, at, exp time.Time, wantWrites int64) {
		t.Helper()
		seq++
		api.Writes.Store(0)
		e := audit.Event{ID: fmt.Sprintf("e%d", seq), Type: audit.LoginFailed, Realm: account.Resident, Time: at}
		if err := s.AppendEvent(t.Context(), e, exp); err != nil {
			t.Fatalf("AppendEvent(%s): %v", e.ID, err)
		}
		if w := api.Writes.Load(); w != wantWrites {
			t.Errorf("AppendEvent(%s) made %d writes, want %d", e.ID, w, wantWrites)
		}
	}
	marker := func(day string) map[string]types.AttributeValue {
		return rawItem(t, client, table, "EVENTDAYS", day)
	}
	const retention = 400 * day
	appendEv(s, now, now.Add(retention), 2)
	appendEv(s, now.Add(time.Hour), now.Add(time.Hour+retention), 1)
	appendEv(s, now.Add(13*time.Hour), now.Add(13*time.Hour+retention), 1)
	wantN(t, marker(d), "expires_at", ceil(now.Add(retention))+2*24*3600)
	// The next day has its own marker.
	appendEv(s, now.Add(day), now.Add(day+retention), 2)
	// A longer retention outlives the marker: it is written again.
	appendEv(s, now.Add(2*time.Hour), now.Add(2*time.Hour+2*retention), 2)
	longer := ceil(now.Add(2*time.Hour+2*retention)) + 2*24*3600
	wantN(t, marker(d), "expires_at", longer)
	// Another Store (process) with a shorter retention leaves it longer.
	other := dynamo.New(api, table)
	appendEv(other, now.Add(3*time.Hour), now.Add(3*time.Hour+day), 2)
	wantN(t, marker(d), "expires_at", longer)
	// No expiry: a marker without TTL, kept so.
	appendEv(s, now.Add(4*time.Hour), time.Time{}, 2)
	appendEv(s, now.Add(5*time.Hour), time.Time{}, 1)
	appendEv(other, now.Add(6*time.Hour), now.Add(6*time.Hour+retention), 2)
	if _, ok := marker(d)["expires_at"]; ok {
		t.Errorf("marker of a day with an event kept for ever has a TTL: %v", marker(d)["expires_at"])
	}
}

// queryRecorder notes every Query the store makes.
type queryRecorder struct {
	dynamo.API
	mu  sync.Mutex
	ins []dynamodb.QueryInput
}

func (r *queryRecorder) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	r.mu.Lock()
	r.ins = append(r.ins, *in)
	r.mu.Unlock()
	return r.API.Query(ctx, in, opts...)
}

func (r *queryRecorder) take() []dynamodb.QueryInput {
	r.mu.Lock()
	defer r.mu.Unlock()
	ins := r.ins
	r.ins = nil
	return ins
}

// spreadEvents appends, over 12 days of which every third holds events, 40
// events a day, one in five of them of type rare; it returns the rare ones,
// newest first.
func spreadEvents(t *testing.T, s *dynamo.Store, start time.Time, rare audit.Type) []string {
	t.Helper()
	var want []string
	for d := range 12 {
		if d%3 != 0 {
			continue
		}
		for i := range 40 {
			e := audit.Event{ID: fmt.Sprintf("d%02d-%02d", d, i), Type: audit.LoginSucceeded, Realm: account.Resident,
				Time: start.Add(time.Duration(d)*day + time.Duration(i)*time.Minute)}
			if i%5 == 3 {
				e.Type = rare
				want = append(want, e.ID)
			}
			if i%2 == 0 {
				e.AccountID = "r1"
			}
			if err := s.AppendEvent(t.Context(), e, time.Now().Add(400*day)); err != nil {
				t.Fatalf("AppendEvent: %v", err)
			}
		}
	}
	slices.Reverse(want)
	return want
}

// TestEventQueryBudget: when the Query budget of one call runs out, the
// page comes back short, even empty, with a cursor that goes on exactly
// where the walk stopped.
func TestEventQueryBudget(t *testing.T) {
	client := dynamotest.Client(t)
	rec := &queryRecorder{API: client}
	s := dynamo.New(rec, dynamotest.NewTable(t, client))
	want := spreadEvents(t, s, evNow().Add(-12*day), audit.LoginFailed)
	for _, budget := range []int{1, 2, 3} {
		restore := dynamo.SetMaxEventQueries(budget)
		for _, q := range []audit.Query{{Type: audit.LoginFailed, Limit: 5}, {Type: audit.LoginFailed, Realm: account.Resident, AccountID: "r1", Limit: 3}} {
			wantIDs := want
			if q.AccountID != "" {
				wantIDs = nil
				for _, id := range want {
					if n := id[len(id)-2:]; (n[1]-'0')%2 == 0 {
						wantIDs = append(wantIDs, id)
					}
				}
			}
			var got []string
			short, calls := 0, 0
			for {
				calls++
				if calls > 200 {
					t.Fatalf("budget %d, %+v: no end after 200 calls", budget, q)
				}
				es, next, err := s.QueryEvents(t.Context(), q)
				if err != nil {
					t.Fatalf("QueryEvents: %v", err)
				}
				ins := rec.take()
				if n := len(ins); n > budget+1 {
					t.Errorf("budget %d: one call made %d queries", budget, n)
				}
				for _, e := range es {
					got = append(got, e.ID)
				}
				if next == "" {
					break
				}
				if len(es) < q.Limit {
					short++
				}
				q.Cursor = next
			}
			if !slices.Equal(got, wantIDs) {
				t.Errorf("budget %d, %+v:\n got %v\nwant %v", budget, q, got, wantIDs)
			}
			if budget == 1 && q.AccountID == "" && short == 0 {
				t.Errorf("budget 1, %+v: no page of the walk was cut short", q)
			}
		}
		restore()
	}
}

// TestEventQueryShape pins how QueryEvents reads: an account's events from
// its partition, consistently, the rest from GSI1 day by day, after the
// list of days; with a filter, more than the page is evaluated per call.
func TestEventQueryShape(t *testing.T) {
	client := dynamotest.Client(t)
	rec := &queryRecorder{API: client}
	s := dynamo.New(rec, dynamotest.NewTable(t, client))
	spreadEvents(t, s, evNow().Add(-12*day), audit.AdminUpdated)
	rec.take()

	if _, _, err := s.QueryEvents(t.Context(), audit.Query{Realm: account.Resident, AccountID: "r1", Limit: 5}); err != nil {
		t.Fatal(err)
	}
	ins := rec.take()
	if len(ins) != 1 || ins[0].IndexName != nil || !aws.ToBool(ins[0].ConsistentRead) || aws.ToBool(ins[0].ScanIndexForward) ||
		!strings.Contains(aws.ToString(ins[0].KeyConditionExpression), "SK BETWEEN") {
		t.Errorf("account query: %d queries, first %+v", len(ins), ins[0])
	}

	if _, _, err := s.QueryEvents(t.Context(), audit.Query{Limit: 200}); err != nil {
		t.Fatal(err)
	}
	ins = rec.take()
	if len(ins) != 1+4 {
		t.Fatalf("walk over 4 days with events made %d queries, want the day list and 4", len(ins))
	}
	if ins[0].IndexName != nil || !aws.ToBool(ins[0].ConsistentRead) {
		t.Errorf("day list query %+v", ins[0])
	}
	for _, in := range ins[1:] {
		if aws.ToString(in.IndexName) != dynamo.IndexGSI1 || aws.ToBool(in.ScanIndexForward) || in.FilterExpression != nil {
			t.Errorf("day query %+v", in)
		}
	}

	if _, _, err := s.QueryEvents(t.Context(), audit.Query{Type: audit.AdminUpdated, Limit: 1}); err != nil {
		t.Fatal(err)
	}
	ins = rec.take()
	if len(ins) != 2 || ins[1].FilterExpression == nil || aws.ToInt32(ins[1].Limit) < 100 {
		t.Errorf("filtered walk: %d queries, day query %+v", len(ins), ins[len(ins)-1])
	}
}
