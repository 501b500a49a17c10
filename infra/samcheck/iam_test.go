package samcheck

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awsses "github.com/aws/aws-sdk-go-v2/service/ses"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"gopkg.in/yaml.v3"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/httpapi"
	"github.com/ekolek/identity/shared/logging"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/notify/mototest"
	sesnotify "github.com/ekolek/identity/shared/notify/ses"
	snsnotify "github.com/ekolek/identity/shared/notify/sns"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
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
	wrong   []string // calls the template's messaging grants would refuse
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
	return r.API.PutItem(ctx, in, o...)
}

func (r *recorder) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	r.noteDynamo("UpdateItem")
	return r.API.UpdateItem(ctx, in, o...)
}

func (r *recorder) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	r.noteDynamo("DeleteItem")
	return r.API.DeleteItem(ctx, in, o...)
}

func (r *recorder) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	for _, it := range in.TransactItems {
		switch {
		case it.Put != nil:
			r.noteDynamo("PutItem")
		case it.Update != nil:
			r.noteDynamo("UpdateItem")
		case it.Delete != nil:
			r.noteDynamo("DeleteItem")
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

// recorded is the services whose actions the test compares with the
// template; other services' grants (the signing key secret) are not driven
// here.
var recorded = []string{"dynamodb:", "ses:", "sns:"}

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
	for _, f := range httpapi.Functions() {
		id := logicalID(f)
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
// distinct call included.
func TestPoliciesMatchTheCallsEachFunctionMakes(t *testing.T) {
	const from = "noreply@ekolek.example.org"
	const smsCap = 5
	client := dynamotest.Client(t)
	rec := &recorder{API: client, actions: map[string]bool{}}
	st := dynamo.New(rec, dynamotest.NewTable(t, client))
	mototest.VerifyIdentity(t, from)
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
	clk := clock.NewManual(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC))
	var logs bytes.Buffer // handlers run on the test's goroutine
	a, err := app.Open(context.Background(), cfg, logging.New(&logs, slog.LevelInfo), app.Options{
		Clock: clk, Store: st, Notifier: notifier, ResetFloor: time.Millisecond,
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
	cookies := map[string]*http.Cookie{}
	call := func(fn, method, path, body string, want int) *httptest.ResponseRecorder {
		t.Helper()
		rec.take()
		r := httptest.NewRequest(method, path, strings.NewReader(body))
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
		if used[fn] == nil {
			used[fn] = map[string]bool{}
		}
		for _, act := range rec.take() {
			used[fn][act] = true
		}
		return w
	}
	// withCookies runs fn with only the named cookies of the jar presented
	// (none when no names), then puts the jar back as it was.
	withCookies := func(fn func(), names ...string) {
		t.Helper()
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
	sent := func() map[string][]string {
		t.Helper()
		emails, sms := mototest.Sent(t)
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
	// sends runs step and checks that it sent exactly want messages to each
	// recipient named, and nothing to anyone else.
	sends := func(want map[string]int, step func()) {
		t.Helper()
		before := sent()
		step()
		after := sent()
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
	lastCode := func(to string) string {
		t.Helper()
		msgs := sent()[to]
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
	field := func(w *httptest.ResponseRecorder, name string) string {
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
		unknownUser = "nobody@iam.samcheck.example"
	)
	registration := func(first, email, phone string) string {
		return fmt.Sprintf(`{"first_name":%q,"last_name":"Dela Cruz","email":%q,"phone":%q,"barangay":"San Isidro","password":"mango tricycle umbrella 42"}`, first, email, phone)
	}
	// manySessions gives a resident 120 sessions, more than one transaction
	// can delete.
	manySessions := func(accountID, prefix string) {
		t.Helper()
		now := clk.Now()
		for i := range 120 {
			if err := st.CreateSession(t.Context(), session.Session{Realm: account.Resident, AccountID: accountID, Key: fmt.Sprintf("%s%063x", prefix, i),
				CreatedAt: now, LastSeenAt: now, IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(2 * time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	pw := "mango tricycle umbrella 42"
	adminPW := pw
	login := func(realm, id, pw string) {
		call("login", "POST", "/v1/"+realm+"/login", fmt.Sprintf(`{"identifier":%q,"password":%q}`, id, pw), 200)
	}
	if _, err := a.Accounts.CreateAdmin(t.Context(), account.NewAdmin{Username: "boss", Email: bossEmail, FullName: "Boss", Role: "super_admin", Password: pw}); err != nil {
		t.Fatal(err)
	}

	// register: the account, then a code to the email and one by SMS.
	var w *httptest.ResponseRecorder
	sends(map[string]int{juanEmail: 1, juanPhone: 1}, func() {
		w = call("register", "POST", "/v1/resident/register", registration("Juan", juanEmail, "09171234567"), 201)
	})
	rid := field(w, "id")
	sends(nil, func() {
		call("register", "POST", "/v1/resident/register", registration("Juan", juanEmail, "09171234567"), 409)
	})

	// register-verify: wrong, right, used; the phone too; resend to a
	// verified contact and to nobody sends nothing.
	emailCode := lastCode(juanEmail)
	call("register-verify", "POST", verifyPath, codeBody(juanEmail, wrong(emailCode)), 400)
	call("register-verify", "POST", verifyPath, codeBody(juanEmail, emailCode), 204)
	call("register-verify", "POST", verifyPath, codeBody(juanEmail, emailCode), 400)
	call("register-verify", "POST", verifyPath, codeBody("0917 123 4567", lastCode(juanPhone)), 204)
	sends(nil, func() { call("register-verify", "POST", resendPath, idBody(juanEmail), 202) })
	sends(nil, func() { call("register-verify", "POST", resendPath, idBody(unknownUser), 202) })

	// Five wrong tries burn a code; resend is held to the cooldown, then
	// sends a new code by email or SMS.
	sends(map[string]int{anaEmail: 1, anaPhone: 1}, func() {
		call("register", "POST", "/v1/resident/register", registration("Ana", anaEmail, "09181234567"), 201)
	})
	anaCode := lastCode(anaEmail)
	for range 5 {
		call("register-verify", "POST", verifyPath, codeBody(anaEmail, wrong(anaCode)), 400)
	}
	call("register-verify", "POST", verifyPath, codeBody(anaEmail, anaCode), 400)
	sends(nil, func() { call("register-verify", "POST", resendPath, idBody(anaEmail), 202) })
	clk.Advance(61 * time.Second)
	sends(map[string]int{anaEmail: 1}, func() { call("register-verify", "POST", resendPath, idBody(anaEmail), 202) })
	sends(map[string]int{anaPhone: 1}, func() { call("register-verify", "POST", resendPath, idBody("09181234567"), 202) })

	login("admin", "boss", pw)
	login("admin", "boss", pw) // over a presented session: ends it
	call("login", "POST", "/v1/admin/login", `{"identifier":"boss","password":"wrong wrong wrong"}`, 401)
	call("admin-residents", "GET", "/v1/admin/residents?status=pending", "", 200)
	call("admin-residents", "POST", "/v1/admin/residents/"+rid+"/approve", "", 200)
	clk.Advance(20 * time.Minute) // admin idle 30m: refresh due
	call("admin-residents", "GET", "/v1/admin/residents", "", 200)

	login("resident", juanEmail, pw)
	call("session", "GET", "/v1/resident/session", "", 200)
	clk.Advance(61 * time.Minute) // resident idle 2h: refresh due
	call("session", "GET", "/v1/resident/session", "", 200)
	call("logout", "POST", "/v1/resident/logout", "", 204)
	login("resident", juanEmail, pw)
	clk.Advance(3 * time.Hour) // past idle: the item is deleted on read
	call("session", "GET", "/v1/resident/session", "", 401)

	// reset-request: a verified email gets a code; an unverified phone, an
	// unknown identifier and an admin asking for SMS get nothing (202 all
	// the same); a verified phone gets an SMS once the cooldown has passed.
	sends(map[string]int{juanEmail: 1}, func() {
		call("reset-request", "POST", "/v1/resident/password-reset", resetBody(juanEmail, "email"), 202)
	})
	sends(nil, func() {
		call("reset-request", "POST", "/v1/resident/password-reset", resetBody("09181234567", "sms"), 202)
	})
	sends(nil, func() {
		call("reset-request", "POST", "/v1/resident/password-reset", resetBody(unknownUser, "email"), 202)
	})
	sends(nil, func() { call("reset-request", "POST", "/v1/admin/password-reset", resetBody("boss", "sms"), 202) })
	clk.Advance(61 * time.Second)
	sends(map[string]int{juanPhone: 1}, func() {
		call("reset-request", "POST", "/v1/resident/password-reset", resetBody("639171234567", "sms"), 202)
	})

	// reset-verify: wrong, then right (the SMS code replaced the email one).
	resetCode := lastCode(juanPhone)
	call("reset-verify", "POST", "/v1/resident/password-reset/verify", codeBody(juanEmail, wrong(resetCode)), 400)
	w = call("reset-verify", "POST", "/v1/resident/password-reset/verify", codeBody(juanEmail, resetCode), 200)
	tok := field(w, "reset_token")

	// reset-confirm with the browser's own session presented: a weak
	// password is refused; the reset ends the account's other session, keeps
	// this one and notifies both verified contacts; the token works once.
	login("resident", juanEmail, pw)
	delete(cookies, "ekolek_session") // another browser's session, to be ended
	login("resident", juanEmail, pw)
	call("reset-confirm", "POST", "/v1/resident/password-reset/confirm", confirmBody(tok, "password"), 400)
	pw = "bamboo jeepney lantern 77"
	sends(map[string]int{juanEmail: 1, juanPhone: 1}, func() {
		call("reset-confirm", "POST", "/v1/resident/password-reset/confirm", confirmBody(tok, pw), 204)
	})
	sends(nil, func() {
		call("reset-confirm", "POST", "/v1/resident/password-reset/confirm", confirmBody(tok, "kalabaw sampaguita 1898"), 400)
	})
	call("session", "GET", "/v1/resident/session", "", 200)

	// An admin: five wrong tries burn the reset code; a new one (after the
	// cooldown) is verified and confirmed over the admin's own cookie.
	sends(map[string]int{bossEmail: 1}, func() {
		call("reset-request", "POST", "/v1/admin/password-reset", resetBody("boss", "email"), 202)
	})
	bossCode := lastCode(bossEmail)
	for range 5 {
		call("reset-verify", "POST", "/v1/admin/password-reset/verify", codeBody("boss", wrong(bossCode)), 400)
	}
	call("reset-verify", "POST", "/v1/admin/password-reset/verify", codeBody("boss", bossCode), 400)
	clk.Advance(61 * time.Second)
	sends(map[string]int{bossEmail: 1}, func() {
		call("reset-request", "POST", "/v1/admin/password-reset", resetBody(bossEmail, "email"), 202)
	})
	w = call("reset-verify", "POST", "/v1/admin/password-reset/verify", codeBody(bossEmail, lastCode(bossEmail)), 200)
	adminPW = "cathedral mangrove kettle 19"
	sends(map[string]int{bossEmail: 1}, func() {
		call("reset-confirm", "POST", "/v1/admin/password-reset/confirm", confirmBody(field(w, "reset_token"), adminPW), 204)
	})

	// The daily SMS cap: every SMS so far (2 registrations, a resend, a
	// reset code, a password notice) spent it. Each function that sends SMS
	// now meets the refusal: the code is issued, the SMS is not sent.
	capped := func() int { return strings.Count(logs.String(), code.ErrSMSCapReached.Error()) }
	cappedBefore := capped()
	clk.Advance(61 * time.Second)
	sends(nil, func() {
		call("reset-request", "POST", "/v1/resident/password-reset", resetBody(juanPhone, "sms"), 202)
	})
	sends(map[string]int{pedroEmail: 1}, func() {
		call("register", "POST", "/v1/resident/register", registration("Pedro", pedroEmail, "09191234567"), 201)
	})
	clk.Advance(61 * time.Second)
	sends(nil, func() { call("register-verify", "POST", resendPath, idBody(pedroPhone), 202) })
	clk.Advance(time.Hour) // juan's hourly reset sends are spent too
	sends(map[string]int{juanEmail: 1}, func() {
		call("reset-request", "POST", "/v1/resident/password-reset", resetBody(juanEmail, "email"), 202)
	})
	w = call("reset-verify", "POST", "/v1/resident/password-reset/verify", codeBody(juanEmail, lastCode(juanEmail)), 200)
	// More sessions than one transaction holds: the reset deletes the
	// surplus in batches first.
	manySessions(rid, "a")
	pw = "coconut harbour violin 63"
	withCookies(func() { // no session presented: every session of the account ends
		sends(map[string]int{juanEmail: 1}, func() { // the SMS notice is held by the cap
			call("reset-confirm", "POST", "/v1/resident/password-reset/confirm", confirmBody(field(w, "reset_token"), pw), 204)
		})
	})
	delete(cookies, "ekolek_session")
	if n := capped() - cappedBefore; n != 4 {
		t.Fatalf("%d SMS held by the daily cap, want 4 (reset code, registration, resend, password notice); log:\n%s", n, logs.String())
	}
	if left, err := st.ListSessions(t.Context(), account.Resident, rid); err != nil || len(left) > 0 {
		t.Fatalf("after the reset %d sessions are left (%v), want none", len(left), err)
	}

	// A resident with more sessions than one transaction holds: suspension
	// deletes the extra ones in batches first.
	manySessions(rid, "b")
	login("admin", "boss", adminPW)
	w = call("admin-residents", "POST", "/v1/admin/residents/"+rid+"/suspend", "", 200)
	if !strings.Contains(w.Body.String(), `"sessions_ended":120`) {
		t.Fatalf("suspend: %s", w.Body)
	}
	clk.Advance(31 * time.Minute) // the admin session expired: deleted on read
	call("admin-residents", "GET", "/v1/admin/residents", "", 401)

	if len(rec.wrong) > 0 {
		t.Errorf("calls the template's messaging grants refuse:\n%s", strings.Join(rec.wrong, "\n"))
	}
	tp := loadTemplate(t)
	for _, f := range httpapi.Functions() {
		var got []string
		for act := range used[f] {
			got = append(got, act)
		}
		slices.Sort(got)
		t.Logf("%s calls %v", logicalID(f), got)
		if want := granted(t, tp, logicalID(f)); !slices.Equal(got, want) {
			t.Errorf("%s: the code calls %v; the template grants %v", logicalID(f), got, want)
		}
	}
}
