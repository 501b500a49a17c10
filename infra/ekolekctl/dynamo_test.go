package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// The CLI works on a DynamoDB table with the functions' configuration:
// create-table makes it (twice is fine), create-admin writes an admin the
// DynamoDB store then finds.
func TestCreateTableAndAdminOnDynamoDB(t *testing.T) {
	client := dynamotest.Client(t)
	localEnv(t)
	table := fmt.Sprintf("ekolekctl-test-%d", time.Now().UnixNano())
	for k, v := range map[string]string{
		"EKOLEK_STORE":                "dynamodb",
		"EKOLEK_TABLE":                table,
		"AWS_ENDPOINT_URL_DYNAMODB":   dynamotest.Endpoint(t),
		"AWS_ACCESS_KEY_ID":           "local",
		"AWS_SECRET_ACCESS_KEY":       "local",
		"AWS_REGION":                  "us-east-1",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	} {
		t.Setenv(k, v)
	}
	t.Cleanup(func() {
		_, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	for i := 0; i < 2; i++ {
		var out bytes.Buffer
		if err := run(t.Context(), []string{"create-table"}, strings.NewReader(""), &out); err != nil {
			t.Fatalf("create-table (run %d): %v", i+1, err)
		}
		if !strings.Contains(out.String(), table) {
			t.Fatalf("create-table said %q", out.String())
		}
	}
	var out bytes.Buffer
	err := run(t.Context(), []string{"create-admin", "--username", "boss", "--email", "boss@example.com",
		"--full-name", "Boss Admin", "--role", "super_admin", "--password-stdin"}, strings.NewReader(strongPassword+"\n"), &out)
	if err != nil {
		t.Fatalf("create-admin: %v", err)
	}
	st := dynamo.New(client, table)
	id, err := st.LookupIdentifier(t.Context(), account.Admin, account.Identifier{Kind: account.KindUsername, Value: "boss"})
	if err != nil {
		t.Fatalf("admin not in the table: %v", err)
	}
	a, err := st.GetAccount(t.Context(), account.Admin, id)
	if err != nil || a.Role != account.RoleSuperAdmin || a.Status != account.StatusActive || a.PasswordHash == "" {
		t.Fatalf("stored admin %+v, %v", a, err)
	}
	err = run(t.Context(), []string{"create-admin", "--username", "boss", "--email", "other@example.com",
		"--full-name", "Boss Again", "--role", "super_admin", "--password-stdin"}, strings.NewReader(strongPassword+"\n"), &out)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate on DynamoDB: %v", err)
	}
}
