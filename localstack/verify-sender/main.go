// Command verify-sender verifies the SES sender identity (EKOLEK_EMAIL_FROM,
// or the address given) on the SES endpoint the environment names
// (AWS_ENDPOINT_URL_SES): moto's server for localstack/emulators.sh, which,
// like SES, refuses mail from an address that is not verified. It is the
// no-Docker twin of `awslocal ses verify-email-identity` in LocalStack's
// init hook.
//
//	go run ./localstack/verify-sender [address]
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ses"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "verify-sender:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	from := os.Getenv("EKOLEK_EMAIL_FROM")
	if len(args) > 0 {
		from = args[0]
	}
	if from == "" {
		return errors.New("no address: set EKOLEK_EMAIL_FROM or give one")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	client := ses.NewFromConfig(cfg)
	if _, err := client.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(from)}); err != nil {
		return fmt.Errorf("verify %s: %w", from, err)
	}
	out, err := client.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: []string{from}})
	if err != nil {
		return fmt.Errorf("check %s: %w", from, err)
	}
	status := "unknown"
	if a, ok := out.VerificationAttributes[from]; ok {
		status = string(a.VerificationStatus)
	}
	fmt.Printf("sender %s: %s\n", from, status)
	return nil
}
