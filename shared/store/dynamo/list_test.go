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

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
)

// listRecorder records what each Query on an index handed back.
type listRecorder struct {
	dynamo.API
	mu               sync.Mutex
	calls            int
	returned, read   int
	filterExpression []string
}

func (r *listRecorder) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := r.API.Query(ctx, in, opts...)
	if in.IndexName != nil && err == nil {
		r.mu.Lock()
		r.calls++
		r.returned += int(out.Count)
		r.read += int(out.ScannedCount)
		r.filterExpression = append(r.filterExpression, aws.ToString(in.FilterExpression))
		r.mu.Unlock()
	}
	return out, err
}

func (r *listRecorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls, r.returned, r.read, r.filterExpression = 0, 0, 0, nil
}

// listResidents stores n residents: names Name<i> Filler, barangay
// "Brgy <i%50>", phone +63917<7 digits of i> for even i, +63918… for odd.
func listResidents(t *testing.T, s *dynamo.Store, n int) {
	t.Helper()
	base := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	for i := range n {
		net := "917"
		if i%2 == 1 {
			net = "918"
		}
		a := account.Account{Realm: account.Resident, ID: fmt.Sprintf("r%03d", i), Status: account.StatusApproved,
			Email: fmt.Sprintf("person%03d@example.com", i), FirstName: fmt.Sprintf("Name%03d", i), LastName: "Filler",
			Phone: fmt.Sprintf("+63%s%07d", net, i), Barangay: fmt.Sprintf("Brgy %d", i%50),
			CreatedAt: base.Add(time.Duration(i) * time.Minute)}
		if err := s.CreateAccount(t.Context(), a); err != nil {
			t.Fatalf("CreateAccount: %v", err)
		}
	}
}

// listEvery pages through q and returns the ids and how many pages it took.
func listEvery(t *testing.T, s *dynamo.Store, q account.ListQuery) (ids []string, pages int) {
	t.Helper()
	for ; ; pages++ {
		if pages > 200 {
			t.Fatal("more than 200 pages")
		}
		page, next, err := s.ListAccounts(t.Context(), q)
		if err != nil {
			t.Fatalf("ListAccounts(%+v): %v", q, err)
		}
		for _, a := range page {
			ids = append(ids, a.ID)
		}
		if next == "" {
			return ids, pages + 1
		}
		q.Cursor = next
	}
}

// TestListFilterExpression checks DynamoDB itself drops what does not
// match (the store's own check in Go must find nothing left to drop): the
// filters are a FilterExpression, also with more than 100 barangays (more
// than one IN) and with the empty barangay.
func TestListFilterExpression(t *testing.T) {
	client := dynamotest.Client(t)
	rec := &listRecorder{API: client}
	s := dynamo.New(rec, dynamotest.NewTable(t, client))
	listResidents(t, s, 100)

	many := []string{"Brgy 3"}
	for i := range 150 {
		many = append(many, fmt.Sprintf("Elsewhere %d", i))
	}
	tests := []struct {
		name string
		q    account.ListQuery
		want int
	}{
		{"barangay", account.ListQuery{Barangays: []string{"Brgy 7", "Brgy 8"}}, 4},
		{"151 barangays", account.ListQuery{Barangays: many}, 2},
		{"the empty barangay", account.ListQuery{Barangays: []string{""}}, 0},
		{"first name", account.ListQuery{Prefixes: []string{"name01"}}, 10},
		{"phone", account.ListQuery{Prefixes: []string{"+63918"}}, 50},
		{"both", account.ListQuery{Barangays: []string{"Brgy 1", "Brgy 2"}, Prefixes: []string{"+63917", "person05"}}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec.reset()
			q := tc.q
			q.Realm, q.Limit = account.Resident, 1000
			ids, _ := listEvery(t, s, q)
			if len(ids) != tc.want {
				t.Errorf("listed %d accounts, want %d: %v", len(ids), tc.want, ids)
			}
			if rec.returned != tc.want || rec.read < 100 {
				t.Errorf("DynamoDB read %d and returned %d accounts, want 100+ and %d (filters: %q)",
					rec.read, rec.returned, tc.want, rec.filterExpression)
			}
		})
	}
}

