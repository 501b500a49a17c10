// Package mototest gives tests SES, SNS and SQS clients that talk to
// moto's server, and reads back what moto recorded as sent. The clients use
// AWS_ENDPOINT_URL_SES when it is set (a moto_server you started; it serves
// SNS too); otherwise the package starts `moto_server` once per test binary,
// on 127.0.0.1 and an unused port, and Main stops it when the tests are done:
//
//	func TestMain(m *testing.M) { os.Exit(mototest.Main(m)) }
//
// Moto keeps, per sent email, the source, destinations, subject and one body
// (the HTML part when there is one, else the text part), and per SMS the
// number and text; it does not keep message attributes. Recorder captures
// the requests themselves for what moto drops.
package mototest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ekolek/identity/shared/emulator"
)

// EndpointEnv names the variable that points the tests at a running moto
// server. It must be moto: Sent and Reset use moto's own /moto-api routes.
const EndpointEnv = "AWS_ENDPOINT_URL_SES"

var (
	once     sync.Once
	endpoint string
	skipMsg  string // set when moto_server is not installed
	startErr error  // set when it is installed but would not start
	server   *emulator.Child
	mu       sync.Mutex // guards server against Main's stop
)

// Main runs the tests and then stops the moto_server this package started,
// if any. Call it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	stop()
	return code
}

// Endpoint returns the URL of the moto server, starting it on first use.
// Under `go test -short` it skips the test, moto or not (the fast run
// starts nothing; `make test` runs without -short). Otherwise, without
// moto_server on PATH it skips the test, or fails it when CI=true so a CI
// run cannot pass by testing nothing.
func Endpoint(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: needs moto_server; `make test` runs it")
	}
	once.Do(setup)
	switch {
	case skipMsg != "" && os.Getenv("CI") == "true":
		t.Fatalf("moto_server not found (%s): run `pip install 'moto[server]'` or set %s", skipMsg, EndpointEnv)
	case skipMsg != "":
		t.Skipf("moto_server not found: run `pip install 'moto[server]'` or set %s [%s]", EndpointEnv, skipMsg)
	case startErr != nil:
		t.Fatalf("moto_server: %v", startErr)
	}
	return endpoint
}

// SESClient returns an SES client for the moto server; options may adjust it.
func SESClient(t testing.TB, optFns ...func(*ses.Options)) *ses.Client {
	t.Helper()
	return NewSESClient(Endpoint(t), optFns...)
}

// SNSClient returns an SNS client for the moto server; options may adjust it.
func SNSClient(t testing.TB, optFns ...func(*sns.Options)) *sns.Client {
	t.Helper()
	return NewSNSClient(Endpoint(t), optFns...)
}

// NewSESClient returns an SES client for endpoint with dummy credentials
// (tests of an unreachable provider point it elsewhere and cut retries).
func NewSESClient(endpoint string, optFns ...func(*ses.Options)) *ses.Client {
	return ses.New(ses.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	}, optFns...)
}

// NewSNSClient returns an SNS client for endpoint with dummy credentials.
func NewSNSClient(endpoint string, optFns ...func(*sns.Options)) *sns.Client {
	return sns.New(sns.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	}, optFns...)
}

// SQSClient returns an SQS client for the moto server (moto serves SQS on
// the same endpoint as SES and SNS).
func SQSClient(t testing.TB) *sqs.Client {
	t.Helper()
	return sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(Endpoint(t)),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}

// NewQueue creates an SQS queue of the test's own on the moto server and
// returns its URL.
func NewQueue(t testing.TB, c *sqs.Client) string {
	t.Helper()
	name := strings.NewReplacer("/", "-", " ", "-", "#", "-").Replace(t.Name())
	if len(name) > 60 {
		name = name[:60]
	}
	out, err := c.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("%s-%d", name, time.Now().UnixNano()))})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	return aws.ToString(out.QueueUrl)
}

// Received takes every message waiting in the queue at url and returns
// their bodies, oldest first as SQS gives them.
func Received(t testing.TB, c *sqs.Client, url string) []string {
	t.Helper()
	var bodies []string
	for {
		out, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatalf("receive from %s: %v", url, err)
		}
		if len(out.Messages) == 0 {
			return bodies
		}
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
			if _, err := c.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatalf("delete from %s: %v", url, err)
			}
		}
	}
}

// VerifyIdentity verifies email as an SES sender; moto, like SES, rejects
// mail from an address that is not verified.
func VerifyIdentity(t testing.TB, email string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := SESClient(t).VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(email)}); err != nil {
		t.Fatalf("verify %s: %v", email, err)
	}
}

// SentEmail is one email moto accepted.
type SentEmail struct {
	ID      string
	Source  string
	To      []string
	Cc      []string
	Bcc     []string
	Subject string
	// Body is the HTML part when the email had one, else the text part:
	// moto keeps only one of them.
	Body string
}

// SentSMS is one SMS moto accepted.
type SentSMS struct {
	ID          string
	PhoneNumber string
	Message     string
}

// motoData is the part of GET /moto-api/data.json read here: every tracked
// model instance, by service and model class, oldest first, across all
// accounts and regions.
type motoData struct {
	SES struct {
		Message []struct {
			ID           string `json:"id"`
			Source       string `json:"source"`
			Subject      string `json:"subject"`
			Body         string `json:"body"`
			Destinations struct {
				ToAddresses  []string `json:"ToAddresses"`
				CcAddresses  []string `json:"CcAddresses"`
				BccAddresses []string `json:"BccAddresses"`
			} `json:"destinations"`
		} `json:"Message"`
	} `json:"ses"`
	SNS struct {
		SMS []struct {
			MessageID   string `json:"message_id"`
			PhoneNumber string `json:"phone_number"`
			Message     string `json:"message"`
		} `json:"SMS"`
	} `json:"sns"`
}

