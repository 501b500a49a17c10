package rie_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ekolek/identity/infra/rie"
	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/notify/mototest"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/store/dynamo"
)

// background reports whether fn is a function no route names, invoked by
// an event source with events of its own kind (app.Background).
func background(fn string) bool {
	_, ok := app.Background[fn]
	return ok
}

// senderEnv is what function sender gets beyond the others' environment:
// its dead-letter queue (template.yaml: !Ref DeadLetterQueue), here a
// queue on moto.
func senderEnv(t *testing.T, env []string) []string {
	t.Helper()
	return append(env, "EKOLEK_DEAD_LETTER_QUEUE_URL="+mototest.NewQueue(t, mototest.SQSClient(t)))
}

// seedMessages writes into table the pending messages the stream events in
// files name (events/sender.*.json), sealed with the functions' signing
// key to a recipient of this package's own, so that invoking the sender
// with those events delivers them. It returns the recipients.
func seedMessages(t *testing.T, client *dynamodb.Client, table string, files []string) []string {
	t.Helper()
	key, err := config.DecodeKey(signingKey)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := outbox.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	st := dynamo.New(client, table)
	var to []string
	for i, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ev events.DynamoDBEvent
		if err := json.Unmarshal(data, &ev); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for j, r := range ev.Records {
			id, ok := dynamo.MessageID(r.Change.Keys["PK"].String(), r.Change.Keys["SK"].String())
			created, _ := outbox.CreatedAtOf(id)
			if !ok {
				t.Fatalf("%s: record %d names no message", f, j)
			}
			img := r.Change.NewImage
			m := outbox.Message{
				ID: id, Kind: notify.Kind(img["kind"].String()), Channel: notify.Channel(img["channel"].String()),
				State: outbox.Pending, CreatedAt: created, UpdatedAt: created,
				Realm: account.Realm(img["realm"].String()), AccountID: img["account_id"].String(),
			}
			recipient := fmt.Sprintf("rie.sender.%d.%d@ekolek.example.org", i, j)
			if m.Channel == notify.SMS {
				recipient = fmt.Sprintf("+6391755501%d%d", i, j)
			}
			content := notify.Compose(m.Kind, "en", m.Channel, recipient, notify.Data{Name: "Juan", Code: "246810", Minutes: 10})
			if m.Sealed, err = sealer.Seal(m.ID, content); err != nil {
				t.Fatal(err)
			}
			if err := st.PutMessage(t.Context(), m); err != nil {
				t.Fatalf("seed message %s: %v", id, err)
			}
			to = append(to, recipient)
		}
	}
	return to
}

// checkStreamResponse asserts that res is what a DynamoDB Stream event
// source mapping with ReportBatchItemFailures needs: a JSON object with
// batchItemFailures (none here: every message was delivered or had been),
// from a function that neither failed to start nor returned an error.
func checkStreamResponse(t *testing.T, name string, res rie.Result) events.DynamoDBEventResponse {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s: %s\nfunction output:\n%s", name, fmt.Sprintf(format, args...), rie.FunctionLogs(res.Logs))
	}
	if res.HTTPStatus != 200 {
		fail("emulator answered %d: %s", res.HTTPStatus, res.Payload)
	}
	if strings.Contains(string(res.Payload), `"errorType"`) {
		fail("the function returned an error: %s", res.Payload)
	}
	var resp events.DynamoDBEventResponse
	dec := json.NewDecoder(strings.NewReader(string(res.Payload)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&resp); err != nil {
		fail("not a stream batch response: %v: %.300s", err, res.Payload)
	}
	if len(resp.BatchItemFailures) > 0 {
		fail("batch item failures %v", resp.BatchItemFailures)
	}
	return resp
}
