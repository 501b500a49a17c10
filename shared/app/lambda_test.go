package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/app/allparts"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/httpapi"
	"github.com/ekolek/identity/shared/logging"
)

// loadConfig is the configuration env gives, with data in a temp dir.
func loadConfig(t *testing.T, env map[string]string) config.Config {
	t.Helper()
	cfg, err := config.Load(func(k string) string {
		if k == "EKOLEK_DATA_DIR" {
			return t.TempDir()
		}
		return env[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// open builds the app for env with every part linked and the options o.
func open(t *testing.T, env map[string]string, o app.Options) *app.App {
	t.Helper()
	o.Parts = allparts.Parts()
	a, err := app.Open(context.Background(), loadConfig(t, env), logging.New(io.Discard, slog.LevelInfo), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

func invoke(t *testing.T, a *app.App, function string, ev events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	t.Helper()
	h, err := a.Handler(function)
	if err != nil {
		t.Fatal(err)
	}
	res, err := httpadapter.New(h).ProxyWithContext(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// The client IP is the one API Gateway saw; X-Forwarded-For is the client's
// own claim and is ignored. The request id is API Gateway's.
func TestLambdaUsesTheGatewaysSourceIP(t *testing.T) {
	// An admin without a second factor logs in by password alone when
	// admins' second factor is optional: this test is about the address.
	a := open(t, map[string]string{"EKOLEK_ADMIN_MFA": "optional"}, app.Options{})
	if _, err := a.Accounts.CreateAdmin(context.Background(), account.NewAdmin{
		Username: "boss", Email: "boss@example.com", FullName: "Boss", Role: "super_admin", Password: "correct horse battery staple",
	}); err != nil {
		t.Fatal(err)
	}
	ev := events.APIGatewayProxyRequest{
		Resource:       "/v1/{realm}/login",
		Path:           "/v1/admin/login",
		HTTPMethod:     "POST",
		PathParameters: map[string]string{"realm": "admin"},
		Headers: map[string]string{
			"Content-Type":    "application/json",
			"X-Forwarded-For": "10.9.8.7, 192.0.2.1",
			"User-Agent":      "test-agent/1.0",
		},
		Body: `{"identifier":"boss","password":"correct horse battery staple"}`,
		RequestContext: events.APIGatewayProxyRequestContext{
			RequestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
			Identity:  events.APIGatewayRequestIdentity{SourceIP: "203.0.113.9"},
		},
	}
	res := invoke(t, a, "login", ev)
	if res.StatusCode != 200 {
		t.Fatalf("login: %d %s", res.StatusCode, res.Body)
	}
	var body struct {
		Session struct{ IP, UserAgent string } `json:"session"`
	}
	if err := json.Unmarshal([]byte(res.Body), &body); err != nil {
		t.Fatal(err)
	}
	if body.Session.IP != "203.0.113.9" {
		t.Fatalf("session ip = %q, want the gateway's source IP 203.0.113.9", body.Session.IP)
	}
	if got := res.MultiValueHeaders["X-Request-Id"]; len(got) != 1 || got[0] != ev.RequestContext.RequestID {
		t.Fatalf("X-Request-Id = %v, want the gateway's request id", got)
	}
	if len(res.MultiValueHeaders["Set-Cookie"]) != 2 {
		t.Fatalf("Set-Cookie = %v, want the session and CSRF cookies", res.MultiValueHeaders["Set-Cookie"])
	}
}

// Every event in events/ runs through its own function's handler without a
// server error: the files are usable with `sam local invoke -e` and `make invoke`.
func TestEventFilesRunThroughTheirFunction(t *testing.T) {
	files, err := filepath.Glob("../../events/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no events: %v", err)
	}
	// Reset and code requests wait out httpapi.CodeRouteFloor (150 ms)
	// so that timing hides accounts; these events are about the answer.
	a := open(t, map[string]string{"EKOLEK_ENV": "local"}, app.Options{CodeRouteFloor: time.Millisecond})
	for _, f := range files {
		if _, background := app.Background[strings.SplitN(filepath.Base(f), ".", 2)[0]]; background {
			// Stream events: infra/rie runs them through the sender's own
			// bootstrap, and infra/samcheck holds them to the template.
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var ev events.APIGatewayProxyRequest
			if err := json.Unmarshal(data, &ev); err != nil {
				t.Fatal(err)
			}
			function := strings.SplitN(filepath.Base(f), ".", 2)[0]
			res := invoke(t, a, function, ev)
			if res.StatusCode >= 500 || res.StatusCode == 404 || res.StatusCode == 405 {
				t.Fatalf("%s: %d %s", f, res.StatusCode, res.Body)
			}
			if httpapi.PagesOnly(function) {
				// A page, a stylesheet, the redirect of /, or a HEAD's headers alone.
				ct := res.MultiValueHeaders["Content-Type"]
				if len(res.MultiValueHeaders["Location"]) == 0 && (len(ct) != 1 || !strings.HasPrefix(ct[0], "text/") || res.Body == "" && ev.HTTPMethod != "HEAD") {
					t.Fatalf("%s: %d %v %.100q, want a page", f, res.StatusCode, ct, res.Body)
				}
				return
			}
			if res.StatusCode != 204 && !json.Valid([]byte(res.Body)) {
				t.Fatalf("%s: body is not JSON: %q", f, res.Body)
			}
		})
	}
}
