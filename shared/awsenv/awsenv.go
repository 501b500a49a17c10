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
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
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
	return Bounded(aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN")),
	}), nil
}

// The bounds of one call to an AWS service (see Bounded). A request has
// 4.5 s at least (httpapi); DynamoDB, SES, SNS and Secrets Manager answer
// in tens of milliseconds when well, so an attempt that has not connected
// in DialTimeout or heard back in ResponseHeaderTimeout is stalled, and
// MaxAttempts of them with MaxBackoff between them fit the budget.
const (
	DialTimeout           = time.Second
	ResponseHeaderTimeout = 2 * time.Second
	MaxAttempts           = 3
	MaxBackoff            = 200 * time.Millisecond
)

// Bounded returns c with an HTTP client that gives up on an attempt that
// cannot connect in DialTimeout (or finish TLS in as long) or gets no
// response headers in ResponseHeaderTimeout, and the SDK's standard retries
// cut to MaxAttempts and MaxBackoff. The request's context still caps the
// whole call: these keep one stalled attempt from spending all of it. The
// SDK's defaults (no response timeout, backoff up to 20 s) would not.
func Bounded(c aws.Config) aws.Config {
	c.HTTPClient = awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = DialTimeout }).
		WithTransportOptions(func(t *http.Transport) {
			t.TLSHandshakeTimeout = DialTimeout
			t.ResponseHeaderTimeout = ResponseHeaderTimeout
		})
	c.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = MaxAttempts
			o.MaxBackoff = MaxBackoff
		})
	}
	c.RetryMaxAttempts = 0
	return c
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