// Sent returns every email and SMS the moto server has accepted since it
// started (or since Reset), oldest first. The server is shared by every test
// in the binary (and by anything else using it), so tests should pick out
// their own messages by a recipient no other test uses.
func Sent(t testing.TB) (emails []SentEmail, sms []SentSMS) {
	t.Helper()
	return SentOn(t, Endpoint(t))
}

// SentOn is Sent of the moto server at ep (a Private one).
func SentOn(t testing.TB, ep string) (emails []SentEmail, sms []SentSMS) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep+"/moto-api/data.json", nil)
	if err != nil {
		t.Fatalf("moto data: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("moto data: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("moto data: status %d, %v: %.200s", resp.StatusCode, err, raw)
	}
	var d motoData
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("moto data: %v", err)
	}
	for _, m := range d.SES.Message {
		emails = append(emails, SentEmail{
			ID: m.ID, Source: m.Source, Subject: m.Subject, Body: m.Body,
			To: m.Destinations.ToAddresses, Cc: m.Destinations.CcAddresses, Bcc: m.Destinations.BccAddresses,
		})
	}
	for _, m := range d.SNS.SMS {
		sms = append(sms, SentSMS{ID: m.MessageID, PhoneNumber: m.PhoneNumber, Message: m.Message})
	}
	return emails, sms
}

// SentTo is what the moto server at ep accepted, by recipient (an email
// address, or an E.164 number): the bodies, oldest first (an email's is
// its HTML part when it had one).
func SentTo(t testing.TB, ep string) map[string][]string {
	t.Helper()
	emails, sms := SentOn(t, ep)
	out := map[string][]string{}
	for _, e := range emails {
		for _, to := range e.To {
			out[to] = append(out[to], e.Body)
		}
	}
	for _, s := range sms {
		out[s.PhoneNumber] = append(out[s.PhoneNumber], s.Message)
	}
	return out
}

// Recorder is an HTTP client for the SDK (Options.HTTPClient) that keeps the
// form of every request before sending it on. SES and SNS use the AWS query
// protocol, so the form is the whole request: this is how a test sees what
// moto does not keep, such as SNS message attributes or an email's text part
// next to its HTML part.
type Recorder struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
	mu    sync.Mutex
	forms []url.Values
}

// NewRecorder returns a Recorder that sends through the SDK's default client.
func NewRecorder() *Recorder {
	return &Recorder{next: awshttp.NewBuildableClient()}
}

// Do records req's form and sends req.
func (r *Recorder) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("recorder: request body is not a form: %w", err)
		}
		r.mu.Lock()
		r.forms = append(r.forms, form)
		r.mu.Unlock()
	}
	return r.next.Do(req)
}

// Forms returns the forms of the requests sent so far, oldest first.
func (r *Recorder) Forms() []url.Values {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]url.Values(nil), r.forms...)
}

func setup() {
	if ep := os.Getenv(EndpointEnv); ep != "" {
		endpoint = strings.TrimRight(ep, "/")
		return
	}
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		skipMsg = "moto_server is not on PATH"
		return
	}
	mu.Lock()
	defer mu.Unlock()
	child, err := start(bin)
	server = child
	if err != nil {
		startErr = err
		return
	}
	endpoint = child.Endpoint
}

// Private starts a moto_server of the test's own, on 127.0.0.1 and an
// unused port: a fault test may pause it (SIGSTOP), or kill it (SIGKILL)
// and restart it on the same port (empty: moto keeps nothing), without
// disturbing the other tests, which share the other one. It is resumed
// and stopped when the test ends. It skips and fails as Endpoint does; it
// never uses AWS_ENDPOINT_URL_SES, whose process is not ours.
func Private(t testing.TB) *emulator.Child {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: needs moto_server; `make test` runs it")
	}
	bin, err := exec.LookPath("moto_server")
	switch {
	case err != nil && os.Getenv("CI") == "true":
		t.Fatalf("moto_server not found: run `pip install 'moto[server]'`")
	case err != nil:
		t.Skipf("moto_server not found: run `pip install 'moto[server]'`")
	}
	child, err := start(bin)
	t.Cleanup(func() {
		if child != nil {
			child.Stop()
		}
	})
	if err != nil {
		t.Fatalf("moto_server: %v", err)
	}
	return child
}

// start runs moto_server and waits until it answers. The child is
// returned, once started, even when it did not answer: the caller stops it.
func start(bin string) (*emulator.Child, error) {
	port, err := emulator.FreePort()
	if err != nil {
		return nil, err
	}
	ep := fmt.Sprintf("http://127.0.0.1:%d", port)
	client := &http.Client{Timeout: 2 * time.Second}
	probe := func() error {
		resp, err := client.Get(ep + "/moto-api/data.json")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	return emulator.Start(ep, func() *exec.Cmd { return exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port)) }, probe)
}

func stop() {
	mu.Lock()
	defer mu.Unlock()
	if server != nil {
		// Stop reaps it, or it would linger as a zombie once this binary
		// exits.
		server.Stop()
		server = nil
	}
}
