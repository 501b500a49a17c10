package app_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/app/allparts"
	"github.com/ekolek/identity/shared/httpapi"
	"github.com/ekolek/identity/shared/logging"
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
		"admin-admins":    {"Messenger"},
		"reset-confirm":   {"Password", "Messenger"},
		"register":        {"Phone", "Password", "Messenger"},
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
}

// allPartsButAWS is every part, with the AWS configuration from the
// environment instead of the SDK's loader (which would read ~/.aws).
func allPartsButAWS() app.Parts {
	p := allparts.Parts()
	p.AWSConfig = nil
	return p
}
