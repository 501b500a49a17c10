package samcheck

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"gopkg.in/yaml.v3"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/httpapi"
	"github.com/ekolek/identity/shared/logging"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// recorder passes DynamoDB calls through and notes the IAM actions they
// need. A transaction needs the action of each of its items; a Query on an
// index is granted on the index's ARN, noted as "dynamodb:Query@index".
type recorder struct {
	dynamo.API
	mu      sync.Mutex
	actions map[string]bool
}

func (r *recorder) note(actions ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range actions {
		r.actions["dynamodb:"+a] = true
	}
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for a := range r.actions {
		out = append(out, a)
	}
	r.actions = map[string]bool{}
	return out
}

func (r *recorder) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	r.note("GetItem")
	return r.API.GetItem(ctx, in, o...)
}

func (r *recorder) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	r.note("BatchGetItem")
	return r.API.BatchGetItem(ctx, in, o...)
}

func (r *recorder) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if in.IndexName != nil {
		r.note("Query@index")
	} else {
		r.note("Query")
	}
	return r.API.Query(ctx, in, o...)
}

func (r *recorder) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	r.note("PutItem")
	return r.API.PutItem(ctx, in, o...)
}

func (r *recorder) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	r.note("UpdateItem")
	return r.API.UpdateItem(ctx, in, o...)
}

func (r *recorder) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	r.note("DeleteItem")
	return r.API.DeleteItem(ctx, in, o...)
}

func (r *recorder) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	for _, it := range in.TransactItems {
		switch {
		case it.Put != nil:
			r.note("PutItem")
		case it.Update != nil:
			r.note("UpdateItem")
		case it.Delete != nil:
			r.note("DeleteItem")
		case it.ConditionCheck != nil:
			r.note("ConditionCheckItem")
		}
	}
	return r.API.TransactWriteItems(ctx, in, o...)
}

func (r *recorder) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	r.note("BatchWriteItem")
	return r.API.BatchWriteItem(ctx, in, o...)
}

