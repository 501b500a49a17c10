package httpapi_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/store/backend"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
	"github.com/ekolek/identity/shared/store/embedded"
	"github.com/ekolek/identity/shared/throttle"
)

// eventsOf reads the stored security events of one type, newest first.
func (e *env) eventsOf(t audit.Type) []audit.Event {
	e.t.Helper()
	evs, _, err := e.app.Store.QueryEvents(context.Background(), audit.Query{Type: t, Until: e.clock.Now().Add(time.Hour), Limit: 200})
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

func TestLoginLockout(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.approvedResident()
		// The same email is also an admin: realms lock apart.
		if _, err := e.app.Accounts.CreateAdmin(t.Context(), account.NewAdmin{Username: "juan", Email: "juan@example.com", FullName: "Juan Admin", Role: "security_analyst", Password: adminPassword}); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		for i := 0; i < 5; i++ {
			wantStatus(t, "wrong password", b.login("resident", "juan@example.com", "wrong password here"), 401, "invalid_credentials")
		}
		r := b.login("resident", "JUAN@example.com", residentPassword)
		wantStatus(t, "right password while locked", r, 429, "too_many_attempts")
		if got := r.header.Get("Retry-After"); got != "900" {
			t.Fatalf("Retry-After = %q, want 900", got)
		}
		wantStatus(t, "the phone number is another identifier, counted apart", b.login("resident", "09171234567", "wrong password here"), 401, "invalid_credentials")
		// The admin realm is untouched.
		e.browser().mustLogin("admin", "juan@example.com", adminPassword)

		if n := len(e.eventsOf(audit.LoginFailed)); n != 6 {
			t.Fatalf("%d login_failed events, want 6", n)
		}
		if n := len(e.eventsOf(audit.LoginLocked)); n != 1 {
			t.Fatalf("%d login_locked events, want 1", n)
		}
		if evs := e.eventsOf(audit.RateLimited); len(evs) != 1 || evs[0].Details["limit"] != "login_identifier" || evs[0].Identifier != "JU***@example.com" {
			t.Fatalf("rate_limited events: %+v", evs)
		}

		e.clock.Advance(14 * time.Minute)
		wantStatus(t, "still locked", b.login("resident", "juan@example.com", residentPassword), 429, "too_many_attempts")
		e.clock.Advance(time.Minute + time.Second)
		b.mustLogin("resident", "juan@example.com", residentPassword)
		// A success resets the count: four more failures do not lock.
		for i := 0; i < 4; i++ {
			b.login("resident", "juan@example.com", "wrong password here")
		}
		b.mustLogin("resident", "juan@example.com", residentPassword)
	})
}

func TestUnknownIdentifiersLockTheSameWay(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.approvedResident()
	run := func(identifier string) []string {
		var out []string
		b := e.browser()
		for i := 0; i < 6; i++ {
			r := b.login("resident", identifier, "wrong password here")
			out = append(out, strconv.Itoa(r.status)+" "+string(r.body)+" "+r.header.Get("Retry-After"))
		}
		return out
	}
	known, unknown := run("juan@example.com"), run("nobody@example.com")
	for i := range known {
		if known[i] != unknown[i] {
			t.Fatalf("attempt %d: known %q, unknown %q", i+1, known[i], unknown[i])
		}
	}
	if n := len(e.eventsOf(audit.LoginLocked)); n != 2 {
		t.Fatalf("%d login_locked events, want one per identifier", n)
	}
}

