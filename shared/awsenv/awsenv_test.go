package awsenv

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func TestLoad(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "session")
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "AWS_REGION") {
		t.Fatalf("Load without a region = %v, want an error naming AWS_REGION", err)
	}
	t.Setenv("AWS_DEFAULT_REGION", "ap-southeast-1")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Region != "ap-southeast-1" {
		t.Errorf("region %q, want AWS_DEFAULT_REGION's", c.Region)
	}
	t.Setenv("AWS_REGION", "us-east-1")
	if c, _ = Load(); c.Region != "us-east-1" {
		t.Errorf("region %q, want AWS_REGION's", c.Region)
	}
	creds, err := c.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "AKIDEXAMPLE" || creds.SecretAccessKey != "secret" || creds.SessionToken != "session" {
		t.Errorf("credentials %+v, want the environment's", creds)
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "AWS_SECRET_ACCESS_KEY") {
		t.Fatalf("Load without a secret key = %v, want an error naming it", err)
	}
}

func TestFor(t *testing.T) {
	// make test exports the emulators' endpoints; start from none.
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SES", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"} {
		t.Setenv(k, "")
	}
	if c := For(aws.Config{}, "DYNAMODB"); c.BaseEndpoint != nil {
		t.Errorf("no endpoint variables: BaseEndpoint %q, want none (AWS's)", *c.BaseEndpoint)
	}
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
	if c := For(aws.Config{}, "DYNAMODB"); aws.ToString(c.BaseEndpoint) != "http://127.0.0.1:4566" {
		t.Errorf("BaseEndpoint %q, want AWS_ENDPOINT_URL", aws.ToString(c.BaseEndpoint))
	}
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000")
	if c := For(aws.Config{}, "DYNAMODB"); aws.ToString(c.BaseEndpoint) != "http://127.0.0.1:8000" {
		t.Errorf("BaseEndpoint %q, want AWS_ENDPOINT_URL_DYNAMODB", aws.ToString(c.BaseEndpoint))
	}
	if c := For(aws.Config{}, "SES"); aws.ToString(c.BaseEndpoint) != "http://127.0.0.1:4566" {
		t.Errorf("SES BaseEndpoint %q, want AWS_ENDPOINT_URL (only DynamoDB has its own)", aws.ToString(c.BaseEndpoint))
	}
	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
	if c := For(aws.Config{}, "DYNAMODB"); c.BaseEndpoint != nil {
		t.Errorf("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true: BaseEndpoint %q, want none", *c.BaseEndpoint)
	}
}

// A service that keeps failing is tried MaxAttempts times, with short
// backoffs between, not the SDK's default up to 20 s each.
func TestBoundedRetries(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError"}`, http.StatusInternalServerError)
	}))
	defer srv.Close()
	c := Bounded(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("id", "secret", ""), BaseEndpoint: aws.String(srv.URL)})
	start := time.Now()
	_, err := dynamodb.NewFromConfig(c).ListTables(context.Background(), &dynamodb.ListTablesInput{})
	if err == nil {
		t.Fatal("ListTables succeeded against a failing server")
	}
	if n := calls.Load(); n != MaxAttempts {
		t.Errorf("%d attempts, want %d", n, MaxAttempts)
	}
	if took := time.Since(start); took > time.Duration(MaxAttempts-1)*MaxBackoff+time.Second {
		t.Errorf("gave up after %v: the backoff is not bounded", took)
	}
}

// Each attempt's transport gives up on a server that does not connect or
// answer in time.
func TestBoundedTransport(t *testing.T) {
	c := Bounded(aws.Config{})
	bc, ok := c.HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		t.Fatalf("HTTPClient is %T, want the SDK's BuildableClient", c.HTTPClient)
	}
	tr := bc.GetTransport()
	if tr.ResponseHeaderTimeout != ResponseHeaderTimeout || tr.TLSHandshakeTimeout != DialTimeout {
		t.Errorf("transport timeouts: header %v, TLS %v", tr.ResponseHeaderTimeout, tr.TLSHandshakeTimeout)
	}
	if d := bc.GetDialer(); d.Timeout != DialTimeout {
		t.Errorf("dial timeout %v, want %v", d.Timeout, DialTimeout)
	}
	if r := c.Retryer(); r.MaxAttempts() != MaxAttempts {
		t.Errorf("retryer allows %d attempts, want %d", r.MaxAttempts(), MaxAttempts)
	}
}
