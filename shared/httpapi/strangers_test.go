package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/store/backend"
	"github.com/ekolek/identity/shared/throttle"
)

// gateway sends requests to one function's handler the way API Gateway
// does, from a source IP of the test's choosing.
type gateway struct {
	t        *testing.T
	adapter  *httpadapter.HandlerAdapter
	resource string
}

func (e *env) gateway(function, resource string) gateway {
	e.t.Helper()
	h, err := e.app.Handler(function)
	if err != nil {
		e.t.Fatal(err)
	}
	return gateway{t: e.t, adapter: httpadapter.New(h), resource: resource}
}

// post sends a JSON POST to path from sourceIP with the given Cookie
// header ("" for none) and no CSRF header.
func (g gateway) post(sourceIP, path, cookie, body string) events.APIGatewayProxyResponse {
	g.t.Helper()
	headers := map[string]string{"Content-Type": "application/json"}
	if cookie != "" {
		headers["Cookie"] = cookie
	}
	res, err := g.adapter.ProxyWithContext(context.Background(), events.APIGatewayProxyRequest{
		Resource: g.resource, Path: path, HTTPMethod: http.MethodPost,
		PathParameters: map[string]string{"realm": strings.Split(path, "/")[2]},
		Headers:        headers, Body: body,
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: fmt.Sprintf("req-%d", time.Now().UnixNano()), Identity: events.APIGatewayRequestIdentity{SourceIP: sourceIP}},
	})
	if err != nil {
		g.t.Fatal(err)
	}
	return res
}

// burst sends n requests at once and checks each answer.
func burst(t *testing.T, n int, send func() events.APIGatewayProxyResponse, status int, code string) {
	t.Helper()
	got := make([]events.APIGatewayProxyResponse, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-gate
			got[i] = send()
		})
	}
	close(gate)
	wg.Wait()
	for i, r := range got {
		if r.StatusCode != status || !strings.Contains(r.Body, `"code":"`+code+`"`) {
			t.Fatalf("request %d of %d: %d %s, want %d %s", i+1, n, r.StatusCode, r.Body, status, code)
		}
	}
}

// storedFrom is the stored events of type t from ip, newest first.
func (e *env) storedFrom(t audit.Type, ip string) []audit.Event {
	e.t.Helper()
	var out []audit.Event
	for _, ev := range e.eventsOf(t) {
		if ev.IP == ip {
			out = append(out, ev)
		}
	}
	return out
}

// wantFolded checks that ip has n stored events of type t, the newest the
// first of its minute, saying so.
func wantFolded(t *testing.T, e *env, typ audit.Type, ip string, n int) {
	t.Helper()
	evs := e.storedFrom(typ, ip)
	if len(evs) != n {
		t.Fatalf("%d stored %s events from %s, want %d", len(evs), typ, ip, n)
	}
	if d := evs[0].Details; d["occurrence"] != "1" || d["repeats"] != "logged_only" || d["route"] == "" || evs[0].AccountID != "" {
		t.Fatalf("stored %s event: %+v, want the first of its minute (occurrence 1, repeats logged_only) with its route", typ, evs[0])
	}
}

// logged counts the security_event log lines of type t.
func (e *env) logged(t audit.Type) int {
	return strings.Count(e.logs.String(), `"type":"`+string(t)+`"`)
}

