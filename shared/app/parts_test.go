package app_test

import (
	"context"
	"io"
	"log/slog"
	"math/bits"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/app/allparts"
	"github.com/ekolek/identity/shared/httpapi"
	"github.com/ekolek/identity/shared/logging"
	"github.com/ekolek/identity/shared/web"
)

// A function whose routes need a part it was built without does not start,
// and says which part is missing; one that needs none starts with none.
func TestHandlerRefusesAFunctionWithoutThePartsItsRoutesUse(t *testing.T) {
	cfg := loadConfig(t, map[string]string{"EKOLEK_NOTIFIER": "aws", "EKOLEK_EMAIL_FROM": "no-reply@example.com"})
	a, err := app.Open(context.Background(), cfg, logging.New(io.Discard, slog.LevelInfo), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })

	want := map[string][]string{
		"session":         nil,
		"logout":          nil,
		"admin-residents": nil,
		"login":           {"Phone"},
		"reset-verify":    {"Phone"},
		"admin-admins":    nil,
		"reset-confirm":   {"Password"},
		"register":        {"Phone", "Password"},
		"web":             {"Pages"},
		"mfa":             {"TOTP"},
	}
	for fn, missing := range want {
		_, err := a.Handler(fn)
		if len(missing) == 0 {
			if err != nil {
				t.Errorf("Handler(%s) = %v, want it to start without parts", fn, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("Handler(%s) started without %v", fn, missing)
			continue
		}
		for _, m := range missing {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("Handler(%s) = %q, does not name %s", fn, err, m)
			}
		}
	}
	// Function sender delivers with the Messenger: without it, it does not
	// start, and says so; in production it needs its dead-letter queue too.
	if _, err := a.Sender(); err == nil || !strings.Contains(err.Error(), "Messenger") || strings.Contains(err.Error(), "DeadLetters") {
		t.Errorf("Sender() without its parts = %v, want a refusal naming Messenger (and, locally, not DeadLetters)", err)
	}
	prod := loadConfig(t, map[string]string{"EKOLEK_ENV": "production", "EKOLEK_TABLE": "t", "EKOLEK_EMAIL_FROM": "no-reply@example.com",
		"EKOLEK_SIGNING_KEY": "ZWtvbGVrLXBhcnRzLXRlc3Qtc2lnbmluZy1rZXktMzItYnl0ZXMhIQ==",
		"EKOLEK_DATA_KEY":    "ZWtvbGVrLXBhcnRzLXRlc3QtZGF0YS1rZXktMzItYnl0ZXMhISEhIQ=="})
	p, err := app.Open(context.Background(), prod, logging.New(io.Discard, slog.LevelInfo), app.Options{Store: a.Store})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Sender(); err == nil || !strings.Contains(err.Error(), "Messenger") || !strings.Contains(err.Error(), "DeadLetters") {
		t.Errorf("Sender() in production without its parts = %v, want a refusal naming Messenger and DeadLetters", err)
	}
	// Every function in the table starts with every part. Messenger builds
	// AWS clients from the environment, as in Lambda; nothing is sent.
	t.Setenv("AWS_REGION", "ap-southeast-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	full, err := app.Open(context.Background(), cfg, logging.New(io.Discard, slog.LevelInfo), app.Options{Store: a.Store, Parts: allPartsButAWS()})
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range httpapi.Functions() {
		if _, err := full.Handler(fn); err != nil {
			t.Errorf("Handler(%s) with every part = %v", fn, err)
		}
	}
	// Function sender, with its parts and a dead-letter queue to use.
	cfg.DeadLetterQueueURL = "https://sqs.ap-southeast-1.amazonaws.com/123456789012/dead-letters"
	sender, err := app.Open(context.Background(), cfg, logging.New(io.Discard, slog.LevelInfo), app.Options{Store: a.Store, Parts: allPartsButAWS()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sender.Sender(); err != nil {
		t.Errorf("Sender() with every part = %v", err)
	}
}

// PartTable has a row for each field of Parts (AWSConfig aside: no route
// declares it), each with a bit of its own, and a row for every part a
// route declares.
func TestPartTableDescribesEveryPart(t *testing.T) {
	var fields, rows []string
	for _, f := range reflect.VisibleFields(reflect.TypeFor[app.Parts]()) {
		if f.Name != "AWSConfig" {
			fields = append(fields, f.Name)
		}
	}
	var all httpapi.Needs
	for _, p := range app.PartTable {
		rows = append(rows, p.Field)
		if bits.OnesCount8(uint8(p.Needs)) != 1 || all&p.Needs != 0 {
			t.Errorf("%s: Needs %08b is not a bit of its own", p.Field, p.Needs)
		}
		all |= p.Needs
	}
	if !slices.Equal(rows, fields) {
		t.Errorf("PartTable describes %v; Parts has %v", rows, fields)
	}
	if missing := httpapi.NeedsOf() &^ all; missing != 0 {
		t.Errorf("routes declare parts %08b that PartTable does not describe", missing)
	}
}

// allPartsButAWS is every part, with the AWS configuration from the
// environment instead of the SDK's loader (which would read ~/.aws).
func allPartsButAWS() app.Parts {
	p := allparts.Parts()
	p.AWSConfig = nil
	return p
}

// A function that only serves pages starts from its parts alone: no store is
// opened and no signing key read (a production configuration whose key
// lives in a secret nobody can reach here), and it answers the pages.
func TestPagesHandlerNeedsNoStoreOrKey(t *testing.T) {
	cfg := loadConfig(t, map[string]string{
		"EKOLEK_ENV": "production", "EKOLEK_TABLE": "no-such-table",
		"EKOLEK_SIGNING_KEY_SECRET_ARN": "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:unreachable",
		"EKOLEK_DATA_KEY_SECRET_ARN":    "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:unreachable-too",
		"EKOLEK_EMAIL_FROM":             "no-reply@example.com",
	})
	if _, err := app.PagesHandler("web", cfg, logging.New(io.Discard, slog.LevelInfo), app.Parts{}); err == nil || !strings.Contains(err.Error(), "Pages") {
		t.Fatalf("without the Pages part: %v, want a refusal naming Pages", err)
	}
	if _, err := app.PagesHandler("session", cfg, logging.New(io.Discard, slog.LevelInfo), allPartsButAWS()); err == nil {
		t.Fatal("PagesHandler built the session function, which needs the store")
	}
	h, err := app.PagesHandler("web", cfg, logging.New(io.Discard, slog.LevelInfo), app.Parts{Pages: web.Handler})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/login", nil))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `data-page="login"`) || w.Header().Get("Strict-Transport-Security") == "" {
		t.Fatalf("GET /login: %d %v %.200s", w.Code, w.Header(), w.Body)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/resident/session", nil))
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), `"not_found"`) {
		t.Fatalf("an API path at the pages function: %d %s, want the API's 404", w.Code, w.Body)
	}
}
