package main

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
)

// TestDynamoDBLoadLosesNothing runs `make load-dynamodb` briefly: the
// local API (built here) on a fresh table in DynamoDB Local, both phases,
// every answer as each worker's record predicted (a locked email's
// refusal included), the calls counted, and every check of the table
// and the log met. Then it takes a session, a security event and a
// message out of the table behind the API's back and writes a plain-text
// line into its log, and the checks must name exactly those.
func TestDynamoDBLoadLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs the local API on DynamoDB Local")
	}
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamotest.Endpoint(t))
	for k, v := range map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"} {
		if os.Getenv(k) == "" {
			t.Setenv(k, v)
		}
	}
	ctx := context.Background()
	// Six of each kind in the calls phase: the sixth wrong password meets
	// the lock the fifth set.
	r, err := loadDynamo(ctx, dynamoOptions{api: builtAPI(t), dir: t.TempDir(), duration: 3 * time.Second,
		workers: 4, accounts: 12, callsEach: 6, seed: 1, commandLine: "load dynamodb (test)",
		loadAverage: func() string { return "1.00 1.00 1.00" }})
	if r != nil {
		t.Cleanup(r.dropTable)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := r.verify(ctx); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	r.report(&out)
	if err := r.failure(); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	report := out.String()
	for _, want := range []string{
		"| session check |", "| registration |", "requests/s**",
		"| session check → 200 | 6 | 1 (1–1) | 1 | 0 | BatchGetItem 1 |",
		"| login, wrong password → 401 | 5 |", "| login, wrong password → 429 | 1 |",
		"(counted ÷ predicted", "| `rate_limited` | ", "| `login_locked` | ",
		"log: ", "0 of them not JSON, 0 from the AWS SDK",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
	if r.mixedCalls.total() == 0 || r.senderCalls.total() == 0 || r.messages == 0 {
		t.Errorf("calls: mixed %v, sender %v, messages %d", r.mixedCalls, r.senderCalls, r.messages)
	}

	// The checks see what is missing.
	items, err := scan(ctx, r.client, r.table)
	if err != nil {
		t.Fatal(err)
	}
	taken := map[string]bool{}
	for _, it := range items {
		pk, sk := attrS(it, "PK"), attrS(it, "SK")
		var what string
		switch {
		case strings.HasPrefix(sk, "SESSION#"):
			what = "session"
		case strings.HasPrefix(sk, "EVENT#") && attrS(it, "type") == "login_succeeded":
			what = "event"
		case strings.HasPrefix(pk, "OUTBOX#"):
			what = "message"
		}
		if what == "" || taken[what] {
			continue
		}
		taken[what] = true
		if _, err := r.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(r.table),
			Key: map[string]types.AttributeValue{"PK": it["PK"], "SK": it["SK"]}}); err != nil {
			t.Fatal(err)
		}
	}
	if len(taken) != 3 {
		t.Fatalf("found only %v to take out", taken)
	}
	f, err := os.OpenFile(r.logPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString("2026/12/06 12:00:00 plain text among the JSON\n")
	_ = f.Close()
	if err := r.verify(ctx); err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, c := range r.checks {
		if !c.ok {
			failed = append(failed, c.what)
		}
	}
	want := []string{
		"sessions (logins answered 200 less logouts answered 204)",
		"accounts whose sessions differ",
		"outbox messages (2 per registration, 1 per known-email reset request)",
		"accounts whose messages are not their requests' (kind, channel)",
		"logged security events missing from the table",
		"log lines that are not JSON",
	}
	slices.Sort(failed)
	slices.Sort(want)
	if !slices.Equal(failed, want) {
		t.Errorf("after taking a session, an event and a message out and writing a plain line into the log, the failed checks are\n%s\nwant\n%s",
			strings.Join(failed, "\n"), strings.Join(want, "\n"))
	}
}