// lambdaLogin logs in through the Lambda adapter with API Gateway's
// source IP and a forged X-Forwarded-For.
func lambdaLogin(t *testing.T, e *env, sourceIP, forwardedFor, identifier, pw string) events.APIGatewayProxyResponse {
	t.Helper()
	h, err := e.app.Handler("login")
	if err != nil {
		t.Fatal(err)
	}
	res, err := httpadapter.New(h).ProxyWithContext(context.Background(), events.APIGatewayProxyRequest{
		Resource: "/v1/{realm}/login", Path: "/v1/resident/login", HTTPMethod: "POST",
		PathParameters: map[string]string{"realm": "resident"},
		Headers:        map[string]string{"Content-Type": "application/json", "X-Forwarded-For": forwardedFor},
		Body:           fmt.Sprintf(`{"identifier":%q,"password":%q}`, identifier, pw),
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "req-" + sourceIP, Identity: events.APIGatewayRequestIdentity{SourceIP: sourceIP}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestIPLimitUsesTheGatewaySourceIP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.approvedResident()
	// 30 failures from one source IP, each for a different identifier (so no
	// identifier locks), each claiming another address in X-Forwarded-For.
	for i := 0; i < 30; i++ {
		res := lambdaLogin(t, e, "203.0.113.7", fmt.Sprintf("10.0.0.%d", i), fmt.Sprintf("user%d@example.com", i), "wrong password here")
		if res.StatusCode != 401 {
			t.Fatalf("failure %d: %d %s", i+1, res.StatusCode, res.Body)
		}
	}
	res := lambdaLogin(t, e, "203.0.113.7", "198.51.100.99", "juan@example.com", residentPassword)
	if res.StatusCode != 429 {
		t.Fatalf("31st attempt from the same source IP: %d %s", res.StatusCode, res.Body)
	}
	// Another source IP claiming to be the throttled one is not throttled.
	res = lambdaLogin(t, e, "198.51.100.20", "203.0.113.7", "juan@example.com", residentPassword)
	if res.StatusCode != 200 {
		t.Fatalf("other source IP with a forged X-Forwarded-For: %d %s", res.StatusCode, res.Body)
	}
	if evs := e.eventsOf(audit.RateLimited); len(evs) != 1 || evs[0].IP != "203.0.113.7" || evs[0].Details["limit"] != "login_ip" {
		t.Fatalf("rate_limited events: %+v", evs)
	}
}

// Twenty wrong logins at once lock the identifier, and every one is counted.
// ipHits counts the Hit calls on the login IP counter. An attempt refused at
// the identifier's lock (checked first) never reaches that counter, one
// refused by the attempt counter gives its place back; how many reach it
// depends on how the goroutines are scheduled, so the test checks that the
// counter moved by exactly the failures, which a lost update would not.
type ipHits struct {
	backend.Store
	n atomic.Int64
}

func (s *ipHits) Hit(ctx context.Context, key string, max int, window time.Duration, now time.Time) (throttle.Counter, error) {
	if key == "login-ip-failures:127.0.0.1" {
		s.n.Add(1)
	}
	return s.Store.Hit(ctx, key, max, window, now)
}

func TestParallelWrongLoginsLock(t *testing.T) {
	t.Parallel()
	stores := map[string]func(t *testing.T) backend.Store{
		"embedded": func(t *testing.T) backend.Store {
			s, err := embedded.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
		"dynamodb": func(t *testing.T) backend.Store {
			client := dynamotest.Client(t)
			return dynamo.New(client, dynamotest.NewTable(t, client))
		},
	}
	for _, name := range []string{"embedded", "dynamodb"} {
		t.Run(name, func(t *testing.T) { parallelWrongLogins(t, &ipHits{Store: stores[name](t)}) })
	}
}

func parallelWrongLogins(t *testing.T, hits *ipHits) {
	e := newEnv(t, withStore(hits))
	e.approvedResident()
	before, err := e.app.Store.Peek(t.Context(), "login-ip-failures:127.0.0.1", e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	hitsBefore := int(hits.n.Load())
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.browser().login("resident", "juan@example.com", "wrong password here").status
		}()
	}
	wg.Wait()
	failed := 0
	for _, s := range statuses {
		switch s {
		case 401:
			failed++
		case 429:
		default:
			t.Fatalf("status %d", s)
		}
	}
	// Admission is counted before the hash: exactly the limit's worth of
	// concurrent attempts reach a password check.
	if failed != 5 {
		t.Fatalf("%d of 20 concurrent attempts were hashed and refused, want exactly 5", failed)
	}
	// The IP's failure count moved by exactly the failures (no lost
	// updates): attempts refused at the identifier gave their places back.
	c, err := e.app.Store.Peek(t.Context(), "login-ip-failures:127.0.0.1", e.clock.Now())
	if n := int(hits.n.Load()) - hitsBefore; err != nil || c.Count-before.Count != failed || n < failed {
		t.Fatalf("IP failure counter moved by %d (%v) for %d failures (%d attempts reached it)", c.Count-before.Count, err, failed, n)
	}
	if n := len(e.eventsOf(audit.LoginFailed)); n != failed {
		t.Fatalf("%d login_failed events for %d failures", n, failed)
	}
	if n := len(e.eventsOf(audit.LoginLocked)); n != 1 {
		t.Fatalf("%d login_locked events, want 1", n)
	}
	wantStatus(t, "right password after the burst", e.browser().login("resident", "juan@example.com", residentPassword), 429, "too_many_attempts")
}

func TestPerIPLimitsOnCodesResetsAndRegistrations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	for i := 0; i < 10; i++ {
		if r := b.do("POST", "/v1/resident/password-reset", map[string]string{"identifier": fmt.Sprintf("x%d@example.com", i), "channel": "email"}); r.status != 202 {
			t.Fatalf("reset %d: %d", i, r.status)
		}
	}
	r := b.do("POST", "/v1/resident/password-reset", map[string]string{"identifier": "y@example.com", "channel": "email"})
	wantStatus(t, "11th reset request in an hour", r, 429, "rate_limited")
	if r.header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	for i := 0; i < 10; i++ {
		e.register(b, fmt.Sprintf("r%d@example.com", i), fmt.Sprintf("0917000000%d", i))
	}
	wantStatus(t, "11th registration", b.do("POST", "/v1/resident/register", map[string]string{
		"first_name": "A", "last_name": "B", "email": "z@example.com", "phone": "09181234567", "barangay": "Landayan", "password": residentPassword,
	}), 429, "rate_limited")
	for i := 0; i < 30; i++ {
		b.do("POST", "/v1/resident/register/verify", map[string]string{"identifier": "r0@example.com", "code": "000000"})
	}
	wantStatus(t, "31st code check", b.do("POST", "/v1/resident/register/verify", map[string]string{"identifier": "r0@example.com", "code": "000000"}), 429, "rate_limited")
	e.clock.Advance(time.Hour)
	if r := b.do("POST", "/v1/resident/password-reset", map[string]string{"identifier": "y@example.com", "channel": "email"}); r.status != 202 {
		t.Fatalf("after the window: %d", r.status)
	}
}

func TestSMSPerNumberDailyLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register(e.browser(), "juan@example.com", "09171234567")
	b := e.browser()
	for i := 0; i < 8; i++ {
		e.clock.Advance(time.Hour) // past the cooldown and the hourly cap
		b.do("POST", "/v1/resident/register/resend", map[string]string{"identifier": "09171234567"})
	}
	if _, n := e.lastCode("+639171234567"); n != 5 {
		t.Fatalf("%d SMS to one number in a day, want 5", n)
	}
}

