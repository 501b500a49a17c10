package httpapi_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// viaLambda sends one event through function's handler behind the Lambda
// proxy adapter, as API Gateway would: the body is a string, empty when
// there is none.
func viaLambda(t *testing.T, e *env, function string, ev events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	t.Helper()
	h, err := e.app.Handler(function)
	if err != nil {
		t.Fatal(err)
	}
	ev.RequestContext = events.APIGatewayProxyRequestContext{RequestID: "req-lambda", Identity: events.APIGatewayRequestIdentity{SourceIP: "203.0.113.9"}}
	res, err := httpadapter.New(h).ProxyWithContext(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// An unsafe request without a body needs no Content-Type: a browser's fetch
// of DELETE /v1/{realm}/sessions/{id} or of a bodyless logout sends none.
// A request with a body still needs application/json.
func TestBodylessUnsafeRequestsNeedNoContentType(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.approvedResident()
		a, b, c, d := e.browser(), e.browser(), e.browser(), e.browser()
		for _, x := range []*browser{a, b, c, d} {
			x.mustLogin("resident", "juan@example.com", residentPassword)
		}
		handleOf := func(x *browser) string {
			for _, v := range x.do("GET", "/v1/resident/sessions", nil).get("sessions").([]any) {
				if s := v.(map[string]any); s["current"] == true {
					return s["id"].(string)
				}
			}
			t.Fatal("no current session")
			return ""
		}
		noType := []string{"Content-Type", ""}

		// A body without a type is still refused, and changes nothing.
		r := a.do("DELETE", "/v1/resident/sessions/"+handleOf(b), `{}`, noType...)
		wantStatus(t, "DELETE with a body and no Content-Type", r, 415, "unsupported_media_type")
		r = a.do("POST", "/v1/resident/logout", `{}`, noType...)
		wantStatus(t, "logout with a body and no Content-Type", r, 415, "unsupported_media_type")
		if r := b.session("resident"); r.status != 200 {
			t.Fatalf("a refused request ended a session: %d", r.status)
		}

		if r := a.do("DELETE", "/v1/resident/sessions/"+handleOf(b), nil, noType...); r.status != 204 {
			t.Fatalf("DELETE one session without Content-Type: %d %s", r.status, r.body)
		}
		wantStatus(t, "the ended session", b.session("resident"), 401, "unauthenticated")

		// Through the Lambda adapter, as API Gateway sends it: body "".
		res := viaLambda(t, e, "sessions", events.APIGatewayProxyRequest{
			Resource: "/v1/{realm}/sessions/{id}", Path: "/v1/resident/sessions/" + handleOf(c), HTTPMethod: "DELETE",
			PathParameters: map[string]string{"realm": "resident", "id": handleOf(c)},
			Headers: map[string]string{"Cookie": "ekolek_session=" + a.cookie("ekolek_session") + "; ekolek_csrftoken=" + a.cookie("ekolek_csrftoken"),
				"X-CSRF-Token": a.cookie("ekolek_csrftoken")},
		})
		if res.StatusCode != 204 {
			t.Fatalf("DELETE without Content-Type through the Lambda adapter: %d %s", res.StatusCode, res.Body)
		}
		wantStatus(t, "the session ended through the adapter", c.session("resident"), 401, "unauthenticated")

		if r := a.do("POST", "/v1/resident/logout", nil, noType...); r.status != 204 {
			t.Fatalf("logout without Content-Type: %d %s", r.status, r.body)
		}
		wantStatus(t, "after a bodyless logout", a.session("resident"), 401, "unauthenticated")
		// A bodyless route that needs a body says so, whatever the type.
		wantStatus(t, "login without a body or type", e.browser().do("POST", "/v1/resident/login", nil, noType...), 400, "invalid_request")
		if r := d.session("resident"); r.status != 200 {
			t.Fatalf("an unrelated session ended: %d", r.status)
		}
	})
}

// HEAD on a GET route answers as the GET does, without the body.
func TestHeadAnswersLikeGet(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.approvedResident()
		b := e.browser()
		b.mustLogin("resident", "juan@example.com", residentPassword)
		for _, c := range []struct {
			path   string
			x      *browser
			status int
		}{
			{"/v1/barangays", e.browser(), 200},
			{"/v1/resident/session", b, 200},
			{"/v1/resident/sessions", b, 200},
			{"/v1/admin/session", b, 401},
			{"/v1/admin/residents", b, 401},
		} {
			get := c.x.do("GET", c.path, nil)
			head := c.x.do("HEAD", c.path, nil)
			if head.status != c.status || get.status != c.status {
				t.Errorf("HEAD %s: %d, GET %d; want %d", c.path, head.status, get.status, c.status)
			}
			if len(head.body) != 0 {
				t.Errorf("HEAD %s has a body: %q", c.path, head.body)
			}
			if got, want := head.header.Get("Content-Length"), strconv.Itoa(len(get.body)); got != want {
				t.Errorf("HEAD %s: Content-Length %q, the GET's body is %s bytes", c.path, got, want)
			}
			for _, h := range []string{"Content-Type", "Cache-Control", "X-Content-Type-Options", "Referrer-Policy", "Content-Security-Policy"} {
				if head.header.Get(h) != get.header.Get(h) {
					t.Errorf("HEAD %s: %s %q, GET has %q", c.path, h, head.header.Get(h), get.header.Get(h))
				}
			}
			if head.header.Get("X-Request-Id") == "" {
				t.Errorf("HEAD %s: no X-Request-Id", c.path)
			}
		}
		r := b.do("DELETE", "/v1/resident/session", nil)
		if r.status != 405 || r.header.Get("Allow") != "GET, HEAD" {
			t.Errorf("DELETE session: %d, Allow %q; want 405 with GET, HEAD", r.status, r.header.Get("Allow"))
		}
		if r := b.do("HEAD", "/v1/resident/login", nil); r.status != 405 || r.header.Get("Allow") != "POST" {
			t.Errorf("HEAD login: %d, Allow %q; want 405 with POST", r.status, r.header.Get("Allow"))
		}
		// Through the Lambda adapter, which would send any body written to it.
		res := viaLambda(t, e, "session", events.APIGatewayProxyRequest{Resource: "/v1/barangays", Path: "/v1/barangays", HTTPMethod: "HEAD"})
		if res.StatusCode != 200 || res.Body != "" {
			t.Errorf("HEAD /v1/barangays through the Lambda adapter: %d %q", res.StatusCode, res.Body)
		}
	})
}