// TestListFilterTooLong gives more barangays than fit in a 4 KB
// expression: the prefixes still go to DynamoDB, the barangays are checked
// in Go, and the result is the same.
func TestListFilterTooLong(t *testing.T) {
	client := dynamotest.Client(t)
	rec := &listRecorder{API: client}
	s := dynamo.New(rec, dynamotest.NewTable(t, client))
	listResidents(t, s, 100)
	var many []string
	for i := range 900 {
		many = append(many, fmt.Sprintf("Far away barangay %d", i))
	}
	many = append(many, "Brgy 4", "Brgy 5")
	for _, tc := range []struct {
		prefixes []string
		want     []string
		returned int
	}{
		{nil, []string{"r004", "r005", "r054", "r055"}, 100},
		{[]string{"+63918"}, []string{"r005", "r055"}, 50},
	} {
		ids, _ := listEvery(t, s, account.ListQuery{Realm: account.Resident, Barangays: many, Prefixes: tc.prefixes, Limit: 3})
		if !slices.Equal(ids, tc.want) {
			t.Errorf("prefixes %v: listed %v, want %v", tc.prefixes, ids, tc.want)
		}
		rec.reset()
		ids, _ = listEvery(t, s, account.ListQuery{Realm: account.Resident, Barangays: many, Prefixes: tc.prefixes, Limit: 1000})
		if !slices.Equal(ids, tc.want) {
			t.Errorf("prefixes %v, one page: listed %v, want %v", tc.prefixes, ids, tc.want)
		}
		if rec.returned != tc.returned {
			t.Errorf("prefixes %v: DynamoDB returned %d accounts, want %d (filters: %q)", tc.prefixes, rec.returned, tc.returned, rec.filterExpression)
		}
		for _, f := range rec.filterExpression {
			if strings.Contains(f, "#b") || len(f) > 4096 {
				t.Errorf("filter expression of %d bytes with the barangays: %.80q…", len(f), f)
			}
		}
	}
}

// TestListQueryBudget holds ListAccounts to one Query a call: a sparse
// filter comes back in short (mostly empty) pages, each continuing where
// the last one stopped, and every match once.
func TestListQueryBudget(t *testing.T) {
	client := dynamotest.Client(t)
	rec := &listRecorder{API: client}
	s := dynamo.New(rec, dynamotest.NewTable(t, client))
	listResidents(t, s, 450)
	defer dynamo.SetMaxListQueries(1)()

	for _, tc := range []struct {
		name  string
		q     account.ListQuery
		limit int
		want  []string
	}{
		{"sparse", account.ListQuery{Barangays: []string{"Brgy 13"}}, 5,
			[]string{"r013", "r063", "r113", "r163", "r213", "r263", "r313", "r363", "r413"}},
		{"dense", account.ListQuery{Prefixes: []string{"+63917"}}, 7, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec.reset()
			q := tc.q
			q.Realm, q.Limit = account.Resident, tc.limit
			ids, pages := listEvery(t, s, q)
			want := tc.want
			if want == nil {
				for i := 0; i < 450; i += 2 {
					want = append(want, fmt.Sprintf("r%03d", i))
				}
			}
			if !slices.Equal(ids, want) {
				t.Errorf("listed\n %v\nwant\n %v", ids, want)
			}
			if rec.calls != pages {
				t.Errorf("%d queries for %d pages, want one each", rec.calls, pages)
			}
			// Sparse pages end where the Query stopped: nothing is read twice.
			if tc.name == "sparse" && rec.read != 450 {
				t.Errorf("read %d accounts in all for 450 stored", rec.read)
			}
		})
	}
}