// granted lists the DynamoDB actions a function's policies allow, with
// index grants noted as "<action>@index".
func granted(t *testing.T, tp *tmpl, id string) []string {
	var out []string
	walk(get(get(tp.resources[id], "Properties"), "Policies"), func(n *yaml.Node) {
		acts := scalars(get(n, "Action"))
		if len(acts) == 0 {
			return
		}
		res := get(n, "Resource")
		onIndex := false
		walk(res, func(r *yaml.Node) { onIndex = onIndex || strings.Contains(r.Value, "/index/") })
		for _, a := range acts {
			if !strings.HasPrefix(a, "dynamodb:") {
				continue
			}
			if onIndex {
				a += "@index"
			}
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	})
	slices.Sort(out)
	return out
}

// Each function's template policy grants exactly the DynamoDB actions its
// code paths make: none missing (AccessDenied in production) and none spare
// (least privilege). The paths are driven through each function's own
// handler against DynamoDB Local, every branch that makes a distinct call
// included.
func TestPoliciesMatchTheCallsEachFunctionMakes(t *testing.T) {
	client := dynamotest.Client(t)
	rec := &recorder{API: client, actions: map[string]bool{}}
	st := dynamo.New(rec, dynamotest.NewTable(t, client))
	cfg, err := config.Load(func(k string) string {
		if k == "EKOLEK_DATA_DIR" {
			return t.TempDir()
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC))
	a, err := app.Open(context.Background(), cfg, logging.New(io.Discard, slog.LevelInfo), app.Options{Clock: clk, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	handlers := map[string]http.Handler{}
	for _, f := range httpapi.Functions() {
		if handlers[f], err = a.Handler(f); err != nil {
			t.Fatal(err)
		}
	}
	used := map[string]map[string]bool{}
	cookies := map[string]*http.Cookie{}
	call := func(fn, method, path, body string, want int) *httptest.ResponseRecorder {
		t.Helper()
		rec.take()
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		for _, c := range cookies {
			r.AddCookie(c)
		}
		if c := cookies["ekolek_csrftoken"]; c != nil {
			r.Header.Set("X-CSRF-Token", c.Value)
		}
		w := httptest.NewRecorder()
		handlers[fn].ServeHTTP(w, r)
		if w.Code != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, w.Code, w.Body, want)
		}
		for _, c := range w.Result().Cookies() {
			cookies[c.Name] = c
			if c.MaxAge < 0 {
				delete(cookies, c.Name)
			}
		}
		if used[fn] == nil {
			used[fn] = map[string]bool{}
		}
		for _, act := range rec.take() {
			used[fn][act] = true
		}
		return w
	}
	pw := "mango tricycle umbrella 42"
	login := func(realm, id, pw string) {
		call("login", "POST", "/v1/"+realm+"/login", fmt.Sprintf(`{"identifier":%q,"password":%q}`, id, pw), 200)
	}
	if _, err := a.Accounts.CreateAdmin(t.Context(), account.NewAdmin{Username: "boss", Email: "boss@example.com", FullName: "Boss", Role: "super_admin", Password: pw}); err != nil {
		t.Fatal(err)
	}
	w := call("register", "POST", "/v1/resident/register", `{"first_name":"Juan","last_name":"Dela Cruz","email":"juan@example.com","phone":"09171234567","barangay":"San Isidro","password":"`+pw+`"}`, 201)
	rid := strings.Split(strings.Split(w.Body.String(), `"id":"`)[1], `"`)[0]
	call("register", "POST", "/v1/resident/register", `{"first_name":"Juan","last_name":"Dela Cruz","email":"juan@example.com","phone":"09171234567","barangay":"San Isidro","password":"`+pw+`"}`, 409)

	login("admin", "boss", pw)
	login("admin", "boss", pw) // over a presented session: ends it
	call("login", "POST", "/v1/admin/login", `{"identifier":"boss","password":"wrong wrong wrong"}`, 401)
	call("admin-residents", "GET", "/v1/admin/residents?status=pending", "", 200)
	call("admin-residents", "POST", "/v1/admin/residents/"+rid+"/approve", "", 200)
	clk.Advance(20 * time.Minute) // admin idle 30m: refresh due
	call("admin-residents", "GET", "/v1/admin/residents", "", 200)

	login("resident", "juan@example.com", pw)
	call("session", "GET", "/v1/resident/session", "", 200)
	clk.Advance(61 * time.Minute) // resident idle 2h: refresh due
	call("session", "GET", "/v1/resident/session", "", 200)
	call("logout", "POST", "/v1/resident/logout", "", 204)
	login("resident", "juan@example.com", pw)
	clk.Advance(3 * time.Hour) // past idle: the item is deleted on read
	call("session", "GET", "/v1/resident/session", "", 401)

	// A resident with more sessions than one transaction holds: suspension
	// deletes the extra ones in batches first.
	now := clk.Now()
	for i := 0; i < 120; i++ {
		if err := st.CreateSession(t.Context(), session.Session{Realm: account.Resident, AccountID: rid, Key: fmt.Sprintf("%064x", i),
			CreatedAt: now, LastSeenAt: now, IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(2 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	login("admin", "boss", pw)
	w = call("admin-residents", "POST", "/v1/admin/residents/"+rid+"/suspend", "", 200)
	if !strings.Contains(w.Body.String(), `"sessions_ended":120`) {
		t.Fatalf("suspend: %s", w.Body)
	}
	clk.Advance(31 * time.Minute) // the admin session expired: deleted on read
	call("admin-residents", "GET", "/v1/admin/residents", "", 401)

	tp := loadTemplate(t)
	for _, f := range httpapi.Functions() {
		var got []string
		for act := range used[f] {
			got = append(got, act)
		}
		slices.Sort(got)
		if want := granted(t, tp, logicalID(f)); !slices.Equal(got, want) {
			t.Errorf("%s: the code calls %v; the template grants %v", logicalID(f), got, want)
		}
	}
}
