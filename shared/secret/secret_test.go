package secret_test

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/notify/mototest"
	"github.com/ekolek/identity/shared/secret"
	"github.com/ekolek/identity/shared/token"
)

func TestMain(m *testing.M) { os.Exit(mototest.Main(m)) }

func client(t *testing.T) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(aws.Config{
		Region: "us-east-1", BaseEndpoint: aws.String(mototest.Endpoint(t)),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}

func newSecret(t *testing.T, sm *secretsmanager.Client, value string) string {
	out, err := sm.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{
		Name:         aws.String(fmt.Sprintf("ekolek-rotation-test-%d", time.Now().UnixNano())),
		SecretString: aws.String(value),
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.ARN)
}

// instance is one running function's key set, started from the secret the
// way app.Open starts it.
func instance(t *testing.T, sm *secretsmanager.Client, arn string, clk clock.Clock) *token.Keys {
	t.Helper()
	src := secret.SigningKeys(sm, arn)
	current, previous, err := src(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	k, err := token.Refreshing(src, clk, current, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A rotation through Secrets Manager's staging labels logs nobody out: an
// instance that was running before it accepts tokens signed before and
// after it, a new instance too, and a token under a key two rotations old
// (retired) is refused.
func TestRotationKeepsEveryLiveTokenValid(t *testing.T) {
	sm := client(t)
	arn := newSecret(t, sm, "first-signing-key-of-at-least-32-bytes!!")
	clk := clock.NewManual(time.Now())
	sign := func(k *token.Keys) string {
		t.Helper()
		now := clk.Now()
		tok, err := k.Sign(token.Claims{Audience: "resident", Subject: "a1", SessionID: "s", IssuedAt: now, ExpiresAt: now.Add(24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	accepts := func(k *token.Keys, tok, what string) {
		t.Helper()
		if _, err := k.Parse(t.Context(), "resident", tok, clk.Now()); err != nil {
			t.Fatalf("%s: refused: %v", what, err)
		}
	}

	running := instance(t, sm, arn, clk)
	beforeRotation := sign(running)

	if _, err := secret.Rotate(t.Context(), sm, arn, time.Now(), secret.MinRotationAge); !errors.Is(err, secret.ErrTooSoon) {
		t.Fatalf("a rotation a moment after the key was made: %v, want ErrTooSoon", err)
	}
	first, err := secret.Rotate(t.Context(), sm, arn, time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if first.OldKeyID != token.KeyID([]byte("first-signing-key-of-at-least-32-bytes!!")) || first.NewKeyID == first.OldKeyID {
		t.Fatalf("rotation: %+v", first)
	}
	fresh := instance(t, sm, arn, clk)
	afterRotation := sign(fresh)
	accepts(fresh, beforeRotation, "a new instance, a token signed before the rotation")
	accepts(running, beforeRotation, "the running instance, a token signed before the rotation")
	accepts(running, afterRotation, "the running instance, a token signed after the rotation")
	accepts(running, beforeRotation, "the running instance, refreshed, its own earlier token")
	accepts(fresh, sign(running), "a new instance, a token the running instance signs now")

	if _, err := secret.Rotate(t.Context(), sm, arn, time.Now(), 0); err != nil {
		t.Fatal(err)
	}
	retired := instance(t, sm, arn, clk)
	if _, err := retired.Parse(t.Context(), "resident", beforeRotation, clk.Now()); !errors.Is(err, token.ErrInvalid) {
		t.Fatalf("a token under the retired first key: %v, want refused", err)
	}
	accepts(retired, afterRotation, "after a second rotation, a token under the previous key")

	// The secret's labels are Secrets Manager's own: the newest version is
	// AWSCURRENT, the one before AWSPREVIOUS, and no AWSPENDING is left.
	desc, err := sm.DescribeSecret(t.Context(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, labels := range desc.VersionIdsToStages {
		for _, l := range labels {
			counts[l]++
		}
	}
	if counts[secret.Current] != 1 || counts[secret.Previous] != 1 || counts[secret.Pending] != 0 {
		t.Fatalf("staging labels after two rotations: %v", desc.VersionIdsToStages)
	}
	if _, err := secret.Key(t.Context(), sm, arn, secret.Pending); !errors.Is(err, secret.ErrNoVersion) {
		t.Fatalf("AWSPENDING after the rotation: %v", err)
	}
}
