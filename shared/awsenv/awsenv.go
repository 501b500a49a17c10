// Package awsenv builds the AWS SDK configuration a Lambda function needs
// from its environment alone: the region and the credentials the runtime
// sets, and the AWS_ENDPOINT_URL_* variables that point the SDK at local
// emulators. config.LoadDefaultConfig does this and much more (shared
// profiles, SSO, web identity, the instance metadata service) that a function
// never uses, at about 2 MB of every binary; the local API and ekolekctl,
// which run on people's machines, use it instead (app.Parts.AWSConfig).
package awsenv

import (
	"errors"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Load reads AWS_REGION (or AWS_DEFAULT_REGION), AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, which Lambda sets for the
// function's role.
func Load() (aws.Config, error) {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	if region == "" {
		return aws.Config{}, errors.New("AWS_REGION is not set")
	}
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return aws.Config{}, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (Lambda sets them; elsewhere export them)")
	}
	return aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN")),
	}, nil
}

// For returns c for one service: pointed at AWS_ENDPOINT_URL_<SERVICE>, else
// AWS_ENDPOINT_URL, when either is set and not empty (the SDK's names:
// DYNAMODB, SECRETS_MANAGER, SES, SNS), unless
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true, as the SDK reads them.
func For(c aws.Config, service string) aws.Config {
	if strings.EqualFold(os.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		return c
	}
	for _, k := range []string{"AWS_ENDPOINT_URL_" + service, "AWS_ENDPOINT_URL"} {
		if u := os.Getenv(k); u != "" {
			c.BaseEndpoint = aws.String(u)
			break
		}
	}
	return c
}
