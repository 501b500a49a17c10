package app_test

import (
	"context"
	"io"
	"log/slog"
	"math/bits"
	"reflect"
	"slices"
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