// Every authentication operation and admin action leaves its event.
func TestEveryOperationLeavesASecurityEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createAdmin("boss", account.RoleSuperAdmin)
	adm := e.browser()
	adm.mustLogin("admin", "boss", adminPassword)
	res := e.browser()
	steps := []struct {
		name string
		do   func() *response
		want audit.Type
	}{
		{"register", func() *response {
			return res.do("POST", "/v1/resident/register", map[string]string{"first_name": "Juan", "last_name": "Dela Cruz", "email": "juan@example.com", "phone": "09171234567", "barangay": "Landayan", "password": residentPassword})
		}, audit.AccountRegistered},
		{"wrong contact code", func() *response {
			return res.do("POST", "/v1/resident/register/verify", map[string]string{"identifier": "juan@example.com", "code": "000000"})
		}, audit.CodeFailed},
		{"verify contact", func() *response {
			c, _ := e.lastCode("juan@example.com")
			return res.do("POST", "/v1/resident/register/verify", map[string]string{"identifier": "juan@example.com", "code": c})
		}, audit.ContactVerified},
		{"approve", func() *response {
			id, _ := e.app.Store.LookupIdentifier(t.Context(), account.Resident, account.Identifier{Kind: account.KindEmail, Value: "juan@example.com"})
			return adm.do("POST", "/v1/admin/residents/"+id+"/approve", map[string]string{"reason": "documents checked"})
		}, audit.AccountStatusChanged},
		{"login failed", func() *response { return res.login("resident", "juan@example.com", "wrong password here") }, audit.LoginFailed},
		{"login", func() *response { return res.login("resident", "juan@example.com", residentPassword) }, audit.LoginSucceeded},
		{"csrf failure", func() *response {
			return res.do("POST", "/v1/resident/logout", nil, "X-CSRF-Token", "")
		}, audit.CSRFFailed},
		{"logout", func() *response { return res.logout("resident") }, audit.Logout},
		{"session expired", func() *response {
			res.mustLogin("resident", "juan@example.com", residentPassword)
			e.clock.Advance(3 * time.Hour)
			return res.session("resident")
		}, audit.SessionExpired},
		{"reset requested", func() *response {
			return res.do("POST", "/v1/resident/password-reset", map[string]string{"identifier": "juan@example.com", "channel": "email"})
		}, audit.PasswordResetRequested},
		{"wrong reset code", func() *response {
			return res.do("POST", "/v1/resident/password-reset/verify", map[string]string{"identifier": "juan@example.com", "code": "000000"})
		}, audit.CodeFailed},
		{"reset completed", func() *response {
			c, _ := e.lastCode("juan@example.com")
			r := res.do("POST", "/v1/resident/password-reset/verify", map[string]string{"identifier": "juan@example.com", "code": c})
			return res.do("POST", "/v1/resident/password-reset/confirm", map[string]string{"reset_token": r.str("reset_token"), "new_password": "kalabasa sitaw talong 2026"})
		}, audit.PasswordResetCompleted},
		{"suspend (ends sessions)", func() *response {
			res.mustLogin("resident", "juan@example.com", "kalabasa sitaw talong 2026")
			adm.mustLogin("admin", "boss", adminPassword) // its session idled out above
			id, _ := e.app.Store.LookupIdentifier(t.Context(), account.Resident, account.Identifier{Kind: account.KindEmail, Value: "juan@example.com"})
			return adm.do("POST", "/v1/admin/residents/"+id+"/suspend", nil)
		}, audit.SessionRevoked},
	}
	for _, s := range steps {
		before := len(e.eventsOf(s.want))
		r := s.do()
		if r.status >= 500 || r.status == 401 && s.want != audit.SessionExpired && s.want != audit.LoginFailed {
			t.Fatalf("%s: %d %s", s.name, r.status, r.body)
		}
		evs := e.eventsOf(s.want)
		if len(evs) != before+1 {
			t.Fatalf("%s: %d %s events, want %d", s.name, len(evs), s.want, before+1)
		}
		ev := evs[0]
		if ev.ID == "" || ev.Time.IsZero() || ev.RequestID == "" || ev.IP == "" {
			t.Fatalf("%s: incomplete event %+v", s.name, ev)
		}
	}
	// The same events went to the log, with a security_event field.
	if n := countLogLines(e.logs.String(), `"security_event":{`); n < len(steps) {
		t.Fatalf("%d security_event log lines for %d steps", n, len(steps))
	}
}

