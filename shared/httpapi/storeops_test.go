package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/httpapi"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
)

// TestStoreCallsPerRoute counts the DynamoDB calls each route makes
// (docs/performance.md reports them) and holds them to that table; every
// route of the table has a row.
func TestStoreCallsPerRoute(t *testing.T) {
	t.Parallel()
	client := dynamotest.Client(t)
	counter := &dynamotest.CountingAPI{API: client}
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
		status        int // 0: any success
	}
	var otherKey, resetToken, mariaID string
	// The last code sent to each recipient, read between rows: reading the
	// outbox is a Query the routes do not make.
	lastCode := map[string]string{}
	const changedPassword = "kalabasa sitaw talong 2026"
	fresh, newcomer := e.browser(), e.browser()
	page := func(path string) func() *response {
		return func() *response {
			r, _ := fresh.raw("GET", path)
			return &response{status: r.StatusCode, header: r.Header}
		}
	}
	var factor enrolledTOTP
	var mfaTok, passkeyID string
	var answer json.RawMessage
	authn, second := authenticator(), e.browser()
	rows := []row{
		// The pages read nothing: / looks at the cookie only.
		{"GET /", page("/"), 0, 0, 302},
		// The second factor, a resident's.
		{"GET /v1/{realm}/mfa", func() *response { return res.do("GET", "/v1/resident/mfa", nil) }, 2, 0, 0},
		{"POST /v1/{realm}/mfa/totp", func() *response {
			r := res.do("POST", "/v1/resident/mfa/totp", map[string]string{"name": "Phone"})
			factor = enrolledTOTP{id: r.str("id"), secret: r.str("secret")}
			e.secrets.Store(factor.secret, true)
			return r
		}, 1, 1, 0},
		{"POST /v1/{realm}/mfa/totp/confirm (the notice to the verified email)", func() *response { return res.confirmTOTP("resident", factor) }, 3, 3, 0},
		{"POST /v1/{realm}/reauth", func() *response {
			return res.do("POST", "/v1/resident/reauth", map[string]string{"password": residentPassword})
		}, 3, 10, 0},
		{"POST /v1/{realm}/mfa/recovery-codes (the notice)", func() *response { return res.do("POST", "/v1/resident/mfa/recovery-codes", nil) }, 2, 3, 0},
		{"PATCH /v1/{realm}/mfa/{id}", func() *response {
			return res.do("PATCH", "/v1/resident/mfa/"+factor.id, map[string]string{"name": "Phone"})
		}, 2, 1, 0},
		{"POST /v1/{realm}/login (a second step due)", func() *response {
			e.nextStep()
			r := second.login("resident", "juan@example.com", residentPassword)
			mfaTok = r.str("mfa_token")
			return r
		}, 4, 6, 0},
		{"POST /v1/{realm}/login/mfa", func() *response { return second.secondStep("resident", mfaTok, "totp", e.totpCode(factor.secret)) }, 5, 7, 0},
		{"POST /v1/{realm}/mfa/webauthn/options", func() *response {
			r := res.do("POST", "/v1/resident/mfa/webauthn/options", nil)
			answer, _, _ = authn.Create(r.body)
			return r
		}, 2, 1, 0},
		{"POST /v1/{realm}/mfa/webauthn (the notice)", func() *response {
			r := res.do("POST", "/v1/resident/mfa/webauthn", map[string]any{"credential": answer})
			passkeyID = r.str("factor", "id")
			return r
		}, 3, 4, 0},
		{"POST /v1/{realm}/login/webauthn/options", func() *response {
			r := second.do("POST", "/v1/resident/login/webauthn/options", nil)
			answer, _, _ = authn.Get(r.body)
			return r
		}, 0, 3, 0},
		{"POST /v1/{realm}/login/webauthn", func() *response { return second.passkeyLogin("resident", answer, "") }, 4, 5, 0},
		{"DELETE /v1/{realm}/mfa/{id} (the passkey; the notice)", func() *response { return res.do("DELETE", "/v1/resident/mfa/"+passkeyID, nil) }, 2, 3, 0},
		{"DELETE /v1/{realm}/mfa/{id} (the notice)", func() *response { return res.do("DELETE", "/v1/resident/mfa/"+factor.id, nil) }, 2, 3, 0},
		{"GET /{proxy+}", page("/login"), 0, 0, 200},
		{"GET /v1/admin/residents", func() *response { return boss.do("GET", "/v1/admin/residents?status=approved", nil) }, 2, 0, 0},
		{"GET /v1/admin/residents/{id}", func() *response { return boss.do("GET", "/v1/admin/residents/"+rid, nil) }, 3, 0, 0},
		{"GET /v1/admin/admins", func() *response { return boss.do("GET", "/v1/admin/admins", nil) }, 3, 0, 0},
		{"PATCH /v1/admin/admins/{id}", func() *response {
			return boss.do("PATCH", "/v1/admin/admins/"+target, map[string]any{"full_name": "Analyst Renamed"})
		}, 3, 2, 0},
		{"GET /v1/{realm}/sessions", func() *response {
			r := res.do("GET", "/v1/resident/sessions", nil)
			for _, v := range r.get("sessions").([]any) {
				if s := v.(map[string]any); s["current"] != true {
					otherKey = s["id"].(string)
				}
			}
			return r
		}, 2, 0, 0},
		{"DELETE /v1/{realm}/sessions/{id}", func() *response { return res.do("DELETE", "/v1/resident/sessions/"+otherKey, nil) }, 2, 2, 0},
		{"DELETE /v1/{realm}/sessions", func() *response { return res.do("DELETE", "/v1/resident/sessions", nil) }, 4, 2, 0},
		{"POST /v1/admin/admins", func() *response {
			return boss.do("POST", "/v1/admin/admins", map[string]any{"username": "ana", "email": "ana@city.example.gov.ph", "full_name": "Ana Reyes", "role": "security_analyst"})
		}, 1, 7, 0},
		{"POST /v1/{realm}/password", func() *response {
			return res.do("POST", "/v1/resident/password", map[string]string{"current_password": residentPassword, "new_password": changedPassword})
		}, 4, 11, 0},
		{"DELETE /v1/admin/accounts/{accountRealm}/{id}/sessions", func() *response {
			return boss.do("DELETE", "/v1/admin/accounts/resident/"+rid+"/sessions", nil)
		}, 4, 2, 0},
		// The rest of the routes, in the order a person meets them.
		{"POST /v1/{realm}/login", func() *response { return fresh.login("resident", "juan@example.com", changedPassword) }, 4, 7, 0},
		{"POST /v1/{realm}/login (admin)", func() *response { return e.browser().login("admin", "analyst", adminPassword) }, 4, 7, 0},
		{"POST /v1/{realm}/login (wrong password)", func() *response { return e.browser().login("resident", "juan@example.com", "wrong password 1") }, 4, 4, 401},
		{"GET /v1/{realm}/session", func() *response { return fresh.session("resident") }, 1, 0, 0},
		{"GET /v1/barangays", func() *response { return newcomer.do("GET", "/v1/barangays", nil) }, 0, 0, 0},
		{"POST /v1/{realm}/logout", func() *response { return fresh.logout("resident") }, 0, 2, 0},
		{"POST /v1/resident/register", func() *response {
			r := newcomer.do("POST", "/v1/resident/register", map[string]string{
				"first_name": "Maria", "last_name": "Santos", "email": "maria@example.com", "phone": "09181112222",
				"barangay": "Landayan", "password": residentPassword,
			})
			mariaID = r.str("account", "id")
			return r
		}, 0, 15, 0},
		{"POST /v1/resident/register (the same again, within the cooldown)", func() *response {
			return newcomer.do("POST", "/v1/resident/register", map[string]string{
				"first_name": "Maria", "last_name": "Santos", "email": "maria@example.com", "phone": "09181112222",
				"barangay": "Landayan", "password": residentPassword,
			})
		}, 2, 5, http.StatusOK},
		{"POST /v1/resident/register/verify", func() *response {
			return newcomer.do("POST", "/v1/resident/register/verify", map[string]string{"identifier": "maria@example.com", "code": lastCode["maria@example.com"]})
		}, 3, 4, 0},
		{"POST /v1/resident/register/resend", func() *response {
			e.clock.Advance(code.ResendCooldown + time.Second)
			return newcomer.do("POST", "/v1/resident/register/resend", map[string]string{"identifier": "09181112222"})
		}, 2, 8, 0},
		{"POST /v1/admin/residents/{id}/{action}", func() *response {
			return boss.do("POST", "/v1/admin/residents/"+mariaID+"/approve", map[string]string{})
		}, 2, 2, 0},
		{"GET /v1/admin/security-events", func() *response { return boss.do("GET", "/v1/admin/security-events", nil) }, 3, 0, 0},
		{"POST /v1/{realm}/password-reset", func() *response {
			return fresh.do("POST", "/v1/resident/password-reset", map[string]string{"identifier": "juan@example.com", "channel": "email"})
		}, 2, 6, 0},
		{"POST /v1/{realm}/password-reset (unknown account)", func() *response {
			return fresh.do("POST", "/v1/resident/password-reset", map[string]string{"identifier": "nobody@example.com", "channel": "email"})
		}, 1, 2, 0},
		{"POST /v1/{realm}/password-reset/verify", func() *response {
			r := fresh.do("POST", "/v1/resident/password-reset/verify", map[string]string{"identifier": "juan@example.com", "code": lastCode["juan@example.com"]})
			resetToken = r.str("reset_token")
			return r
		}, 3, 3, 0},
		{"POST /v1/{realm}/password-reset/confirm", func() *response {
			return fresh.do("POST", "/v1/resident/password-reset/confirm", map[string]string{"reset_token": resetToken, "new_password": "ampalaya upo patola 2027"})
		}, 3, 7, 0},
		{"DELETE /v1/admin/accounts/{accountRealm}/{id}/mfa", func() *response {
			return boss.do("DELETE", "/v1/admin/accounts/admin/"+target+"/mfa", nil)
		}, 4, 2, 0},
	}
	// A message is a write of the request (a code's goes with the code in
	// one transaction; a notice is a PutItem of its own): delivering it is
	// function sender's, off the request path.
	var table strings.Builder
	for _, r := range rows {
		for _, m := range e.outbox() {
			if c := sixDigits.FindString(m.Body); c != "" {
				lastCode[m.To] = c
				e.codes.Store(c, true)
			}
		}
		counter.Reads.Store(0)
		counter.Writes.Store(0)
		counter.Calls()
		resp := r.do()
		gotR, gotW, calls := counter.Reads.Load(), counter.Writes.Load(), counter.Calls()
		if r.status == 0 && resp.status >= 400 || r.status != 0 && resp.status != r.status {
			t.Fatalf("%s: %d %s", r.route, resp.status, resp.body)
		}
		fmt.Fprintf(&table, "| `%s` | %d | %d | %s |\n", r.route, gotR, gotW, tally(calls))
		if gotR != r.reads || gotW != r.writes {
			t.Errorf("%s: %d reads, %d writes; the table says %d and %d", r.route, gotR, gotW, r.reads, r.writes)
		}
	}
	t.Logf("\n%s", table.String())

	// Every route of every function has its row.
	for _, rt := range httpapi.Table {
		if rt.LocalOnly {
			continue
		}
		if !slices.ContainsFunc(rows, func(r row) bool { return strings.SplitN(r.route, " (", 2)[0] == rt.Method+" "+rt.Path }) {
			t.Errorf("no row for %s %s", rt.Method, rt.Path)
		}
	}
}

// tally writes operations in order of first use with their counts:
// "BatchGetItem, UpdateItem ×3, PutItem".
func tally(ops []string) string {
	var order []string
	n := map[string]int{}
	for _, op := range ops {
		if n[op] == 0 {
			order = append(order, op)
		}
		n[op]++
	}
	for i, op := range order {
		if n[op] > 1 {
			order[i] = fmt.Sprintf("%s ×%d", op, n[op])
		}
	}
	return strings.Join(order, ", ")
}
