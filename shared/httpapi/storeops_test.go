package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
)

// TestStoreCallsPerRoute counts the DynamoDB calls each admin-realm and
// session-management route makes (docs/performance.md reports them) and
// holds them to that table.
func TestStoreCallsPerRoute(t *testing.T) {
	client := dynamotest.Client(t)
	counter := &dynamo.CountingAPI{API: client}
	e := newEnv(t, withStore(dynamo.New(counter, dynamotest.NewTable(t, client))))
	rid := e.verifiedResident(false)
	e.createAdmin("analyst", account.RoleSecurityAnalyst)
	boss, res, other := e.browser(), e.browser(), e.browser()
	boss.mustLogin("admin", "boss", adminPassword)
	res.mustLogin("resident", "juan@example.com", residentPassword)
	other.mustLogin("resident", "juan@example.com", residentPassword)
	e.browser().mustLogin("resident", "juan@example.com", residentPassword)
	target := lookup(t, e, "analyst")

	type row struct {
		route         string
		do            func() *response
		reads, writes int64
	}
	var otherKey string
	rows := []row{
		{"GET /v1/admin/residents", func() *response { return boss.do("GET", "/v1/admin/residents?status=approved", nil) }, 2, 0},
		{"GET /v1/admin/residents/{id}", func() *response { return boss.do("GET", "/v1/admin/residents/"+rid, nil) }, 3, 0},
		{"GET /v1/admin/admins", func() *response { return boss.do("GET", "/v1/admin/admins", nil) }, 3, 0},
		{"PATCH /v1/admin/admins/{id}", func() *response {
			return boss.do("PATCH", "/v1/admin/admins/"+target, map[string]any{"full_name": "Analyst Renamed"})
		}, 3, 2},
		{"GET /v1/{realm}/sessions", func() *response {
			r := res.do("GET", "/v1/resident/sessions", nil)
			for _, v := range r.get("sessions").([]any) {
				if s := v.(map[string]any); s["current"] != true {
					otherKey = s["id"].(string)
				}
			}
			return r
		}, 2, 0},
		{"DELETE /v1/{realm}/sessions/{id}", func() *response { return res.do("DELETE", "/v1/resident/sessions/"+otherKey, nil) }, 2, 2},
		{"DELETE /v1/{realm}/sessions", func() *response { return res.do("DELETE", "/v1/resident/sessions", nil) }, 3, 2},
		{"POST /v1/admin/admins", func() *response {
			return boss.do("POST", "/v1/admin/admins", map[string]any{"username": "ana", "email": "ana@city.example.gov.ph", "full_name": "Ana Reyes", "role": "security_analyst"})
		}, 1, 8},
		{"POST /v1/{realm}/password", func() *response {
			return res.do("POST", "/v1/resident/password", map[string]string{"current_password": residentPassword, "new_password": "kalabasa sitaw talong 2026"})
		}, 5, 11},
		{"DELETE /v1/admin/accounts/{realm}/{id}/sessions", func() *response {
			return boss.do("DELETE", "/v1/admin/accounts/resident/"+rid+"/sessions", nil)
		}, 3, 2},
	}
	var table strings.Builder
	for _, r := range rows {
		counter.Reads.Store(0)
		counter.Writes.Store(0)
		resp := r.do()
		if resp.status >= 400 {
			t.Fatalf("%s: %d %s", r.route, resp.status, resp.body)
		}
		gotR, gotW := counter.Reads.Load(), counter.Writes.Load()
		fmt.Fprintf(&table, "| `%s` | %d | %d |\n", r.route, gotR, gotW)
		if gotR != r.reads || gotW != r.writes {
			t.Errorf("%s: %d reads, %d writes; the table says %d and %d", r.route, gotR, gotW, r.reads, r.writes)
		}
	}
	t.Logf("\n%s", table.String())
}