// Callers without a session cannot grow the stored trail by the request:
// junk session cookies without a CSRF header, and logins refused by the IP
// limit, store one event per IP, type and minute (counted on the store, so
// across Lambda instances), each still answered as the contract says and
// each logged with its number in the minute. Authenticated callers'
// events are stored each time.
func TestStrangersEventsFoldPerIPAndMinute(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store, withLimits(func(c *config.Config) { c.Limits.LoginIP.Max = 2 }))
		const ipA, ipB = "203.0.113.7", "198.51.100.20"

		t.Run("csrf_failed", func(t *testing.T) {
			logout := e.gateway("logout", "/v1/{realm}/logout")
			junk := func(ip string) func() events.APIGatewayProxyResponse {
				return func() events.APIGatewayProxyResponse {
					return logout.post(ip, "/v1/resident/logout", "ekolek_session=eyJhbGciOiJub25lIn0.e30.junk", "")
				}
			}
			before := e.logged(audit.CSRFFailed)
			burst(t, 50, junk(ipA), 403, "csrf_failed")
			wantFolded(t, e, audit.CSRFFailed, ipA, 1)
			if n := e.logged(audit.CSRFFailed) - before; n != 50 {
				t.Fatalf("%d csrf_failed log lines for 50 refusals", n)
			}
			if !strings.Contains(e.logs.String(), `"occurrence":"50"`) {
				t.Fatalf("no log line numbers the 50th refusal of the minute")
			}
			e.clock.Advance(time.Minute)
			burst(t, 5, junk(ipA), 403, "csrf_failed")
			wantFolded(t, e, audit.CSRFFailed, ipA, 2)
			burst(t, 5, junk(ipB), 403, "csrf_failed")
			wantFolded(t, e, audit.CSRFFailed, ipB, 1)
			wantFolded(t, e, audit.CSRFFailed, ipA, 2)
		})

		t.Run("rate_limited", func(t *testing.T) {
			login := e.gateway("login", "/v1/{realm}/login")
			attempt := func(ip string) func() events.APIGatewayProxyResponse {
				return func() events.APIGatewayProxyResponse {
					return login.post(ip, "/v1/resident/login", "", `{"identifier":"nobody@example.com","password":"wrong password here"}`)
				}
			}
			for _, ip := range []string{ipA, ipB} {
				for range 2 {
					if r := attempt(ip)(); r.StatusCode != 401 {
						t.Fatalf("failure from %s: %d %s", ip, r.StatusCode, r.Body)
					}
				}
			}
			before := e.logged(audit.RateLimited)
			burst(t, 50, attempt(ipA), 429, "too_many_attempts")
			wantFolded(t, e, audit.RateLimited, ipA, 1)
			if n := e.logged(audit.RateLimited) - before; n != 50 {
				t.Fatalf("%d rate_limited log lines for 50 refusals", n)
			}
			e.clock.Advance(time.Minute)
			burst(t, 5, attempt(ipA), 429, "too_many_attempts")
			wantFolded(t, e, audit.RateLimited, ipA, 2)
			burst(t, 5, attempt(ipB), 429, "too_many_attempts")
			wantFolded(t, e, audit.RateLimited, ipB, 1)
		})

		t.Run("authenticated callers", func(t *testing.T) {
			id := e.approvedResident()
			b := e.browser()
			b.mustLogin("resident", "juan@example.com", residentPassword)
			ofJuan := func(typ audit.Type) int {
				n := 0
				for _, ev := range e.eventsOf(typ) {
					if ev.AccountID == id {
						n++
					}
				}
				return n
			}
			for range 3 {
				wantStatus(t, "logout without the CSRF header", b.do("POST", "/v1/resident/logout", nil, "X-CSRF-Token", ""), 403, "csrf_failed")
			}
			if n := ofJuan(audit.CSRFFailed); n != 3 {
				t.Fatalf("%d csrf_failed events name the signed-in resident, want all 3", n)
			}
			// Fill this address's failed-login limit (a new identifier each
			// time, so no identifier lock comes first), then the signed-in
			// resident's password changes are refused by it, each stored.
			for i := 0; ; i++ {
				r := e.browser().login("resident", fmt.Sprintf("nobody%d@example.com", i), "wrong password here")
				if r.status == 429 {
					break
				}
				if r.status != 401 || i == 50 {
					t.Fatalf("wrong login %d: %d %s", i+1, r.status, r.body)
				}
			}
			for range 3 {
				wantStatus(t, "password change from a throttled address", b.do("POST", "/v1/resident/password", map[string]string{
					"current_password": residentPassword, "new_password": "kalabasa sitaw talong 2026",
				}), 429, "too_many_attempts")
			}
			if n := ofJuan(audit.RateLimited); n != 3 {
				t.Fatalf("%d rate_limited events name the signed-in resident, want all 3", n)
			}
		})
	})
}

// occurrenceDown is a store whose counters for folding events fail.
type occurrenceDown struct{ backend.Store }

func (s occurrenceDown) Hit(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (throttle.Counter, error) {
	if strings.HasPrefix(key, "occurrence:") {
		return throttle.Counter{}, fmt.Errorf("injected failure of %s", key)
	}
	return s.Store.Hit(ctx, key, limit, window, now)
}

// When the count behind the folding fails, the answers stay what the
// contract says (the event is best effort) and the events are stored as
// unfolded ones.
func TestStrangersEventsWhenTheCountFails(t *testing.T) {
	t.Parallel()
	real := openEmbedded(t)
	e := newEnv(t, withStore(occurrenceDown{real}), withLimits(func(c *config.Config) { c.Limits.LoginIP.Max = 1 }))
	logout := e.gateway("logout", "/v1/{realm}/logout")
	login := e.gateway("login", "/v1/{realm}/login")
	for range 3 {
		if r := logout.post("203.0.113.9", "/v1/resident/logout", "ekolek_session=junk", ""); r.StatusCode != 403 || !strings.Contains(r.Body, "csrf_failed") {
			t.Fatalf("junk cookie: %d %s", r.StatusCode, r.Body)
		}
	}
	wrong := `{"identifier":"nobody@example.com","password":"wrong password here"}`
	if r := login.post("203.0.113.9", "/v1/resident/login", "", wrong); r.StatusCode != 401 {
		t.Fatalf("wrong login: %d %s", r.StatusCode, r.Body)
	}
	for range 3 {
		if r := login.post("203.0.113.9", "/v1/resident/login", "", wrong); r.StatusCode != 429 {
			t.Fatalf("refused login: %d %s", r.StatusCode, r.Body)
		}
	}
	if n, m := len(e.storedFrom(audit.CSRFFailed, "203.0.113.9")), len(e.storedFrom(audit.RateLimited, "203.0.113.9")); n != 3 || m != 3 {
		t.Fatalf("%d csrf_failed and %d rate_limited events stored, want 3 each (unfolded)", n, m)
	}
}
