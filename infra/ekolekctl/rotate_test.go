package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/ekolek/identity/shared/notify/mototest"
	"github.com/ekolek/identity/shared/secret"
	"github.com/ekolek/identity/shared/token"
)

// rotate-signing-key moves the secret's labels the way Secrets Manager's
// rotation does: a new AWSCURRENT, the old key AWSPREVIOUS. A key made a
// moment ago is not rotated without --force.
func TestRotateSigningKey(t *testing.T) {
	endpoint := mototest.Endpoint(t)
	localEnv(t)
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint,
		"AWS_ACCESS_KEY_ID":                "local",
		"AWS_SECRET_ACCESS_KEY":            "local",
		"AWS_REGION":                       "us-east-1",
		"AWS_CONFIG_FILE":                  os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE":      os.DevNull,
	} {
		t.Setenv(k, v)
	}
	sm := secretsmanager.NewFromConfig(aws.Config{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	const first = "first-signing-key-of-at-least-32-bytes!!"
	created, err := sm.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{
		Name: aws.String(fmt.Sprintf("ekolekctl-rotate-%d", time.Now().UnixNano())), SecretString: aws.String(first),
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(created.ARN)
	t.Setenv("EKOLEK_SIGNING_KEY_SECRET_ARN", arn)

	var out bytes.Buffer
	if err := run(t.Context(), []string{"rotate-signing-key"}, nil, &out); !errors.Is(err, secret.ErrTooSoon) {
		t.Fatalf("rotating a key made a moment ago: %v, want ErrTooSoon", err)
	}
	if err := run(t.Context(), []string{"rotate-signing-key", "--force"}, nil, &out); err != nil {
		t.Fatal(err)
	}
	current, err := secret.Key(t.Context(), sm, arn, secret.Current)
	if err != nil {
		t.Fatal(err)
	}
	previous, err := secret.Key(t.Context(), sm, arn, secret.Previous)
	if err != nil {
		t.Fatal(err)
	}
	if string(previous) != first || string(current) == first || len(current) < token.MinKeyLen {
		t.Fatalf("after rotate-signing-key: current %d bytes, previous %q", len(current), previous)
	}
	if !strings.Contains(out.String(), token.KeyID(current)) || !strings.Contains(out.String(), token.KeyID([]byte(first))) {
		t.Fatalf("output does not name both key ids:\n%s", out.String())
	}
	if err := run(t.Context(), []string{"rotate-signing-key", "--secret-id", ""}, nil, &out); err == nil {
		t.Fatal("rotated without a secret")
	}
}
