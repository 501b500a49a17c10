package samcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awsses "github.com/aws/aws-sdk-go-v2/service/ses"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"gopkg.in/yaml.v3"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/app/allparts"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/deadletter"
	"github.com/ekolek/identity/shared/httpapi"
	"github.com/ekolek/identity/shared/logging"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/notify/mototest"
	sesnotify "github.com/ekolek/identity/shared/notify/ses"
	snsnotify "github.com/ekolek/identity/shared/notify/sns"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/passkey/passkeytest"
	"github.com/ekolek/identity/shared/password"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
	"github.com/ekolek/identity/shared/throttle"
	"github.com/ekolek/identity/shared/totp"
)

// TestMain runs the tests once and stops the emulators this binary started.
// dynamotest.Main and mototest.Main each call m.Run and then stop their own
// emulator; neither exposes the stop on its own, and m.Run must run once
// (a second call runs every test again). So dynamotest.Main runs the tests
// and stops DynamoDB Local; moto_server, started with a parent-death signal
// (SIGKILL when this binary exits), goes with the process.
func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// recorder passes DynamoDB, SES and SNS calls through and notes the IAM
// actions they need. A transaction needs the action of each of its items; a
// Query on an index is granted on the index's ARN, noted as
// "dynamodb:Query@index".
type recorder struct {
	dynamo.API
	mu      sync.Mutex
	actions map[string]bool
	pks     map[string]bool // the partition keys written to
	wrong   []string        // calls the template's messaging grants would refuse
}

// written notes the partition key of an item a call writes (a grant's
// dynamodb:LeadingKeys condition holds it to some).
func (r *recorder) written(key map[string]types.AttributeValue) {
	if pk, ok := key["PK"].(*types.AttributeValueMemberS); ok {
		r.mu.Lock()
		r.pks[pk.Value] = true
		r.mu.Unlock()
	}
}

// takeKeys returns the partition keys written since the last call.
func (r *recorder) takeKeys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Collect(maps.Keys(r.pks))
	r.pks = map[string]bool{}
	return out
}

func (r *recorder) note(actions ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range actions {
		r.actions[a] = true
	}
}

func (r *recorder) noteDynamo(actions ...string) {
	for _, a := range actions {
		r.note("dynamodb:" + a)
	}
}

func (r *recorder) refuse(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.wrong = append(r.wrong, fmt.Sprintf(format, args...))
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for a := range r.actions {
		out = append(out, a)
	}
	r.actions = map[string]bool{}
	return out
}

func (r *recorder) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	r.noteDynamo("GetItem")
	return r.API.GetItem(ctx, in, o...)
}

func (r *recorder) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	r.noteDynamo("BatchGetItem")
	return r.API.BatchGetItem(ctx, in, o...)
}

func (r *recorder) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if in.IndexName != nil {
		r.noteDynamo("Query@index")
	} else {
		r.noteDynamo("Query")
	}
	return r.API.Query(ctx, in, o...)
}

func (r *recorder) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	r.noteDynamo("PutItem")
	r.written(in.Item)
	return r.API.PutItem(ctx, in, o...)
}

func (r *recorder) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	r.noteDynamo("UpdateItem")
	r.written(in.Key)
	return r.API.UpdateItem(ctx, in, o...)
}

func (r *recorder) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	r.noteDynamo("DeleteItem")
	r.written(in.Key)
	return r.API.DeleteItem(ctx, in, o...)
}

func (r *recorder) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	for _, it := range in.TransactItems {
		switch {
		case it.Put != nil:
			r.noteDynamo("PutItem")
			r.written(it.Put.Item)
		case it.Update != nil:
			r.noteDynamo("UpdateItem")
			r.written(it.Update.Key)
		case it.Delete != nil:
			r.noteDynamo("DeleteItem")
			r.written(it.Delete.Key)
		case it.ConditionCheck != nil:
			r.noteDynamo("ConditionCheckItem")
		}
	}
	return r.API.TransactWriteItems(ctx, in, o...)
}

func (r *recorder) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	r.noteDynamo("BatchWriteItem")
	return r.API.BatchWriteItem(ctx, in, o...)
}

// sesRecorder notes ses:SendEmail, and any email whose From is not the
// configured sender (the template grants SendEmail only with
// ses:FromAddress equal to EmailFrom).
type sesRecorder struct {
	sesnotify.SendEmailAPI
	rec  *recorder
	from string
}

func (s sesRecorder) SendEmail(ctx context.Context, in *awsses.SendEmailInput, o ...func(*awsses.Options)) (*awsses.SendEmailOutput, error) {
	s.rec.note("ses:SendEmail")
	if got := aws.ToString(in.Source); got != s.from {
		s.rec.refuse("ses:SendEmail from %q; the template allows only EmailFrom (%q)", got, s.from)
	}
	return s.SendEmailAPI.SendEmail(ctx, in, o...)
}

// snsRecorder notes sns:Publish, and any publish that is not a direct SMS
// (the template denies publishing to every SNS ARN).
type snsRecorder struct {
	snsnotify.PublishAPI
	rec *recorder
}

func (s snsRecorder) Publish(ctx context.Context, in *awssns.PublishInput, o ...func(*awssns.Options)) (*awssns.PublishOutput, error) {
	s.rec.note("sns:Publish")
	if in.PhoneNumber == nil || in.TopicArn != nil || in.TargetArn != nil {
		s.rec.refuse("sns:Publish to topic %q / target %q / phone %q; the template allows direct SMS only",
			aws.ToString(in.TopicArn), aws.ToString(in.TargetArn), aws.ToString(in.PhoneNumber))
	}
	return s.PublishAPI.Publish(ctx, in, o...)
}

// sqsRecorder notes sqs:SendMessage, and any message to a queue other than
// the dead-letter queue (the template grants SendMessage on it alone).
type sqsRecorder struct {
	deadletter.SendMessageAPI
	rec *recorder
	url string
}

func (s sqsRecorder) SendMessage(ctx context.Context, in *sqs.SendMessageInput, o ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	s.rec.note("sqs:SendMessage")
	if got := aws.ToString(in.QueueUrl); got != s.url {
		s.rec.refuse("sqs:SendMessage to %q; the template allows only the dead-letter queue", got)
	}
	return s.SendMessageAPI.SendMessage(ctx, in, o...)
}

// recorded is the services whose actions the test compares with the
// template; other services' grants (the signing key secret; the table's
// stream, which the event source mapping reads with the sender's role:
// TestSenderGrantsAreItsOwn) are not driven here.
var recorded = []string{"dynamodb:", "ses:", "sns:", "sqs:"}