func countLogLines(logs, needle string) int {
	n := 0
	for i := 0; ; {
		j := indexFrom(logs, needle, i)
		if j < 0 {
			return n
		}
		n++
		i = j + len(needle)
	}
}

func indexFrom(s, sub string, from int) int {
	for i := from; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestSecurityEventsAPI(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		id := e.approvedResident()
		for _, role := range []account.Role{account.RoleSecurityAnalyst, account.RoleOperationsManager, account.RoleContentRewardsManager} {
			e.createAdmin(string(role), role, "Landayan")
		}
		res := e.browser()
		res.mustLogin("resident", "juan@example.com", residentPassword)
		for i := 0; i < 3; i++ {
			e.clock.Advance(time.Minute)
			res.login("resident", "juan@example.com", "wrong password here")
		}
		wantStatus(t, "resident cookie", res.do("GET", "/v1/admin/security-events", nil), 401, "unauthenticated")
		for _, role := range []account.Role{account.RoleOperationsManager, account.RoleContentRewardsManager} {
			b := e.browser()
			b.mustLogin("admin", string(role), adminPassword)
			wantStatus(t, string(role), b.do("GET", "/v1/admin/security-events", nil), 403, "forbidden")
		}
		sa := e.browser()
		sa.mustLogin("admin", "security_analyst", adminPassword)
		r := sa.do("GET", "/v1/admin/security-events?type=login_failed&realm=resident", nil)
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		list := r.get("events").([]any)
		if len(list) != 3 {
			t.Fatalf("%d login_failed events: %s", len(list), r.body)
		}
		first := list[0].(map[string]any)
		if first["identifier"] != "ju***@example.com" || first["ip"] != "127.0.0.1" || first["type"] != "login_failed" {
			t.Fatalf("event %v", first)
		}
		times := []string{}
		for _, v := range list {
			times = append(times, v.(map[string]any)["time"].(string))
		}
		if !(times[0] > times[1] && times[1] > times[2]) {
			t.Fatalf("not newest first: %v", times)
		}
		// By account, and paging with a cursor, with time passing between pages.
		seen := map[string]bool{}
		cursor := ""
		for page := 0; page < 20; page++ {
			e.clock.Advance(time.Second)
			path := "/v1/admin/security-events?realm=resident&account=" + id + "&limit=2"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			r := sa.do("GET", path, nil)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			for _, v := range r.get("events").([]any) {
				ev := v.(map[string]any)
				if ev["account_id"] != id {
					t.Fatalf("another account's event: %v", ev)
				}
				seen[ev["id"].(string)] = true
			}
			if cursor, _ = r.get("next_cursor").(string); cursor == "" {
				break
			}
		}
		// registered, approved (status change), login_succeeded
		if len(seen) < 3 {
			t.Fatalf("%d events for the account", len(seen))
		}
		since := e.clock.Now().Add(-90 * time.Second).Format(time.RFC3339)
		r = sa.do("GET", "/v1/admin/security-events?type=login_failed&since="+since, nil)
		// Failures at +1, +2 and +3 minutes; since is +1.5.
		if n := len(r.get("events").([]any)); n != 2 {
			t.Fatalf("since filter: %d events", n)
		}
		for q, field := range map[string]string{"type=nope": "type", "realm=staff": "realm", "account=" + id: "realm", "since=yesterday": "since", "limit=500": "limit", "cursor=garbage": "cursor"} {
			r := sa.do("GET", "/v1/admin/security-events?"+q, nil)
			wantStatus(t, q, r, 400, "invalid_request")
			if _, ok := r.get("error", "fields").(map[string]any)[field]; !ok {
				t.Fatalf("%s: fields %v", q, r.get("error", "fields"))
			}
		}
	})
}
