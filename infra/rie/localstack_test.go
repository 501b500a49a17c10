package rie_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
)

var update = flag.Bool("update", false, "rewrite localstack/table.json from dynamo.TableDefinition")

// tableJSON renders dynamo.TableDefinition as the AWS CLI's
// --cli-input-json for `dynamodb create-table`, without the table name
// (the hook passes --table-name): LocalStack's container has the AWS CLI,
// not Go.
func tableJSON(t *testing.T) []byte {
	t.Helper()
	raw, err := json.Marshal(dynamo.TableDefinition(""))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	v = prune(v)
	delete(v.(map[string]any), "TableName")
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

// prune drops what the SDK's structs marshal for unset fields: nulls, empty
// strings, empty lists and objects.
func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			e = prune(e)
			if empty(e) {
				delete(x, k)
			} else {
				x[k] = e
			}
		}
		return x
	case []any:
		out := x[:0]
		for _, e := range x {
			if e = prune(e); !empty(e) {
				out = append(out, e)
			}
		}
		return out
	}
	return v
}

func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// LocalStack's init hook creates the table from localstack/table.json,
// which is dynamo.TableDefinition rendered: one definition. Run with
// -update after changing the definition.
func TestLocalStackTableIsTheCodesDefinition(t *testing.T) {
	want := tableJSON(t)
	path := filepath.Join(root, "localstack", "table.json")
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("localstack/table.json is not dynamo.TableDefinition: run `go test ./infra/rie -run TestLocalStackTable -update`\nwant:\n%s\ngot:\n%s", want, got)
	}
}

// The hook turns on TTL for the attribute dynamo.CreateTable turns it on
// for, and does the rest of the initialisation the emulator script does.
func TestLocalStackHookMatchesCreateTable(t *testing.T) {
	hooks, err := filepath.Glob(filepath.Join(root, "localstack", "init", "ready.d", "*.sh"))
	if err != nil || len(hooks) == 0 {
		t.Fatalf("no localstack/init/ready.d/*.sh: %v", err)
	}
	var script strings.Builder
	for _, h := range hooks {
		b, err := os.ReadFile(h)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(h)
		if st.Mode()&0o111 == 0 {
			t.Errorf("%s is not executable: LocalStack skips it", h)
		}
		script.Write(b)
	}
	for _, want := range []string{"table.json", "update-time-to-live", "ses verify-email-identity", "secretsmanager create-secret"} {
		if !strings.Contains(script.String(), want) {
			t.Errorf("the hook does not %q", want)
		}
	}

	client := dynamotest.Client(t)
	table := dynamotest.NewTable(t, client)
	ttl, err := client.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	attr := aws.ToString(ttl.TimeToLiveDescription.AttributeName)
	if attr == "" || !strings.Contains(script.String(), "AttributeName="+attr) {
		t.Errorf("dynamo.CreateTable turns TTL on for %q; the hook does not (AttributeName=%s)", attr, attr)
	}
}

// localstack/Launcher.java, which emulators.sh runs, is the launcher
// dynamotest runs: DynamoDB Local bound to 127.0.0.1 the same way.
func TestEmulatorScriptLauncherIsDynamotests(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(root, "shared", "store", "dynamo", "dynamotest", "dynamotest.go"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)const launcher = `(.*?)`").FindSubmatch(src)
	if m == nil {
		t.Fatal("no launcher constant in dynamotest.go")
	}
	java, err := os.ReadFile(filepath.Join(root, "localstack", "Launcher.java"))
	if err != nil {
		t.Fatal(err)
	}
	var code []string
	for _, line := range strings.Split(string(java), "\n") {
		if !strings.HasPrefix(line, "//") {
			code = append(code, line)
		}
	}
	if strings.TrimSpace(strings.Join(code, "\n")) != strings.TrimSpace(string(m[1])) {
		t.Fatal("localstack/Launcher.java differs from dynamotest's launcher: copy it over")
	}
}