// granted lists the DynamoDB, SES and SNS actions a function's policies
// allow, with index grants noted as "<action>@index". Deny statements take
// nothing away from the list: they narrow resources, which
// TestMessagingGrantsAreNarrow checks.
func granted(t *testing.T, tp *tmpl, id string) []string {
	var out []string
	walk(get(get(tp.resources[id], "Properties"), "Policies"), func(n *yaml.Node) {
		acts := scalars(get(n, "Action"))
		if len(acts) == 0 || scalar(get(n, "Effect")) == "Deny" {
			return
		}
		res := get(n, "Resource")
		if res != nil && res.Tag == "!GetAtt" && strings.HasSuffix(res.Value, ".StreamArn") {
			return // the event source mapping's reads, not the code's
		}
		onIndex := false
		walk(res, func(r *yaml.Node) { onIndex = onIndex || strings.Contains(r.Value, "/index/") })
		for _, a := range acts {
			if !slices.ContainsFunc(recorded, func(p string) bool { return strings.HasPrefix(a, p) }) {
				continue
			}
			if onIndex {
				a += "@index"
			}
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	})
	slices.Sort(out)
	return out
}

// statements returns the policy statements of a function that name action.
func statements(tp *tmpl, id, action string) []*yaml.Node {
	var out []*yaml.Node
	walk(get(get(tp.resources[id], "Properties"), "Policies"), func(n *yaml.Node) {
		if slices.Contains(scalars(get(n, "Action")), action) {
			out = append(out, n)
		}
	})
	return out
}

// TestMessagingGrantsAreNarrow: ses:SendEmail only on the sender identity
// and only from EmailFrom; sns:Publish, which IAM can only grant on "*" for
// SMS, never to a topic or endpoint.
func TestMessagingGrantsAreNarrow(t *testing.T) {
	tp := loadTemplate(t)
	for _, f := range app.Functions() {
		id := logicalID(f)
		if tp.resources[id] == nil {
			t.Errorf("function %q (httpapi.Table) has no resource %s in template.yaml: its messaging grants cannot be checked", f, id)
			continue
		}
		for _, st := range statements(tp, id, "ses:SendEmail") {
			if scalar(get(st, "Effect")) != "Allow" {
				continue
			}
			identity := false
			walk(get(st, "Resource"), func(r *yaml.Node) {
				identity = identity || strings.Contains(r.Value, ":ses:${AWS::Region}:${AWS::AccountId}:identity/${")
			})
			if !identity {
				t.Errorf("%s: %s grants ses:SendEmail beyond the sender's SES identity ARN", where(st), id)
			}
			if from := ref(get(get(get(st, "Condition"), "StringEquals"), "ses:FromAddress")); from != "EmailFrom" {
				t.Errorf("%s: %s grants ses:SendEmail without Condition StringEquals ses:FromAddress: !Ref EmailFrom", where(st), id)
			}
		}
		allowsSMS, deniesTopics := false, false
		for _, st := range statements(tp, id, "sns:Publish") {
			res := get(st, "Resource")
			switch scalar(get(st, "Effect")) {
			case "Allow":
				allowsSMS = true
				if scalar(res) != "*" {
					t.Errorf("%s: %s: SMS to a phone number has no resource ARN; grant sns:Publish on \"*\" and deny it on SNS ARNs", where(st), id)
				}
			case "Deny":
				walk(res, func(r *yaml.Node) { deniesTopics = deniesTopics || strings.HasSuffix(r.Value, ":sns:*:*:*") })
			}
		}
		if allowsSMS && !deniesTopics {
			t.Errorf("%s: %s allows sns:Publish on \"*\" without a Deny on arn:${AWS::Partition}:sns:*:*:* (topics, endpoints)", where(tp.resources[id]), id)
		}
	}
}

// codeIn finds the 6-digit code in an SMS ("... is 123456.") or an email
// body (the code stands alone in its own element: ">123456<").
var codeIn = regexp.MustCompile(`(?:^|[\s>])(\d{6})(?:[\s<.,]|$)`)

// Each function's template policy grants exactly the DynamoDB, SES and SNS
// actions its code paths make: none missing (AccessDenied in production)
// and none spare (least privilege). The paths are driven through each
// function's own handler against DynamoDB Local and, for email and SMS, the
// real SES and SNS adapters against moto, every branch that makes a
// distinct call included: the abuse limits (login lockout, per-address
// limits, SMS per number) up to and past their refusals, the admin realm
// (barangay scope, admin management with its invitation and the last
// super admin, my sessions, password change with its notice and its count
// toward the login lock, revocation by an admin, 403 denials), idle
// refreshes and expired sessions, and the security event trail each
// function writes and security-events reads. A missing grant there would
// not even fail a request: an event that cannot be stored is only logged.
func TestPoliciesMatchTheCallsEachFunctionMakes(t *testing.T) {
	const from = "noreply@ekolek.example.org"
	const smsCap = 5
	client := dynamotest.Client(t)
	rec := &recorder{API: client, actions: map[string]bool{}, pks: map[string]bool{}}
	table := dynamotest.NewStreamTable(t, client)
	st := dynamo.New(rec, table)
	mototest.VerifyIdentity(t, from)
	// The dead-letter queue, on moto's SQS.
	sqsClient := mototest.SQSClient(t)
	deadLetters := mototest.NewQueue(t, sqsClient)
	notifier := notify.Router{
		Email: sesnotify.New(sesRecorder{SendEmailAPI: mototest.SESClient(t), rec: rec, from: from}, from),
		SMS:   snsnotify.New(snsRecorder{PublishAPI: mototest.SNSClient(t), rec: rec}, snsnotify.Options{SenderID: "EKOLEK"}),
	}
	cfg, err := config.Load(func(k string) string {
		switch k {
		case "EKOLEK_DATA_DIR":
			return t.TempDir()
		case "EKOLEK_EMAIL_FROM":
			return from
		case "EKOLEK_SMS_DAILY_CAP":
			return strconv.Itoa(smsCap)
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	// The abuse limits, stated here so the counts below do not follow the
	// defaults. The main story runs from one address (mainIP) and stays
	// under each per-IP limit; the limit steps use addresses of their own.
	lim := throttle.Limits{
		LoginFailures: throttle.Limit{Max: 5, Window: 15 * time.Minute},
		LoginIP:       throttle.Limit{Max: 8, Window: 15 * time.Minute},
		CodeVerifyIP:  throttle.Limit{Max: 12, Window: 15 * time.Minute},
		ResetIP:       throttle.Limit{Max: 12, Window: time.Hour},
		RegisterIP:    throttle.Limit{Max: 5, Window: time.Hour},
		SMSPerNumber:  throttle.Limit{Max: 4, Window: 24 * time.Hour},
		PasskeyIP:     throttle.Limit{Max: 12, Window: 15 * time.Minute},
	}
	cfg.Limits = lim
	// The table has its stream on (the sender reads it), which can make
	// DynamoDB Local much slower per write (dynamo.TableDefinition): what
	// is checked here is the calls each function makes, not their deadline.
	cfg.RequestTimeout = time.Minute
	clk := clock.NewManual(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC))
	var logs bytes.Buffer // handlers run on the test's goroutine
	a, err := app.Open(context.Background(), cfg, logging.New(&logs, slog.LevelInfo), app.Options{
		Clock: clk, Store: st, Notifier: notifier, CodeRouteFloor: time.Millisecond, Parts: allparts.Parts(),
		DeadLetters: deadletter.NewQueue(sqsRecorder{SendMessageAPI: sqsClient, rec: rec, url: deadLetters}, deadLetters),
		// The least argon2id cost: what is checked here is the calls each
		// function makes, which the hash does not change.
		Hash: &password.Params{Memory: 8, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	handlers := map[string]http.Handler{}
	for _, f := range httpapi.Functions() {
		if handlers[f], err = a.Handler(f); err != nil {
			t.Fatal(err)
		}
	}
	used := map[string]map[string]bool{}
	usedKeys := map[string]map[string]bool{} // function -> partition keys written
	noteUse := func(fn string) {
		if used[fn] == nil {
			used[fn], usedKeys[fn] = map[string]bool{}, map[string]bool{}
		}
		for _, act := range rec.take() {
			used[fn][act] = true
		}
		for _, pk := range rec.takeKeys() {
			usedKeys[fn][pk] = true
		}
	}
	// Function sender, as deployed: the table's stream (DynamoDB Local's),
	// through the template's own filter, into its handler, after every
	// request, as the event source mapping would deliver it.
	snd, err := a.Sender()
	if err != nil {
		t.Fatal(err)
	}
	stream := dynamotest.NewStream(t, client, table)
	filter := loadTemplate(t).senderFilter(t)
	deliver := func(t *testing.T) {
		t.Helper()
		var batch events.DynamoDBEvent
		for _, r := range stream.Read(t) {
			if filter.passes(t, r) {
				batch.Records = append(batch.Records, r)
			}
		}
		if len(batch.Records) == 0 {
			return
		}
		rec.take()
		rec.takeKeys()
		res, err := snd.HandleStream(t.Context(), batch)
		if err != nil || len(res.BatchItemFailures) > 0 {
			t.Fatalf("the sender: %v, batch item failures %v; log:\n%s", err, res.BatchItemFailures, logs.String())
		}
		noteUse("sender")
	}
	cookies := map[string]*http.Cookie{}
	// Requests come from a client address (RemoteAddr, which the handlers
	// read as API Gateway's sourceIp) and each carries an X-Forwarded-For
	// naming another address every time: a limit keyed on that header
	// would never be reached.
	const mainIP = "192.0.2.1"
	spoofed := 0
	callFrom := func(t *testing.T, ip, fn, method, path, body string, want int) *httptest.ResponseRecorder {
		t.Helper()
		rec.take()
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.RemoteAddr = ip + ":49152"
		spoofed++
		r.Header.Set("X-Forwarded-For", fmt.Sprintf("198.18.%d.%d, %s", spoofed/250, spoofed%250+1, ip))
		r.Header.Set("Content-Type", "application/json")
		for _, c := range cookies {
			r.AddCookie(c)
		}
		if c := cookies["ekolek_csrftoken"]; c != nil {
			r.Header.Set("X-CSRF-Token", c.Value)
		}
		w := httptest.NewRecorder()
		handlers[fn].ServeHTTP(w, r)
		if w.Code != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, w.Code, w.Body, want)
		}
		for _, c := range w.Result().Cookies() {
			cookies[c.Name] = c
			if c.MaxAge < 0 {
				delete(cookies, c.Name)
			}
		}
		noteUse(fn)
		deliver(t)
		return w
	}
	call := func(t *testing.T, fn, method, path, body string, want int) *httptest.ResponseRecorder {
		t.Helper()
		return callFrom(t, mainIP, fn, method, path, body, want)
	}
	// refusedBy checks a 429: its error code and a Retry-After.
	refusedBy := func(t *testing.T, w *httptest.ResponseRecorder, code string) {
		t.Helper()
		if !strings.Contains(w.Body.String(), `"code":"`+code+`"`) || w.Header().Get("Retry-After") == "" {
			t.Fatalf("refusal: %s (Retry-After %q), want %s with Retry-After", w.Body, w.Header().Get("Retry-After"), code)
		}
	}
	// withCookies runs fn with only the named cookies of the jar presented
	// (none when no names), then puts the jar back as it was.
	withCookies := func(fn func(), names ...string) {
		saved := cookies
		cookies = map[string]*http.Cookie{}
		for _, n := range names {
			if c := saved[n]; c != nil {
				cookies[n] = c
			}
		}
		defer func() { cookies = saved }()
		fn()
	}

	// What moto accepted, by recipient (an email address or an E.164 number).
	sent := func(t *testing.T) map[string][]string {
		t.Helper()
		return mototest.SentTo(t, mototest.Endpoint(t))
	}
	// sends runs action and checks that it sent exactly want messages to
	// each recipient named, and nothing to anyone else.
	sends := func(t *testing.T, want map[string]int, action func()) {
		t.Helper()
		before := sent(t)
		action()
		after := sent(t)
		for to := range after {
			if got := len(after[to]) - len(before[to]); got != want[to] {
				t.Fatalf("%d messages to %s, want %d; last: %q", got, to, want[to], after[to][len(after[to])-1])
			}
		}
		for to, n := range want {
			if n > 0 && len(after[to]) == 0 {
				t.Fatalf("no message to %s, want %d", to, n)
			}
		}
	}
	// lastCode reads the code in the latest message to a recipient.
	lastCode := func(t *testing.T, to string) string {
		t.Helper()
		msgs := sent(t)[to]
		if len(msgs) == 0 {
			t.Fatalf("no message to %s", to)
		}
		m := codeIn.FindStringSubmatch(msgs[len(msgs)-1])
		if m == nil {
			t.Fatalf("no 6-digit code in the last message to %s: %q", to, msgs[len(msgs)-1])
		}
		return m[1]
	}
	wrong := func(c string) string {
		n, _ := strconv.Atoi(c)
		return fmt.Sprintf("%06d", (n+1)%1_000_000)
	}
	codeBody := func(id, code string) string { return fmt.Sprintf(`{"identifier":%q,"code":%q}`, id, code) }
	idBody := func(id string) string { return fmt.Sprintf(`{"identifier":%q}`, id) }
	resetBody := func(id, channel string) string { return fmt.Sprintf(`{"identifier":%q,"channel":%q}`, id, channel) }
	confirmBody := func(tok, pw string) string { return fmt.Sprintf(`{"reset_token":%q,"new_password":%q}`, tok, pw) }
	field := func(t *testing.T, w *httptest.ResponseRecorder, name string) string {
		t.Helper()
		parts := strings.SplitN(w.Body.String(), `"`+name+`":"`, 2)
		if len(parts) != 2 {
			t.Fatalf("no %s in %s", name, w.Body)
		}
		return strings.SplitN(parts[1], `"`, 2)[0]
	}

	const (
		verifyPath  = "/v1/resident/register/verify"
		resendPath  = "/v1/resident/register/resend"
		juanEmail   = "juan@iam.samcheck.example"
		juanPhone   = "+639171234567"
		anaEmail    = "ana@iam.samcheck.example"
		anaPhone    = "+639181234567"
		pedroEmail  = "pedro@iam.samcheck.example"
		pedroPhone  = "+639191234567"
		bossEmail   = "boss@iam.samcheck.example"
		mariaEmail  = "maria@iam.samcheck.example"
		mariaPhone  = "+639201234567"
		unknownUser = "nobody@iam.samcheck.example"
	)
	registration := func(first, email, phone string) string {
		return fmt.Sprintf(`{"first_name":%q,"last_name":"Dela Cruz","email":%q,"phone":%q,"barangay":"Landayan","password":"mango tricycle umbrella 42"}`, first, email, phone)
	}
	// manySessionsOf gives an account 120 sessions, more than one
	// transaction can delete; manySessions, a resident.
	manySessionsOf := func(t *testing.T, realm account.Realm, accountID, prefix string) {
		t.Helper()
		now := clk.Now()
		for i := range 120 {
			if err := st.CreateSession(t.Context(), session.Session{Realm: realm, AccountID: accountID, Key: fmt.Sprintf("%s%063x", prefix, i),
				CreatedAt: now, LastSeenAt: now, IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(2 * time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	manySessions := func(t *testing.T, accountID, prefix string) {
		t.Helper()
		manySessionsOf(t, account.Resident, accountID, prefix)
	}
	pw := "mango tricycle umbrella 42"
	adminPW := pw
	loginBody := func(id, pw string) string { return fmt.Sprintf(`{"identifier":%q,"password":%q}`, id, pw) }
	// Admins must have a second factor (EKOLEK_ADMIN_MFA=required, as
	// deployed): an admin's first login enrolls TOTP with the login's token
	// (function mfa); later logins pass a code (function login): a TOTP
	// code of a step not used yet, else a recovery code.
	type factorOf struct {
		secret string
		last   int64
		codes  []string
	}
	factors := map[string]*factorOf{}
	login := func(t *testing.T, realm, id, pw string) {
		t.Helper()
		w := call(t, "login", "POST", "/v1/"+realm+"/login", loginBody(id, pw), 200)
		var due struct {
			Enroll   bool   `json:"mfa_enrollment_required"`
			Required bool   `json:"mfa_required"`
			Token    string `json:"mfa_token"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &due); err != nil {
			t.Fatal(err)
		}
		now := clk.Now().Unix() / totp.Period
		switch {
		case due.Enroll:
			var en struct{ ID, Secret string }
			if err := json.Unmarshal(call(t, "mfa", "POST", "/v1/"+realm+"/mfa/totp", fmt.Sprintf(`{"mfa_token":%q}`, due.Token), 200).Body.Bytes(), &en); err != nil {
				t.Fatal(err)
			}
			code, _ := totp.Code(en.Secret, clk.Now())
			var done struct {
				Codes []string `json:"recovery_codes"`
			}
			body := fmt.Sprintf(`{"mfa_token":%q,"id":%q,"code":%q}`, due.Token, en.ID, code)
			if err := json.Unmarshal(call(t, "mfa", "POST", "/v1/"+realm+"/mfa/totp/confirm", body, 200).Body.Bytes(), &done); err != nil {
				t.Fatal(err)
			}
			factors[realm+"/"+id] = &factorOf{secret: en.Secret, last: now, codes: done.Codes}
		case due.Required:
			f := factors[realm+"/"+id]
			method, code := "recovery", ""
			for _, st := range []int64{now, now + 1} { // one step of skew
				if st > f.last && code == "" {
					method, f.last = "totp", st
					code, _ = totp.Code(f.secret, time.Unix(st*totp.Period, 0))
				}
			}
			if code == "" {
				code, f.codes = f.codes[0], f.codes[1:]
			}
			call(t, "login", "POST", "/v1/"+realm+"/login/mfa", fmt.Sprintf(`{"mfa_token":%q,"method":%q,"code":%q}`, due.Token, method, code), 200)
		}
	}
	bossAcct, err := a.Accounts.CreateAdmin(t.Context(), account.NewAdmin{Username: "boss", Email: bossEmail, FullName: "Boss", Role: "super_admin", Password: pw})
	if err != nil {
		t.Fatal(err)
	}

	// The story runs in steps, each a subtest, in order: they share the
	// store, the clock, the cookie jar and the accounts made so far, so once
	// a step has failed the steps after it skip, naming it. A step that
	// needs nothing from the steps before it (standalone) runs regardless.
	// The comparison with the template at the end always runs.
	var broken string // the first step that failed
	step := func(name string, fn func(t *testing.T)) {
		t.Helper()
		ok := t.Run(name, func(t *testing.T) {
			if broken != "" {
				t.Skipf("skipped: it builds on step %q, which failed", broken)
			}
			fn(t)
		})
		if !ok && broken == "" {
			broken = name
		}
	}
	standalone := func(name string, fn func(t *testing.T)) {
		t.Helper()
		if !t.Run(name, fn) && broken == "" {
			broken = name
		}
	}

	// What the steps hand on to later ones.
	var (
		rid, mariaID, tok string
		lockStart         time.Time
		adminJar          map[string]*http.Cookie
	)
	const loginPath = "/v1/resident/login"

	step("register", func(t *testing.T) {
		// register: the account, then a code to the email and one by SMS.
		var w *httptest.ResponseRecorder
		sends(t, map[string]int{juanEmail: 1, juanPhone: 1}, func() {
			w = call(t, "register", "POST", "/v1/resident/register", registration("Juan", juanEmail, "09171234567"), 201)
		})
		rid = field(t, w, "id")
		// The same registration again is a retry: that account, and within
		// the cooldown no new codes; someone else with the email is 409.
		sends(t, nil, func() {
			call(t, "register", "POST", "/v1/resident/register", registration("Juan", juanEmail, "09171234567"), 200)
			call(t, "register", "POST", "/v1/resident/register", registration("Juana", juanEmail, "09171234567"), 409)
		})
	})

	step("register-verify", func(t *testing.T) {
		// register-verify: wrong, right, used; the phone too; resend to a
		// verified contact and to nobody sends nothing.
		emailCode := lastCode(t, juanEmail)
		call(t, "register-verify", "POST", verifyPath, codeBody(juanEmail, wrong(emailCode)), 400)
		call(t, "register-verify", "POST", verifyPath, codeBody(juanEmail, emailCode), 204)
		call(t, "register-verify", "POST", verifyPath, codeBody(juanEmail, emailCode), 400)
		call(t, "register-verify", "POST", verifyPath, codeBody("0917 123 4567", lastCode(t, juanPhone)), 204)
		sends(t, nil, func() { call(t, "register-verify", "POST", resendPath, idBody(juanEmail), 202) })
		sends(t, nil, func() { call(t, "register-verify", "POST", resendPath, idBody(unknownUser), 202) })
	})

	step("a burned code, the resend cooldown and the hourly cap", func(t *testing.T) {
		// Five wrong tries burn a code; resend is held to the cooldown, then
		// sends a new code by email or SMS.
		sends(t, map[string]int{anaEmail: 1, anaPhone: 1}, func() {
			call(t, "register", "POST", "/v1/resident/register", registration("Ana", anaEmail, "09181234567"), 201)
		})
		anaCode := lastCode(t, anaEmail)
		for range 5 {
			call(t, "register-verify", "POST", verifyPath, codeBody(anaEmail, wrong(anaCode)), 400)
		}
		call(t, "register-verify", "POST", verifyPath, codeBody(anaEmail, anaCode), 400)
		sends(t, nil, func() { call(t, "register-verify", "POST", resendPath, idBody(anaEmail), 202) })
		clk.Advance(61 * time.Second)
		sends(t, map[string]int{anaEmail: 1}, func() { call(t, "register-verify", "POST", resendPath, idBody(anaEmail), 202) })
		// That was the account's third code this hour (code.MaxSendsPerHour):
		// the phone's new code waits for the next hour.
		clk.Advance(time.Hour)
		sends(t, map[string]int{anaPhone: 1}, func() { call(t, "register-verify", "POST", resendPath, idBody("09181234567"), 202) })
	})

	step("admin login and approval", func(t *testing.T) {
		login(t, "admin", "boss", pw)
		login(t, "admin", "boss", pw) // over a presented session: ends it
		call(t, "login", "POST", "/v1/admin/login", `{"identifier":"boss","password":"wrong wrong wrong"}`, 401)
		call(t, "admin-residents", "GET", "/v1/admin/residents?status=pending", "", 200)
		call(t, "admin-residents", "POST", "/v1/admin/residents/"+rid+"/approve", "", 200)
		clk.Advance(20 * time.Minute) // admin idle 30m: refresh due
		call(t, "admin-residents", "GET", "/v1/admin/residents", "", 200)
	})

	step("resident session refresh, logout, CSRF refusal and expiry", func(t *testing.T) {
		call(t, "session", "GET", "/v1/barangays", "", 200) // configuration: no calls
		login(t, "resident", juanEmail, pw)
		call(t, "session", "GET", "/v1/resident/session", "", 200)
		clk.Advance(61 * time.Minute) // resident idle 2h: refresh due
		call(t, "session", "GET", "/v1/resident/session", "", 200)
		call(t, "logout", "POST", "/v1/resident/logout", "", 204)
		// A made-up session cookie without the CSRF header: 403, and its
		// csrf_failed event is counted per address and minute (a counter
		// write) so that such requests store one event a minute.
		withCookies(func() {
			cookies["ekolek_session"] = &http.Cookie{Name: "ekolek_session", Value: "made.up.cookie"}
			call(t, "logout", "POST", "/v1/resident/logout", "", 403)
		})
		login(t, "resident", juanEmail, pw)
		clk.Advance(3 * time.Hour) // past idle: the item is deleted on read
		call(t, "session", "GET", "/v1/resident/session", "", 401)
	})

	step("login lockout", func(t *testing.T) {
		// Login lockout: LoginFailures.Max wrong passwords for one identifier,
		// from as many addresses (the lock is the identifier's), lock it; the
		// right password is refused too, before any hash. The same identifier
		// in the admin realm is not locked (an unknown admin: 401). A pending
		// account's right password is refused (403), not counted. Once the lock
		// has run out the right password logs in (and clears the count).
		lockStart = clk.Now()
		for i := range lim.LoginFailures.Max {
			callFrom(t, fmt.Sprintf("203.0.113.%d", 10+i), "login", "POST", loginPath, loginBody(juanEmail, "wrong tricycle umbrella 42"), 401)
		}
		refusedBy(t, callFrom(t, "203.0.113.20", "login", "POST", loginPath, loginBody(juanEmail, pw), 429), "too_many_attempts")
		call(t, "login", "POST", loginPath, loginBody(anaEmail, pw), 403)
		call(t, "login", "POST", "/v1/admin/login", loginBody(juanEmail, pw), 401)
	})

	step("failed logins per address", func(t *testing.T) {
		// Failed logins per address: LoginIP.Max failures from one address,
		// each for another identifier (none near a lock of its own), refuse
		// its next login, right password or not.
		const busyIP = "198.51.100.66"
		for i := range lim.LoginIP.Max {
			callFrom(t, busyIP, "login", "POST", loginPath, loginBody(fmt.Sprintf("guess%d@iam.samcheck.example", i), pw), 401)
		}
		refusedBy(t, callFrom(t, busyIP, "login", "POST", loginPath, loginBody(juanEmail, pw), 429), "too_many_attempts")
		clk.Advance(lim.LoginFailures.Window)
		login(t, "resident", juanEmail, pw)
		call(t, "logout", "POST", "/v1/resident/logout", "", 204)
	})

	standalone("per-address limits", func(t *testing.T) {
		// The other per-address limits, each from an address of its own: the
		// limit's worth of requests pass (whatever they answer), the next is
		// refused with rate_limited before any work. Nothing is sent.
		limited := func(t *testing.T, ip string, l throttle.Limit, fn, path string, body func(i int) string, want int) {
			t.Helper()
			for i := range l.Max {
				callFrom(t, ip, fn, "POST", path, body(i), want)
			}
			refusedBy(t, callFrom(t, ip, fn, "POST", path, body(l.Max), 429), "rate_limited")
		}
		nobody := func(i int) string { return fmt.Sprintf("nobody%d@iam.samcheck.example", i) }
		sends(t, nil, func() {
			limited(t, "198.51.100.71", lim.RegisterIP, "register", "/v1/resident/register",
				func(int) string { return `{"first_name":"Spam"}` }, 400)
			limited(t, "198.51.100.72", lim.ResetIP, "reset-request", "/v1/resident/password-reset",
				func(i int) string { return resetBody(nobody(i), "email") }, 202)
			limited(t, "198.51.100.73", lim.ResetIP, "register-verify", resendPath,
				func(i int) string { return idBody(nobody(i)) }, 202)
			limited(t, "198.51.100.74", lim.CodeVerifyIP, "register-verify", verifyPath,
				func(int) string { return codeBody(unknownUser, "000000") }, 400)
			limited(t, "198.51.100.75", lim.CodeVerifyIP, "reset-verify", "/v1/admin/password-reset/verify",
				func(int) string { return codeBody("nobody", "000000") }, 400)
		})
	})

	step("reset-request", func(t *testing.T) {
		// reset-request: a verified email gets a code; an unverified phone, an
		// unknown identifier and an admin asking for SMS get nothing (202 all
		// the same); a verified phone gets an SMS once the cooldown has passed.
		sends(t, map[string]int{juanEmail: 1}, func() {
			call(t, "reset-request", "POST", "/v1/resident/password-reset", resetBody(juanEmail, "email"), 202)
		})
		sends(t, nil, func() {
			call(t, "reset-request", "POST", "/v1/resident/password-reset", resetBody("09181234567", "sms"), 202)
		})
		sends(t, nil, func() {
			call(t, "reset-request", "POST", "/v1/resident/password-reset", resetBody(unknownUser, "email"), 202)
		})
		sends(t, nil, func() { call(t, "reset-request", "POST", "/v1/admin/password-reset", resetBody("boss", "sms"), 202) })
		clk.Advance(61 * time.Second)
		sends(t, map[string]int{juanPhone: 1}, func() {
			call(t, "reset-request", "POST", "/v1/resident/password-reset", resetBody("639171234567", "sms"), 202)
		})
	})

	step("reset-verify", func(t *testing.T) {
		// reset-verify: wrong, then right (the SMS code replaced the email one).
		resetCode := lastCode(t, juanPhone)
		call(t, "reset-verify", "POST", "/v1/resident/password-reset/verify", codeBody(juanEmail, wrong(resetCode)), 400)
		w := call(t, "reset-verify", "POST", "/v1/resident/password-reset/verify", codeBody(juanEmail, resetCode), 200)
		tok = field(t, w, "reset_token")
	})

	step("reset-confirm", func(t *testing.T) {
		// reset-confirm with the browser's own session presented: a weak
		// password is refused; the reset ends the account's other session, keeps
		// this one and notifies both verified contacts; the token works once.
		login(t, "resident", juanEmail, pw)
		delete(cookies, "ekolek_session") // another browser's session, to be ended
		login(t, "resident", juanEmail, pw)
		call(t, "reset-confirm", "POST", "/v1/resident/password-reset/confirm", confirmBody(tok, "password"), 400)
		pw = "bamboo jeepney lantern 77"
		sends(t, map[string]int{juanEmail: 1, juanPhone: 1}, func() {
			call(t, "reset-confirm", "POST", "/v1/resident/password-reset/confirm", confirmBody(tok, pw), 204)
		})
		sends(t, nil, func() {
			call(t, "reset-confirm", "POST", "/v1/resident/password-reset/confirm", confirmBody(tok, "kalabaw sampaguita 1898"), 400)
		})
		call(t, "session", "GET", "/v1/resident/session", "", 200)
	})

	step("admin password reset", func(t *testing.T) {
		// An admin: five wrong tries burn the reset code; a new one (after the
		// cooldown) is verified and confirmed over the admin's own cookie.
		sends(t, map[string]int{bossEmail: 1}, func() {
			call(t, "reset-request", "POST", "/v1/admin/password-reset", resetBody("boss", "email"), 202)
		})
		bossCode := lastCode(t, bossEmail)
		for range 5 {
			call(t, "reset-verify", "POST", "/v1/admin/password-reset/verify", codeBody("boss", wrong(bossCode)), 400)
		}
		call(t, "reset-verify", "POST", "/v1/admin/password-reset/verify", codeBody("boss", bossCode), 400)
		clk.Advance(61 * time.Second)
		sends(t, map[string]int{bossEmail: 1}, func() {
			call(t, "reset-request", "POST", "/v1/admin/password-reset", resetBody(bossEmail, "email"), 202)
		})
		w := call(t, "reset-verify", "POST", "/v1/admin/password-reset/verify", codeBody(bossEmail, lastCode(t, bossEmail)), 200)
		adminPW = "cathedral mangrove kettle 19"
		sends(t, map[string]int{bossEmail: 1}, func() {
			call(t, "reset-confirm", "POST", "/v1/admin/password-reset/confirm", confirmBody(field(t, w, "reset_token"), adminPW), 204)
		})
	})

	step("daily SMS cap", func(t *testing.T) {
		// The daily SMS cap: every SMS so far (2 registrations, a resend, a
		// reset code, a password notice) spent it. Each function that sends SMS
		// now meets the refusal: the code is issued, the SMS is not sent.
		capped := func() int { return strings.Count(logs.String(), code.ErrSMSCapReached.Error()) }
		cappedBefore := capped()
		clk.Advance(61 * time.Second)
		sends(t, nil, func() {
			call(t, "reset-request", "POST", "/v1/resident/password-reset", resetBody(juanPhone, "sms"), 202)
		})
		sends(t, map[string]int{pedroEmail: 1}, func() {
			call(t, "register", "POST", "/v1/resident/register", registration("Pedro", pedroEmail, "09191234567"), 201)
		})
		clk.Advance(61 * time.Second)
		sends(t, nil, func() { call(t, "register-verify", "POST", resendPath, idBody(pedroPhone), 202) })
		clk.Advance(time.Hour) // juan's hourly reset sends are spent too
		sends(t, map[string]int{juanEmail: 1}, func() {
			call(t, "reset-request", "POST", "/v1/resident/password-reset", resetBody(juanEmail, "email"), 202)
		})
		w := call(t, "reset-verify", "POST", "/v1/resident/password-reset/verify", codeBody(juanEmail, lastCode(t, juanEmail)), 200)
		// More sessions than one transaction holds: the reset deletes the
		// surplus in batches first.
		manySessions(t, rid, "a")
		pw = "coconut harbour violin 63"
		withCookies(func() { // no session presented: every session of the account ends
			sends(t, map[string]int{juanEmail: 1}, func() { // the SMS notice is held by the cap
				call(t, "reset-confirm", "POST", "/v1/resident/password-reset/confirm", confirmBody(field(t, w, "reset_token"), pw), 204)
			})
		})
		delete(cookies, "ekolek_session")
		if n := capped() - cappedBefore; n != 4 {
			t.Fatalf("%d SMS held by the daily cap, want 4 (reset code, registration, resend, password notice); log:\n%s", n, logs.String())
		}
		if left, err := st.ListSessions(t.Context(), account.Resident, rid); err != nil || len(left) > 0 {
			t.Fatalf("after the reset %d sessions are left (%v), want none", len(left), err)
		}
	})

	step("SMS per number", func(t *testing.T) {
		// SMS per number: juan's number has had three SMS in its 24 hours
		// (registration, reset code, password notice; the two the daily cap
		// held were given back). Past midnight UTC the daily cap starts
		// over: another reset code by SMS goes out, and the next (a minute
		// later) is refused by the per-number limit (logged; 202 all the
		// same), while a new resident's number gets its code.
		var w *httptest.ResponseRecorder
		perNumber := func() int { return strings.Count(logs.String(), "throttle: sms_number refused") }
		clk.Advance(clk.Now().Truncate(24 * time.Hour).Add(25 * time.Hour).Sub(clk.Now()))
		for range lim.SMSPerNumber.Max - 3 {
			sends(t, map[string]int{juanPhone: 1}, func() {
				call(t, "reset-request", "POST", "/v1/resident/password-reset", resetBody(juanPhone, "sms"), 202)
			})
			clk.Advance(61 * time.Second)
		}
		refusedBefore := perNumber()
		sends(t, nil, func() {
			call(t, "reset-request", "POST", "/v1/resident/password-reset", resetBody(juanPhone, "sms"), 202)
		})
		if n := perNumber() - refusedBefore; n != 1 {
			t.Fatalf("%d SMS refused by the per-number limit, want 1; log:\n%s", n, logs.String())
		}
		sends(t, map[string]int{mariaEmail: 1, mariaPhone: 1}, func() {
			w = call(t, "register", "POST", "/v1/resident/register", registration("Maria", mariaEmail, "09201234567"), 201)
		})
		mariaID = field(t, w, "id")
		call(t, "register-verify", "POST", verifyPath, codeBody(mariaEmail, lastCode(t, mariaEmail)), 204)
		call(t, "register-verify", "POST", verifyPath, codeBody("09201234567", lastCode(t, mariaPhone)), 204)
	})

	step("suspension ends more sessions than a transaction holds", func(t *testing.T) {
		// A resident with more sessions than one transaction holds: suspension
		// deletes the extra ones in batches first.
		manySessions(t, rid, "b")
		login(t, "admin", "boss", adminPW)
		adminJar = maps.Clone(cookies)
		w := call(t, "admin-residents", "POST", "/v1/admin/residents/"+rid+"/suspend", "", 200)
		if !strings.Contains(w.Body.String(), `"sessions_ended":120`) {
			t.Fatalf("suspend: %s", w.Body)
		}
	})

	// The security event listing, for the steps that read it.
	type event struct {
		ID         string `json:"id"`
		Type       string `json:"type"`
		Realm      string `json:"realm"`
		AccountID  string `json:"account_id"`
		Identifier string `json:"identifier"`
		Time       string `json:"time"`
	}
	type listing struct {
		Events     []event `json:"events"`
		NextCursor string  `json:"next_cursor"`
	}
	secrets := []string{"tricycle umbrella", "jeepney lantern", "harbour violin", "mangrove kettle", "000000",
		juanEmail, anaEmail, bossEmail, mariaEmail, juanPhone, anaPhone, mariaPhone, "9171234567", "9201234567"}
	list := func(t *testing.T, query string) listing {
		t.Helper()
		w := call(t, "security-events", "GET", "/v1/admin/security-events?"+query, "", 200)
		for _, s := range secrets {
			if strings.Contains(w.Body.String(), s) {
				t.Fatalf("security events (%s) show %q: %s", query, s, w.Body)
			}
		}
		var l listing
		if err := json.Unmarshal(w.Body.Bytes(), &l); err != nil {
			t.Fatalf("%s: %v", w.Body, err)
		}
		var prev time.Time
		for i, e := range l.Events {
			at, err := time.Parse(time.RFC3339Nano, e.Time)
			if err != nil || i > 0 && at.After(prev) {
				t.Fatalf("security events (%s) not newest first at %d: %s", query, i, w.Body)
			}
			prev = at
		}
		return l
	}
	ofType := func(t *testing.T, l listing, typ, realm string, atLeast int) {
		t.Helper()
		for _, e := range l.Events {
			if e.Type != typ || realm != "" && e.Realm != realm {
				t.Fatalf("asked for %s %s events, got %+v", realm, typ, e)
			}
		}
		if len(l.Events) < atLeast {
			t.Fatalf("%d %s %s events, want at least %d", len(l.Events), realm, typ, atLeast)
		}
	}
	// pages reads two pages of size 2 and checks they do not overlap.
	pages := func(t *testing.T, query string) {
		t.Helper()
		first := list(t, query+"&limit=2")
		if len(first.Events) != 2 || first.NextCursor == "" {
			t.Fatalf("%s: first page of %d, cursor %q", query, len(first.Events), first.NextCursor)
		}
		second := list(t, query+"&limit=2&cursor="+first.NextCursor)
		if len(second.Events) == 0 {
			t.Fatalf("%s: empty second page", query)
		}
		for _, e := range second.Events {
			for _, f := range first.Events {
				if e.ID == f.ID {
					t.Fatalf("%s: event %s on both pages", query, e.ID)
				}
			}
		}
	}

	step("security-events", func(t *testing.T) {
		// security-events, from another browser of the super_admin's: by time
		// (GSI1) with and without type and realm, by account (the table), a
		// time range, cursor pages; refused without a session (401) and to an
		// admin of another role (403). No listing shows a password, a code, or
		// an unmasked email or phone.
		cookies = map[string]*http.Cookie{}
		login(t, "admin", "boss", adminPW)
		ofType(t, list(t, "type=login_failed&realm=resident"), "login_failed", "resident", lim.LoginFailures.Max+lim.LoginIP.Max+1)
		locked := list(t, "type=login_locked")
		ofType(t, locked, "login_locked", "resident", 1)
		if locked.Events[0].Identifier == "" {
			t.Fatalf("login_locked without its (masked) identifier: %+v", locked.Events[0])
		}
		ofType(t, list(t, "type=rate_limited"), "rate_limited", "", 7)
		pages(t, "type=rate_limited")
		pages(t, "realm=admin")
		byAccount := list(t, "realm=resident&account="+rid)
		for _, e := range byAccount.Events {
			if e.AccountID != rid {
				t.Fatalf("events of %s include %+v", rid, e)
			}
		}
		if len(byAccount.Events) < 5 {
			t.Fatalf("%d events of %s, want at least 5 (registered, verified, logins, resets, suspended)", len(byAccount.Events), rid)
		}
		pages(t, "realm=resident&account="+rid)
		window := list(t, "since="+lockStart.Format(time.RFC3339)+"&until="+lockStart.Add(time.Minute).Format(time.RFC3339)+"&limit=200")
		for _, e := range window.Events {
			if at, _ := time.Parse(time.RFC3339Nano, e.Time); at.Before(lockStart) || !at.Before(lockStart.Add(time.Minute)) {
				t.Fatalf("event at %s outside [%s, +1m)", e.Time, lockStart)
			}
		}
		if !slices.ContainsFunc(window.Events, func(e event) bool { return e.Type == "login_locked" }) {
			t.Fatalf("no login_locked between %s and a minute later", lockStart)
		}
		withCookies(func() { call(t, "security-events", "GET", "/v1/admin/security-events", "", 401) })
		if _, err := a.Accounts.CreateAdmin(t.Context(), account.NewAdmin{Username: "rewards", Email: "rewards@iam.samcheck.example", FullName: "Rewards", Role: "content_rewards_manager", Password: pw}); err != nil {
			t.Fatal(err)
		}
		withCookies(func() {
			login(t, "admin", "rewards", pw)
			call(t, "security-events", "GET", "/v1/admin/security-events", "", 403)
		})
		clk.Advance(20 * time.Minute) // admin idle 30m: refresh due
		ofType(t, list(t, "type=account_status_changed&realm=resident"), "account_status_changed", "resident", 2)
	})

	step("expired admin sessions", func(t *testing.T) {
		// Both admin sessions expired: each is deleted on read.
		clk.Advance(31 * time.Minute)
		call(t, "security-events", "GET", "/v1/admin/security-events", "", 401)
		cookies = adminJar
		call(t, "admin-residents", "GET", "/v1/admin/residents", "", 401)
	})

	// ---------------------------------------------------------------- admin realm
	//
	// Roles and barangay scope, admin management with an invitation, my
	// sessions in both realms, password change with its notice and its
	// count toward the login lock, and an admin's revocation of every
	// session of an account. Each browser is a cookie jar of its own.
	browse := func(jar map[string]*http.Cookie, fn func()) {
		saved := cookies
		cookies = jar
		defer func() { cookies = saved }()
		fn()
	}
	jar := func(t *testing.T, realm, id, pw string) map[string]*http.Cookie {
		t.Helper()
		j := map[string]*http.Cookie{}
		browse(j, func() { login(t, realm, id, pw) })
		return j
	}
	has := func(t *testing.T, w *httptest.ResponseRecorder, parts ...string) {
		t.Helper()
		for _, p := range parts {
			if !strings.Contains(w.Body.String(), p) {
				t.Fatalf("%s: no %s", w.Body, p)
			}
		}
	}
	lacks := func(t *testing.T, w *httptest.ResponseRecorder, parts ...string) {
		t.Helper()
		for _, p := range parts {
			if strings.Contains(w.Body.String(), p) {
				t.Fatalf("%s: holds %s", w.Body, p)
			}
		}
	}
	// listSessions is GET /v1/{realm}/sessions: the handles, and the current one.
	listSessions := func(t *testing.T, realm string) (current string, ids []string) {
		t.Helper()
		w := call(t, "sessions", "GET", "/v1/"+realm+"/sessions", "", 200)
		var l struct {
			Sessions []struct {
				ID      string `json:"id"`
				Current bool   `json:"current"`
			} `json:"sessions"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &l); err != nil {
			t.Fatalf("%s: %v", w.Body, err)
		}
		for _, s := range l.Sessions {
			ids = append(ids, s.ID)
			if s.Current {
				current = s.ID
			}
		}
		if current == "" {
			t.Fatalf("no current session in %s", w.Body)
		}
		return current, ids
	}
	const (
		mariaPW  = "mango tricycle umbrella 42"
		opsEmail = "ops@iam.samcheck.example"
		opsPW    = "kalabasa sitaw talong 2026"
	)
	var (
		rosaID, opsID         string
		boss, ops             map[string]*http.Cookie
		phone, laptop, tablet map[string]*http.Cookie
	)
	// The password change and the lock that follows it.
	changeBody := func(cur, next string) string {
		return fmt.Sprintf(`{"current_password":%q,"new_password":%q}`, cur, next)
	}
	const changePath = "/v1/resident/password"
	mariaPW2, mariaPW3 := "narra capiz carabao 2031", "sinigang adobo lechon 88"

	step("approval with a reason and a resident on three devices", func(t *testing.T) {
		// Maria (who verified both contacts: the password notice goes to
		// verified contacts only) is approved; Rosa registers in another barangay.
		w := call(t, "register", "POST", "/v1/resident/register", `{"first_name":"Rosa","last_name":"Santos","email":"rosa@iam.samcheck.example","phone":"09221234567","barangay":"San Roque","password":"sampaguita jeepney harbor 77"}`, 201)
		rosaID = field(t, w, "id")
		boss = jar(t, "admin", "boss", adminPW)
		browse(boss, func() {
			call(t, "admin-residents", "POST", "/v1/admin/residents/"+mariaID+"/approve", `{"reason":"documents checked"}`, 200)
		})
		// Maria on three devices.
		phone, laptop, tablet = jar(t, "resident", mariaEmail, mariaPW), jar(t, "resident", mariaEmail, mariaPW), jar(t, "resident", mariaEmail, mariaPW)
	})

	step("admin management and the invitation", func(t *testing.T) {
		// admin-admins, as the super admin: list (pages of the active admins),
		// create an operations manager (an invitation by email; the response
		// holds no code), a taken username (409).
		browse(boss, func() {
			w := call(t, "admin-admins", "GET", "/v1/admin/admins?status=active&limit=1", "", 200)
			has(t, w, `"admins":[{`)
			next := field(t, w, "next_cursor")
			call(t, "admin-admins", "GET", "/v1/admin/admins?status=active&limit=1&cursor="+next, "", 200)
			sends(t, map[string]int{opsEmail: 1}, func() {
				w = call(t, "admin-admins", "POST", "/v1/admin/admins", `{"username":"ops","email":"`+opsEmail+`","full_name":"Olivia Ops","role":"operations_manager","barangays":["Landayan"]}`, 201)
			})
			has(t, w, `"invitation_sent":true`, `"role":"operations_manager"`)
			lacks(t, w, lastCode(t, opsEmail))
			opsID = field(t, w, "id")
			sends(t, nil, func() {
				call(t, "admin-admins", "POST", "/v1/admin/admins", `{"username":"ops","email":"other@iam.samcheck.example","full_name":"Other","role":"security_analyst"}`, 409)
			})
		})
		// The invitation: no password until it is set through reset verify and
		// confirm with the emailed code; then the new admin logs in.
		withCookies(func() {
			call(t, "login", "POST", "/v1/admin/login", loginBody("ops", opsPW), 401)
			w := call(t, "reset-verify", "POST", "/v1/admin/password-reset/verify", codeBody("ops", lastCode(t, opsEmail)), 200)
			sends(t, map[string]int{opsEmail: 1}, func() {
				call(t, "reset-confirm", "POST", "/v1/admin/password-reset/confirm", confirmBody(field(t, w, "reset_token"), opsPW), 204)
			})
		})
		ops = jar(t, "admin", "ops", opsPW)
	})

	step("the operations manager scope", func(t *testing.T) {
		// The operations manager sees the residents of Landayan only: the
		// list (with and without filters), the detail (verified flags, status
		// history, active sessions); a San Roque resident is not there (404 for
		// the detail and every status change, an empty list when asked for by
		// barangay). Admin management and revocation are not the role's: 403,
		// each an access_denied event.
		deniedBefore := 0
		browse(boss, func() { deniedBefore = len(list(t, "type=access_denied&limit=200").Events) })
		browse(ops, func() {
			w := call(t, "admin-residents", "GET", "/v1/admin/residents?limit=200", "", 200)
			has(t, w, mariaID)
			lacks(t, w, rosaID)
			w = call(t, "admin-residents", "GET", "/v1/admin/residents?barangay=San%20Roque", "", 200)
			has(t, w, `"residents":[]`)
			w = call(t, "admin-residents", "GET", "/v1/admin/residents?status=approved&barangay=Landayan&q=maria&limit=10", "", 200)
			has(t, w, mariaID)
			w = call(t, "admin-residents", "GET", "/v1/admin/residents?q=0920", "", 200)
			has(t, w, mariaID)
			w = call(t, "admin-residents", "GET", "/v1/admin/residents/"+mariaID, "", 200)
			has(t, w, `"phone_verified":true`, `"to":"approved"`, `"reason":"documents checked"`, `"by":"`+bossAcct.ID+`"`, `"active_sessions":3`)
			call(t, "admin-residents", "GET", "/v1/admin/residents/"+rosaID, "", 404)
			for _, act := range []string{"approve", "reject", "suspend", "reactivate"} {
				call(t, "admin-residents", "POST", "/v1/admin/residents/"+rosaID+"/"+act, "", 404)
			}
			call(t, "admin-admins", "GET", "/v1/admin/admins", "", 403)
			call(t, "admin-admins", "PATCH", "/v1/admin/admins/"+bossAcct.ID, `{"full_name":"Not Boss"}`, 403)
			call(t, "admin-sessions", "DELETE", "/v1/admin/accounts/resident/"+mariaID+"/sessions", "", 403)
		})
		browse(boss, func() {
			has(t, call(t, "admin-residents", "GET", "/v1/admin/residents/"+rosaID, "", 200), `"status":"pending"`, `"active_sessions":0`)
			denied := list(t, "type=access_denied&limit=200")
			ofType(t, denied, "access_denied", "admin", deniedBefore+3)
			if len(denied.Events) != deniedBefore+3 {
				t.Fatalf("%d access_denied events, want %d", len(denied.Events), deniedBefore+3)
			}
		})
		// A resident's cookie is no admin login.
		browse(phone, func() { call(t, "admin-admins", "GET", "/v1/admin/admins", "", 401) })
	})

	step("admin changes and the last super admin", func(t *testing.T) {
		// PATCH: barangays and name; suspension ends every session at once
		// (more than one transaction holds: the surplus goes in batches first);
		// the last active super admin can be neither demoted nor suspended.
		manySessionsOf(t, account.Admin, opsID, "c")
		browse(boss, func() {
			has(t, call(t, "admin-admins", "PATCH", "/v1/admin/admins/"+opsID, `{"barangays":["Landayan","San Roque"],"full_name":"Olivia M. Ops"}`, 200),
				`"sessions_ended":0`, `"San Roque"`)
			has(t, call(t, "admin-admins", "PATCH", "/v1/admin/admins/"+opsID, `{"status":"suspended","reason":"left the office"}`, 200),
				`"sessions_ended":121`, `"status":"suspended"`)
			call(t, "admin-admins", "PATCH", "/v1/admin/admins/"+bossAcct.ID, `{"role":"security_analyst"}`, 409)
			call(t, "admin-admins", "PATCH", "/v1/admin/admins/"+bossAcct.ID, `{"status":"suspended"}`, 409)
			call(t, "admin-admins", "PATCH", "/v1/admin/admins/"+opsID, `{"role":"god"}`, 400)
		})
		browse(ops, func() { call(t, "admin-residents", "GET", "/v1/admin/residents", "", 401) })
		withCookies(func() { call(t, "login", "POST", "/v1/admin/login", loginBody("ops", opsPW), 403) })
	})

	step("my sessions", func(t *testing.T) {
		// My sessions. The admin's own list; a second admin browser ends its
		// own current session (a logout). Maria's phone lists her three, cannot
		// end someone else's (404), ends the laptop's, then every other one.
		var bossHandle string
		browse(boss, func() { bossHandle, _ = listSessions(t, "admin") })
		browse(jar(t, "admin", "boss", adminPW), func() {
			cur, ids := listSessions(t, "admin")
			if len(ids) != 2 || cur == bossHandle {
				t.Fatalf("boss's second browser sees %v (current %s)", ids, cur)
			}
			call(t, "sessions", "DELETE", "/v1/admin/sessions/"+cur, "", 204)
			if _, ok := cookies["ekolek_admin_session"]; ok {
				t.Fatal("ending the current session left its cookie")
			}
		})
		var laptopHandle string
		browse(laptop, func() { laptopHandle, _ = listSessions(t, "resident") })
		browse(phone, func() {
			cur, ids := listSessions(t, "resident")
			if len(ids) != 3 || cur == laptopHandle || !slices.Contains(ids, laptopHandle) {
				t.Fatalf("maria's phone sees %v (current %s, laptop %s)", ids, cur, laptopHandle)
			}
			call(t, "sessions", "DELETE", "/v1/resident/sessions/"+bossHandle, "", 404)
			call(t, "sessions", "DELETE", "/v1/resident/sessions/"+laptopHandle, "", 204)
			// Ending the others is an account write: more sessions than one
			// transaction holds go in batches first.
			manySessions(t, mariaID, "d")
			has(t, call(t, "sessions", "DELETE", "/v1/resident/sessions", "", 200), `"revoked":121`)
			if _, ids := listSessions(t, "resident"); len(ids) != 1 {
				t.Fatalf("after ending the others: %v", ids)
			}
		})
		for _, j := range []map[string]*http.Cookie{laptop, tablet} {
			browse(j, func() { call(t, "session", "GET", "/v1/resident/session", "", 401) })
		}
		browse(boss, func() { call(t, "session", "GET", "/v1/admin/session", "", 200) })
	})

	step("password change", func(t *testing.T) {
		// Password change: a wrong current password (400, counted), a weak new
		// one (400); the right one keeps this session, ends the others and
		// sends the notice to both verified contacts; again with more sessions
		// than one transaction holds.
		other := jar(t, "resident", mariaEmail, mariaPW)
		browse(phone, func() {
			sends(t, nil, func() {
				has(t, call(t, "password-change", "POST", changePath, changeBody("not my password at all", mariaPW2), 400), `"invalid_credentials"`)
				call(t, "password-change", "POST", changePath, changeBody(mariaPW, "password"), 400)
			})
			sends(t, map[string]int{mariaEmail: 1, mariaPhone: 1}, func() {
				call(t, "password-change", "POST", changePath, changeBody(mariaPW, mariaPW2), 204)
			})
			call(t, "session", "GET", "/v1/resident/session", "", 200)
		})
		browse(other, func() { call(t, "session", "GET", "/v1/resident/session", "", 401) })
		manySessions(t, mariaID, "d")
		browse(phone, func() {
			sends(t, map[string]int{mariaEmail: 1, mariaPhone: 1}, func() {
				call(t, "password-change", "POST", changePath, changeBody(mariaPW2, mariaPW3), 204)
			})
		})
		if left, err := st.ListSessions(t.Context(), account.Resident, mariaID); err != nil || len(left) != 1 {
			t.Fatalf("after the change %d sessions are left (%v), want the changing one", len(left), err)
		}
	})

	step("wrong current passwords lock the account", func(t *testing.T) {
		// Wrong current passwords count toward the login lock, from any
		// address: LoginFailures.Max of them lock the account's identifiers;
		// the next change, right password or not, and a login are refused
		// before any hash.
		browse(phone, func() {
			sends(t, nil, func() {
				for i := range lim.LoginFailures.Max {
					callFrom(t, fmt.Sprintf("203.0.113.%d", 40+i), "password-change", "POST", changePath, changeBody("still not my password", mariaPW), 400)
				}
				refusedBy(t, callFrom(t, "203.0.113.49", "password-change", "POST", changePath, changeBody(mariaPW3, mariaPW), 429), "too_many_attempts")
			})
		})
		withCookies(func() {
			refusedBy(t, callFrom(t, "203.0.113.49", "login", "POST", "/v1/resident/login", loginBody("09201234567", mariaPW3), 429), "too_many_attempts")
		})
		browse(boss, func() {
			ofType(t, list(t, "type=login_locked&realm=resident&account="+mariaID), "login_locked", "resident", 1)
			ofType(t, list(t, "type=password_changed&realm=resident&account="+mariaID), "password_changed", "resident", 2)
		})
	})

	step("revocation by an admin", func(t *testing.T) {
		// Revocation by an admin: a security analyst ends every session of
		// Maria's (more than one transaction holds); an unknown account or realm
		// is 404; a content manager is refused (403); the super admin revokes
		// an admin's (none left after the suspension).
		if _, err := a.Accounts.CreateAdmin(t.Context(), account.NewAdmin{Username: "analyst", Email: "analyst@iam.samcheck.example", FullName: "Analyst", Role: "security_analyst", Password: pw}); err != nil {
			t.Fatal(err)
		}
		manySessions(t, mariaID, "e")
		browse(jar(t, "admin", "analyst", pw), func() {
			has(t, call(t, "admin-sessions", "DELETE", "/v1/admin/accounts/resident/"+mariaID+"/sessions", "", 200), `"revoked":121`)
			call(t, "admin-sessions", "DELETE", "/v1/admin/accounts/resident/"+account.NewID()+"/sessions", "", 404)
			call(t, "admin-sessions", "DELETE", "/v1/admin/accounts/staff/"+mariaID+"/sessions", "", 404)
		})
		browse(phone, func() { call(t, "session", "GET", "/v1/resident/session", "", 401) })
		browse(jar(t, "admin", "rewards", pw), func() {
			call(t, "admin-sessions", "DELETE", "/v1/admin/accounts/resident/"+mariaID+"/sessions", "", 403)
		})
		browse(boss, func() {
			has(t, call(t, "admin-sessions", "DELETE", "/v1/admin/accounts/admin/"+opsID+"/sessions", "", 200), `"revoked":0`)
			ofType(t, list(t, "type=session_revoked&realm=resident&account="+mariaID), "session_revoked", "resident", 4)
		})
	})

	step("second factor", func(t *testing.T) {
		// A TOTP factor enrolled at the first login (the login's token in
		// place of a session), another enrolled by the session: a wrong
		// first code, confirmed, renamed. New recovery codes and a removal
		// are refused until a reauth (a wrong password first, counted
		// toward the lock); then the second factor goes, and the admin's
		// last one stays.
		if _, err := a.Accounts.CreateAdmin(t.Context(), account.NewAdmin{Username: "twofactor", Email: "twofactor@iam.samcheck.example", FullName: "Two Factor", Role: "security_analyst", Password: pw}); err != nil {
			t.Fatal(err)
		}
		enroll := func(t *testing.T) string {
			t.Helper()
			var en struct{ ID, Secret string }
			if err := json.Unmarshal(call(t, "mfa", "POST", "/v1/admin/mfa/totp", `{"name":"Phone"}`, 200).Body.Bytes(), &en); err != nil {
				t.Fatal(err)
			}
			code, err := totp.Code(en.Secret, clk.Now().Add(totp.Period*time.Second)) // the login used this step
			if err != nil {
				t.Fatal(err)
			}
			wrong := "000000"
			if code == wrong {
				wrong = "111111"
			}
			call(t, "mfa", "POST", "/v1/admin/mfa/totp/confirm", fmt.Sprintf(`{"id":%q,"code":%q}`, en.ID, wrong), 400)
			call(t, "mfa", "POST", "/v1/admin/mfa/totp/confirm", fmt.Sprintf(`{"id":%q,"code":%q}`, en.ID, code), 200)
			return en.ID
		}
		browse(jar(t, "admin", "twofactor", pw), func() {
			var listed struct {
				Factors []struct{ ID string } `json:"factors"`
			}
			w := call(t, "mfa", "GET", "/v1/admin/mfa", "", 200)
			has(t, w, `"recovery_codes_left":10`)
			if err := json.Unmarshal(w.Body.Bytes(), &listed); err != nil || len(listed.Factors) != 1 {
				t.Fatalf("the factor enrolled at the login: %s", w.Body)
			}
			second := enroll(t)
			call(t, "mfa", "PATCH", "/v1/admin/mfa/"+second, `{"name":"Spare phone"}`, 200)
			clk.Advance(6 * time.Minute) // the login's proof of the password is too old now
			call(t, "mfa", "POST", "/v1/admin/mfa/recovery-codes", "", 403)
			call(t, "mfa", "DELETE", "/v1/admin/mfa/"+second, "", 403)
			call(t, "mfa", "POST", "/v1/admin/reauth", `{"password":"not the password at all"}`, 400)
			call(t, "mfa", "POST", "/v1/admin/reauth", fmt.Sprintf(`{"password":%q}`, pw), 200)
			has(t, call(t, "mfa", "POST", "/v1/admin/mfa/recovery-codes", "", 200), `"recovery_codes"`)
			call(t, "mfa", "DELETE", "/v1/admin/mfa/"+second, "", 204)
			call(t, "mfa", "DELETE", "/v1/admin/mfa/"+listed.Factors[0].ID, "", 409)
		})
	})

	step("passkeys and a super admin's clearing", func(t *testing.T) {
		// A resident registers a passkey (function passkey alone links
		// go-webauthn), uses it alone and as a login's second step (a
		// clone's answer first: a wrong answer, counted); an admin's first
		// factor is a passkey; a recovery code passes a second step; a
		// super admin clears the resident's factors (its sessions end) and
		// an analyst may not.
		const pedroPW = "mango tricycle umbrella 42" // as registered
		pedroID, err := st.LookupIdentifier(t.Context(), account.Resident, account.Identifier{Kind: account.KindEmail, Value: pedroEmail})
		if err != nil {
			t.Fatal(err)
		}
		browse(jar(t, "admin", "boss", adminPW), func() {
			call(t, "admin-residents", "POST", "/v1/admin/residents/"+pedroID+"/approve", "", 200)
		})
		authn := passkeytest.New("localhost", "http://localhost:8080")
		pedro := jar(t, "resident", pedroEmail, pedroPW)
		var codes struct {
			Codes []string `json:"recovery_codes"`
		}
		browse(pedro, func() {
			answer, _, err := authn.Create(call(t, "passkey", "POST", "/v1/resident/mfa/webauthn/options", "", 200).Body.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			w := call(t, "passkey", "POST", "/v1/resident/mfa/webauthn", fmt.Sprintf(`{"credential":%s,"name":"Pixel"}`, answer), 200)
			if err := json.Unmarshal(w.Body.Bytes(), &codes); err != nil || len(codes.Codes) != 10 {
				t.Fatalf("the first passkey's recovery codes: %s", w.Body)
			}
		})
		browse(map[string]*http.Cookie{}, func() {
			answer, _, _ := authn.Get(call(t, "passkey", "POST", "/v1/resident/login/webauthn/options", "", 200).Body.Bytes())
			call(t, "passkey", "POST", "/v1/resident/login/webauthn", fmt.Sprintf(`{"credential":%s,"remember":true}`, answer), 200)
		})
		browse(map[string]*http.Cookie{}, func() {
			due := field(t, call(t, "login", "POST", "/v1/resident/login", loginBody(pedroEmail, pedroPW), 200), "mfa_token")
			tokBody := fmt.Sprintf(`{"mfa_token":%q}`, due)
			opts := call(t, "passkey", "POST", "/v1/resident/login/webauthn/options", tokBody, 200).Body.Bytes()
			_, cred, err := authn.Get(opts)
			if err != nil {
				t.Fatal(err)
			}
			cred.Count = 1 // a clone's counter: the one the passkey-only login stored
			var o struct {
				PublicKey struct{ Challenge string } `json:"publicKey"`
			}
			_ = json.Unmarshal(opts, &o)
			cloned, _ := authn.Assert(cred, o.PublicKey.Challenge)
			call(t, "passkey", "POST", "/v1/resident/login/webauthn", fmt.Sprintf(`{"mfa_token":%q,"credential":%s}`, due, cloned), 400)
			answer, _, _ := authn.Get(call(t, "passkey", "POST", "/v1/resident/login/webauthn/options", tokBody, 200).Body.Bytes())
			call(t, "passkey", "POST", "/v1/resident/login/webauthn", fmt.Sprintf(`{"mfa_token":%q,"credential":%s}`, due, answer), 200)
		})
		browse(map[string]*http.Cookie{}, func() {
			due := field(t, call(t, "login", "POST", "/v1/resident/login", loginBody(pedroEmail, pedroPW), 200), "mfa_token")
			call(t, "login", "POST", "/v1/resident/login/mfa", fmt.Sprintf(`{"mfa_token":%q,"method":"recovery","code":%q}`, due, codes.Codes[0]), 200)
		})
		if _, err := a.Accounts.CreateAdmin(t.Context(), account.NewAdmin{Username: "keyholder", Email: "keyholder@iam.samcheck.example", FullName: "Key Holder", Role: "security_analyst", Password: pw}); err != nil {
			t.Fatal(err)
		}
		browse(map[string]*http.Cookie{}, func() {
			due := field(t, call(t, "login", "POST", "/v1/admin/login", loginBody("keyholder", pw), 200), "mfa_token")
			key := passkeytest.New("localhost", "http://localhost:8080")
			answer, _, err := key.Create(call(t, "passkey", "POST", "/v1/admin/mfa/webauthn/options", fmt.Sprintf(`{"mfa_token":%q}`, due), 200).Body.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			call(t, "passkey", "POST", "/v1/admin/mfa/webauthn", fmt.Sprintf(`{"mfa_token":%q,"credential":%s}`, due, answer), 200)
			call(t, "admin-sessions", "DELETE", "/v1/admin/accounts/resident/"+pedroID+"/mfa", "", 403)
		})
		browse(jar(t, "admin", "boss", adminPW), func() {
			has(t, call(t, "admin-sessions", "DELETE", "/v1/admin/accounts/resident/"+pedroID+"/mfa", "", 200), `"factors_removed":1`, `"sessions_ended":4`)
			call(t, "admin-sessions", "DELETE", "/v1/admin/accounts/resident/"+account.NewID()+"/mfa", "", 404)
		})
		browse(pedro, func() { call(t, "session", "GET", "/v1/resident/session", "", 401) })
	})

	step("idle refresh and expiry in every function", func(t *testing.T) {
		// Each new function refreshes a session's idle deadline once half of
		// it has passed, and deletes a session found expired.
		idle := []struct{ fn, method, path, body string }{
			{"admin-admins", "GET", "/v1/admin/admins", ""},
			{"admin-sessions", "DELETE", "/v1/admin/accounts/resident/" + rosaID + "/sessions", ""},
			{"sessions", "GET", "/v1/admin/sessions", ""},
			{"mfa", "GET", "/v1/admin/mfa", ""},
			{"password-change", "POST", "/v1/admin/password", changeBody("wrong admin password", "unused passphrase 1234")},
		}
		jars := make([]map[string]*http.Cookie, len(idle))
		for i := range idle {
			jars[i] = jar(t, "admin", "boss", adminPW)
		}
		clk.Advance(16 * time.Minute) // admin idle 30m: refresh due
		for i, r := range idle[:4] {
			browse(jars[i], func() { call(t, r.fn, r.method, r.path, r.body, 200) })
		}
		clk.Advance(31 * time.Minute)
		for i, r := range idle {
			browse(jars[i], func() { call(t, r.fn, r.method, r.path, r.body, 401) })
		}
	})

	standalone("a message that fails for good", func(t *testing.T) {
		// A message sealed under a key no longer in use cannot be delivered:
		// the sender fails it at its first attempt, gives back the send
		// limit it took and dead-letters it (SQS). Written here, outside any
		// request, as a message left from before a key rotation would be.
		raw := dynamo.New(client, table)
		retired, err := outbox.NewSealer([]byte(strings.Repeat("r", 32)))
		if err != nil {
			t.Fatal(err)
		}
		m, err := outbox.NewComposer(retired, clk).Compose(notify.PasswordChanged, "en", notify.Email, "gone@iam.samcheck.example", notify.Data{Name: "Gone"}, account.Resident, "gone")
		if err != nil {
			t.Fatal(err)
		}
		const limit = "code-sends:resident:gone"
		c, err := raw.Hit(t.Context(), limit, 3, time.Hour, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		m.Charges = []throttle.Charge{throttle.ChargeOf(limit, c)}
		if err := raw.PutMessage(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		deliver(t)
		letters := mototest.Received(t, sqsClient, deadLetters)
		if len(letters) != 1 || !strings.Contains(letters[0], m.ID) {
			t.Fatalf("dead letters %q, want the message's", letters)
		}
		if c, err := raw.Peek(t.Context(), limit, clk.Now()); err != nil || c.Count != 0 {
			t.Fatalf("the failed message's send limit: %+v, %v; want it given back", c, err)
		}
	})

	// The policies against what the steps called, whatever became of them.
	// A call the template does not grant is wrong however far the story
	// got; a grant nothing called is spare only once every step has run.
	t.Run("policies", func(t *testing.T) {
		if len(rec.wrong) > 0 {
			t.Errorf("calls the template's messaging grants refuse:\n%s", strings.Join(rec.wrong, "\n"))
		}
		tp := loadTemplate(t)
		for _, f := range app.Functions() {
			var got []string
			for act := range used[f] {
				got = append(got, act)
			}
			slices.Sort(got)
			t.Logf("%s calls %v", logicalID(f), got)
			if tp.resources[logicalID(f)] == nil {
				t.Errorf("function %q (httpapi.Table) has no resource %s in template.yaml; its code calls %v", f, logicalID(f), got)
				continue
			}
			want := granted(t, tp, logicalID(f))
			// A grant held to some partitions (dynamodb:LeadingKeys) holds
			// every write the function made.
			walk(get(get(tp.resources[logicalID(f)], "Properties"), "Policies"), func(n *yaml.Node) {
				leading := scalars(get(get(get(n, "Condition"), "ForAllValues:StringLike"), "dynamodb:LeadingKeys"))
				if len(leading) == 0 {
					return
				}
				for pk := range usedKeys[f] {
					if !slices.ContainsFunc(leading, func(p string) bool { return strings.HasPrefix(pk, strings.TrimSuffix(p, "*")) }) {
						t.Errorf("%s: %s writes partition %s, outside the grant's dynamodb:LeadingKeys %v", where(n), logicalID(f), pk, leading)
					}
				}
			})
			if broken == "" {
				if !slices.Equal(got, want) {
					t.Errorf("%s: the code calls %v; the template grants %v", logicalID(f), got, want)
				}
				continue
			}
			for _, act := range got {
				if !slices.Contains(want, act) {
					t.Errorf("%s: the code calls %s; the template does not grant it (grants %v)", logicalID(f), act, want)
				}
			}
		}
		if broken != "" {
			t.Logf("spare grants not checked: the story stopped at step %q", broken)
		}
	})
}
