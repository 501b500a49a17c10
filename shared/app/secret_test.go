package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/logging"
	"github.com/ekolek/identity/shared/notify/mototest"
)

func TestMain(m *testing.M) { os.Exit(mototest.Main(m)) }

// At cold start a function reads its signing key from the stack's secret,
// and, after a rotation, the previous version too, so tokens signed before
// the rotation still verify; and its data key from the other secret. Secrets Manager is moto's, the AWS configuration
// the environment's (as in Lambda).
func TestSigningKeyFromSecretsManager(t *testing.T) {
	endpoint := mototest.Endpoint(t)
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	sm := secretsmanager.NewFromConfig(aws.Config{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	const first = "first-signing-key-of-at-least-32-bytes!!"
	const second = "second-signing-key-of-at-least-32-bytes!"
	created, err := sm.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{
		Name:         aws.String(fmt.Sprintf("ekolek-app-test-%d", time.Now().UnixNano())),
		SecretString: aws.String(first),
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(created.ARN)
	const data = "the-data-key-of-at-least-32-bytes-long!!"
	dataSecret, err := sm.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{
		Name:         aws.String(fmt.Sprintf("ekolek-app-test-data-%d", time.Now().UnixNano())),
		SecretString: aws.String(data),
	})
	if err != nil {
		t.Fatal(err)
	}

	open := func() *app.App {
		t.Helper()
		// No parts: the AWS configuration from the environment, as in Lambda.
		cfg := loadConfig(t, map[string]string{"EKOLEK_SIGNING_KEY_SECRET_ARN": arn, "EKOLEK_DATA_KEY_SECRET_ARN": aws.ToString(dataSecret.ARN)})
		a, err := app.Open(context.Background(), cfg, logging.New(io.Discard, slog.LevelInfo), app.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = a.Close() })
		return a
	}

	a := open()
	if !bytes.Equal(a.Config.SigningKey, []byte(first)) || a.Config.PreviousSigningKey != nil {
		t.Fatalf("before a rotation: key %q, previous %q; want the secret and none", a.Config.SigningKey, a.Config.PreviousSigningKey)
	}
	if _, err := sm.PutSecretValue(t.Context(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String(second)}); err != nil {
		t.Fatal(err)
	}
	a = open()
	if !bytes.Equal(a.Config.SigningKey, []byte(second)) || !bytes.Equal(a.Config.PreviousSigningKey, []byte(first)) {
		t.Fatalf("after a rotation: key %q, previous %q; want the new and the old version", a.Config.SigningKey, a.Config.PreviousSigningKey)
	}
	// The data key is its own secret's and does not move with the signing key.
	if !bytes.Equal(a.Config.DataKey, []byte(data)) {
		t.Fatalf("data key %q, want the data key secret's", a.Config.DataKey)
	}
}
