package rie_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/ekolek/identity/infra/rie"
	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/mfa"
	"github.com/ekolek/identity/shared/notify/mototest"
	"github.com/ekolek/identity/shared/password"
	"github.com/ekolek/identity/shared/password/strength"
	"github.com/ekolek/identity/shared/phone"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/dynamo/dynamotest"
	"github.com/ekolek/identity/shared/throttle"
	"github.com/ekolek/identity/shared/token"
	"github.com/ekolek/identity/shared/totp"
	"github.com/ekolek/identity/shared/web"
)

// DynamoDB Local comes from AWS_ENDPOINT_URL_DYNAMODB when set (`make test`
// sets it: localstack/emulators.sh) or from the harness. Moto is this
// package's own, always: the events send mail and SMS to the addresses and
// numbers written in them, and infra/samcheck, running the same events at
// the same time, counts what moto recorded for those recipients. Moto's
// record is global, so two packages sending to one recipient on one
// moto_server would see each other's messages. The moto_server mototest
// starts has no Main here (one TestMain runs one harness's Main): its
// parent-death signal ends it with this binary (Linux).
func TestMain(m *testing.M) {
	_ = os.Unsetenv(mototest.EndpointEnv)
	code := dynamotest.Main(m)
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

const (
	sender = "no-reply@ekolek.example.org"
	// signingKey is shared by every function of a test, as the template's
	// secret is shared by every function of a stack.
	signingKey = "ZWtvbGVrLXJpZS10ZXN0LXNpZ25pbmcta2V5LTMyLWJ5dGVzISE="

	// The accounts the events in events/ log in as.
	adminUser, adminEmail, adminPassword = "mreyes", "mreyes@ekolek.example.org", "tahimik-na-ilog-sa-umaga"
	residentEmail, residentPhone         = "juan.delacruz@example.com", "0917 555 0142"
	residentPassword                     = "kalye-bukid-ulap-2026"
)

var (
	root = func() string {
		r, err := rie.Root()
		if err != nil {
			panic(err)
		}
		return r
	}()

	emulatorOnce sync.Once
	emulatorPath string
	emulatorErr  error

	buildOnce sync.Once
	buildDir  string
	buildErr  error
	buildTime time.Duration
)

// emulator returns the aws-lambda-rie binary, installing it into .tools when
// it is missing. Under `go test -short` it skips the test (the fast run
// builds and starts nothing; `make test` runs without -short). Otherwise,
// without the emulator the test fails under CI=true and skips.
func emulator(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: builds every bootstrap and runs it under the Lambda Runtime Interface Emulator; `make test` runs it")
	}
	emulatorOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		emulatorPath, emulatorErr = rie.FindOrInstall(ctx, root)
	})
	switch {
	case emulatorErr != nil && os.Getenv("CI") == "true":
		t.Fatalf("Lambda Runtime Interface Emulator: %v (go install %s@%s, or set %s)", emulatorErr, rie.Package, rie.Version, rie.PathEnv)
	case emulatorErr != nil:
		t.Skipf("Lambda Runtime Interface Emulator unavailable: %v (go install %s@%s, or set %s)", emulatorErr, rie.Package, rie.Version, rie.PathEnv)
	}
	return emulatorPath
}

// bootstraps builds every function's bootstrap for this machine, once per
// test binary, and returns the directory holding <function>/bootstrap.
func bootstraps(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		fns, err := rie.Functions(root)
		if err != nil {
			buildErr = err
			return
		}
		if buildDir, buildErr = os.MkdirTemp("", "ekolek-bootstraps-"); buildErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		defer cancel()
		start := time.Now()
		buildErr = rie.Build(ctx, root, buildDir, fns...)
		buildTime = time.Since(start)
	})
	if buildErr != nil {
		t.Fatalf("build: %v", buildErr)
	}
	return buildDir
}

// backends returns the DynamoDB Local and moto endpoints (from the
// environment, or started by the harnesses), with the sender verified.
func backends(t *testing.T) (client *dynamodb.Client, dynamoURL, motoURL string) {
	t.Helper()
	emulator(t) // skip (or fail) before starting anything when it is missing
	client = dynamotest.Client(t)
	motoURL = mototest.Endpoint(t)
	mototest.VerifyIdentity(t, sender)
	return client, dynamotest.Endpoint(t), motoURL
}

// functionEnv is the environment of every function in a test: local mode
// on DynamoDB Local and SES/SNS at moto, one table, one signing key. Nothing
// else from this process's environment leaks in but PATH.
func functionEnv(t *testing.T, table, dynamoURL, motoURL string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"EKOLEK_ENV=local",
		"EKOLEK_STORE=dynamodb",
		"EKOLEK_TABLE=" + table,
		"EKOLEK_NOTIFIER=aws",
		"EKOLEK_EMAIL_FROM=" + sender,
		"EKOLEK_SIGNING_KEY=" + signingKey,
		"EKOLEK_DATA_DIR=" + t.TempDir(),
		"AWS_ENDPOINT_URL_DYNAMODB=" + dynamoURL,
		"AWS_ENDPOINT_URL_SES=" + motoURL,
		"AWS_ENDPOINT_URL_SNS=" + motoURL,
		"AWS_ENDPOINT_URL_SQS=" + motoURL,
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// signingKeySecret stores signingKey as a new Secrets Manager secret at
// moto, the way the template's SigningKeySecret holds it, and returns its ARN.
func signingKeySecret(t *testing.T, motoURL string) string {
	t.Helper()
	sm := secretsmanager.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(motoURL),
	})
	out, err := sm.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{
		Name:         aws.String(fmt.Sprintf("ekolek-rie-%d/signing-key", time.Now().UnixNano())),
		SecretString: aws.String(signingKey),
	})
	if err != nil {
		t.Fatalf("create the signing-key secret at moto: %v", err)
	}
	return aws.ToString(out.ARN)
}

// withSigningKeySecret replaces the key in env by the secret's ARN and
// points Secrets Manager at moto.
func withSigningKeySecret(env []string, arn, motoURL string) []string {
	out := slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, "EKOLEK_SIGNING_KEY=") })
	return append(out, "EKOLEK_SIGNING_KEY_SECRET_ARN="+arn, "AWS_ENDPOINT_URL_SECRETS_MANAGER="+motoURL)
}

// seed creates, on table, the accounts the events log in as: the super
// admin, with a TOTP factor as every admin must have one (its secret is
// returned), and an approved resident.
func seed(t *testing.T, client *dynamodb.Client, table string) (adminTOTPSecret string) {
	t.Helper()
	ctx := t.Context()
	st := dynamo.New(client, table)
	svc := account.NewService(st, password.NewHasher(password.DefaultParams),
		account.Checks{Phone: phone.Normalize, Password: strength.Check}, config.DefaultBarangays, clock.System{})
	admin, err := svc.CreateAdmin(ctx, account.NewAdmin{
		Username: adminUser, Email: adminEmail, FullName: "Maria Reyes", Role: "super_admin", Password: adminPassword,
	})
	if err != nil {
		t.Fatalf("seed admin: %v", err)
	}
	res, _, err := svc.Register(ctx, account.Registration{
		FirstName: "Juan", LastName: "Dela Cruz", Email: residentEmail, Phone: residentPhone,
		Barangay: "Landayan", Password: residentPassword,
	})
	if err != nil {
		t.Fatalf("seed resident: %v", err)
	}
	if _, _, _, err := svc.ChangeResidentStatus(ctx, admin, res.ID, account.ActionApprove, "seeded by the test"); err != nil {
		t.Fatalf("approve resident: %v", err)
	}
	// The functions' data key in local mode is the signing key.
	key, err := config.DecodeKey(signingKey)
	if err != nil {
		t.Fatal(err)
	}
	tk, _ := token.NewKeys(key)
	mk, _ := mfa.NewKeys(key)
	factors := mfa.NewService(mfa.Deps{Store: st, Accounts: st, Keys: mk, Tokens: tk, Guard: throttle.NewGuard(st, throttle.DefaultLimits, clock.System{}),
		Clock: clock.System{}, Policy: mfa.Policy{AdminRequired: true}, TOTP: totp.App{}})
	en, err := factors.EnrollTOTP(ctx, admin, "Phone")
	if err != nil {
		t.Fatalf("seed the admin's factor: %v", err)
	}
	code, _ := totp.Code(en.Secret, time.Now())
	if _, err := factors.ConfirmTOTP(ctx, admin, en.Factor.ID, code, nil); err != nil {
		t.Fatalf("confirm the admin's factor: %v", err)
	}
	return en.Secret
}

// start runs one function's bootstrap under the emulator until the test ends.
func start(t *testing.T, function string, env []string) *rie.Emulator {
	t.Helper()
	em, err := rie.Start(t.Context(), rie.Options{
		RIE:       emulator(t),
		Bootstrap: filepath.Join(bootstraps(t), function, "bootstrap"),
		Function:  function,
		Env:       append(slices.Clone(env), deployedEnv(t, function)...),
	})
	if err != nil {
		t.Fatalf("start %s: %v", function, err)
	}
	t.Cleanup(em.Stop)
	return em
}

// deployedEnv is the environment template.yaml gives this one function
// beyond Globals (GOGC for the functions that link zxcvbn).
func deployedEnv(t *testing.T, function string) []string {
	t.Helper()
	env, err := rie.TemplateEnv(root, function)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func invoke(t *testing.T, em *rie.Emulator, name string, ev any) (events.APIGatewayProxyResponse, rie.Result) {
	t.Helper()
	res := invokeRaw(t, em, name, ev)
	return checkProxyResponse(t, name, res), res
}

// invokeRaw invokes em with ev (JSON, or a value to marshal) and returns
// what the emulator said.
func invokeRaw(t *testing.T, em *rie.Emulator, name string, ev any) rie.Result {
	t.Helper()
	var payload []byte
	switch v := ev.(type) {
	case []byte:
		payload = v
	default:
		var err error
		if payload, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	res, err := em.Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

// checkProxyResponse asserts that res is what API Gateway needs from a
// proxy integration: a JSON object with a status code, headers, and a JSON
// body (a 204 may have none), from a function that neither failed to start
// nor returned an error, and that the status is not a server error. The
// pages (function web) answer with HTML, CSS or JavaScript under the pages'
// CSP instead, a redirect with its Location, and HEAD with the length of
// the body it leaves out.
func checkProxyResponse(t *testing.T, name string, res rie.Result) events.APIGatewayProxyResponse {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s: %s\nfunction output:\n%s", name, fmt.Sprintf(format, args...), rie.FunctionLogs(res.Logs))
	}
	if res.HTTPStatus != http.StatusOK {
		fail("emulator answered %d: %s", res.HTTPStatus, res.Payload)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(res.Payload, &fields); err != nil {
		fail("the response is not a JSON object: %v: %.300s", err, res.Payload)
	}
	if _, ok := fields["errorType"]; ok {
		fail("the function returned an error: %s", res.Payload)
	}
	if _, ok := fields["statusCode"]; !ok {
		fail("no statusCode: %.300s", res.Payload)
	}
	dec := json.NewDecoder(strings.NewReader(string(res.Payload)))
	dec.DisallowUnknownFields()
	var resp events.APIGatewayProxyResponse
	if err := dec.Decode(&resp); err != nil {
		fail("not an API Gateway proxy response: %v: %.300s", err, res.Payload)
	}
	switch {
	case resp.StatusCode < 100 || resp.StatusCode > 599:
		fail("status %d", resp.StatusCode)
	case resp.StatusCode >= 500:
		fail("server error %d: %s", resp.StatusCode, resp.Body)
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		fail("%d: the event's route is not this function's: %s", resp.StatusCode, resp.Body)
	}
	if header(resp, "X-Request-Id") == "" {
		fail("no X-Request-Id header")
	}
	body := resp.Body
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			fail("body is not base64: %v", err)
		}
		body = string(b)
	}
	if resp.StatusCode == http.StatusNoContent && strings.TrimSpace(body) == "" {
		return resp
	}
	if resp.StatusCode == http.StatusFound && header(resp, "Location") != "" && body == "" {
		return resp
	}
	if ct := header(resp, "Content-Type"); strings.HasPrefix(ct, "text/html") || strings.HasPrefix(ct, "text/css") || strings.HasPrefix(ct, "text/javascript") {
		if body == "" && header(resp, "Content-Length") == "" {
			fail("status %d, %s without a body or a Content-Length", resp.StatusCode, ct)
		}
		if csp := header(resp, "Content-Security-Policy"); csp != web.CSP {
			fail("a page's Content-Security-Policy is %q, want %q", csp, web.CSP)
		}
		return resp
	}
	if !json.Valid([]byte(body)) {
		fail("status %d, body is not JSON: %q", resp.StatusCode, body)
	}
	if ct := header(resp, "Content-Type"); !strings.HasPrefix(ct, "application/json") {
		fail("status %d with a JSON body, Content-Type %q", resp.StatusCode, ct)
	}
	return resp
}

// header returns the first value of the response header name.
func header(resp events.APIGatewayProxyResponse, name string) string {
	for k, v := range resp.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	for k, v := range resp.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func headerValues(resp events.APIGatewayProxyResponse, name string) []string {
	var out []string
	for k, v := range resp.MultiValueHeaders {
		if strings.EqualFold(k, name) {
			out = append(out, v...)
		}
	}
	for k, v := range resp.Headers {
		if strings.EqualFold(k, name) && len(out) == 0 {
			out = append(out, v)
		}
	}
	return out
}

// eventFiles returns events/<function>.*.json by function.
func eventFiles(t *testing.T) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	by := map[string][]string{}
	for _, f := range files {
		fn, _, _ := strings.Cut(filepath.Base(f), ".")
		by[fn] = append(by[fn], f)
	}
	return by
}

// measurement is what the emulator reported for one function.
type measurement struct {
	function string
	size     int64
	init     time.Duration   // INIT REPORT: process start to the first /next
	first    time.Duration   // the first invocation, including the init wait
	warm     []time.Duration // every later invocation
	statuses []string
	rss      int64 // the bootstrap's peak resident set (VmHWM) after every event, or 0
}

// Every function's bootstrap, built for this machine and run under the
// emulator on DynamoDB Local and moto, answers each of its events (twice:
// cold, then warm) with a valid API Gateway proxy response that is not a
// server error. The emulator's timings are logged as a table (see
// docs/deploy.md).
func TestEveryBootstrapAnswersItsEvents(t *testing.T) {
	client, dynamoURL, motoURL := backends(t)
	dir := bootstraps(t)
	t.Logf("built every bootstrap for this machine in %s", buildTime.Round(time.Second))
	table := dynamotest.NewTable(t, client)
	seed(t, client, table)
	env := functionEnv(t, table, dynamoURL, motoURL)

	fns, err := rie.Functions(root)
	if err != nil {
		t.Fatal(err)
	}
	byFunction := eventFiles(t)
	for fn := range byFunction {
		if !slices.Contains(fns, fn) {
			t.Errorf("events for %s, which is not a function", fn)
		}
	}
	var results []measurement
	for _, fn := range fns {
		files := byFunction[fn]
		if len(files) == 0 {
			t.Errorf("%s has no events/%s.*.json", fn, fn)
			continue
		}
		st, err := os.Stat(filepath.Join(dir, fn, "bootstrap"))
		if err != nil {
			t.Fatal(err)
		}
		m := measurement{function: fn, size: st.Size()}
		t.Run(fn, func(t *testing.T) {
			fnEnv, recipients := env, []string(nil)
			if background(fn) {
				// Function sender: the messages its stream events name are in
				// the table, to be delivered (cold) and found sent (warm).
				fnEnv = senderEnv(t, env)
				recipients = seedMessages(t, client, table, files)
			}
			em := start(t, fn, fnEnv)
			for pass, label := range []string{"cold", "warm"} {
				for i, f := range files {
					data, err := os.ReadFile(f)
					if err != nil {
						t.Fatal(err)
					}
					name := fmt.Sprintf("%s (%s)", filepath.Base(f), label)
					status := ""
					var res rie.Result
					if background(fn) {
						res = invokeRaw(t, em, name, data)
						checkStreamResponse(t, name, res)
						status = "ok"
					} else {
						var resp events.APIGatewayProxyResponse
						resp, res = invoke(t, em, name, data)
						status = fmt.Sprint(resp.StatusCode)
					}
					t.Logf("%-48s %s  init %6.1f ms  duration %7.1f ms", name, status, msf(res.Report.Init), msf(res.Report.Duration))
					if pass == 0 {
						m.statuses = append(m.statuses, fmt.Sprintf("%s %s", strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), fn+"."), ".json"), status))
					}
					switch {
					case pass == 0 && i == 0:
						if res.Report.Init <= 0 {
							t.Errorf("%s: no init duration in the emulator's output:\n%s", name, res.Logs)
						}
						m.init, m.first = res.Report.Init, res.Report.Duration
					default:
						m.warm = append(m.warm, res.Report.Duration)
					}
				}
			}
			m.rss = peakRSS(t, em)
			// Each seeded message went out once: delivered cold, found sent warm.
			sent := mototest.SentTo(t, motoURL)
			for _, to := range recipients {
				if n := len(sent[to]); n != 1 {
					t.Errorf("the sender delivered %d messages to %s, want 1", n, to)
				}
			}
		})
		results = append(results, m)
	}
	t.Logf("measurements (%s/%s; the sizes are of this machine's build):\n%s", runtime.GOOS, runtime.GOARCH, measurementTable(results))
}

// peakRSS is the bootstrap's peak resident set so far (see rie.PeakRSS), or
// 0 where it cannot be read (outside Linux).
func peakRSS(t *testing.T, em *rie.Emulator) int64 {
	t.Helper()
	rss, err := em.PeakRSS()
	if err != nil {
		t.Logf("peak RSS: %v", err)
		return 0
	}
	return rss
}

func measurementTable(ms []measurement) string {
	var b strings.Builder
	b.WriteString("| function | size | init | first invocation | warm (median) | warm (max) | peak RSS | events (cold status) |\n|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, m := range ms {
		w := slices.Clone(m.warm)
		sort.Slice(w, func(i, j int) bool { return w[i] < w[j] })
		var med, maxW time.Duration
		if len(w) > 0 {
			med, maxW = w[len(w)/2], w[len(w)-1]
		}
		fmt.Fprintf(&b, "| %s | %.1f MB | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.1f MiB | %s |\n", m.function,
			float64(m.size)/1e6, msf(m.init), msf(m.first), msf(med), msf(maxW), float64(m.rss)/(1<<20), strings.Join(m.statuses, ", "))
	}
	return b.String()
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// template reads a real event file of the function (the first of
// events/<function>.*.json, preferring one for realm) as the base of a
// built event.
func template(t *testing.T, function, realm string) events.APIGatewayProxyRequest {
	t.Helper()
	files := eventFiles(t)[function]
	if len(files) == 0 {
		t.Fatalf("no events/%s.*.json to build on", function)
	}
	var fallback *events.APIGatewayProxyRequest
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ev events.APIGatewayProxyRequest
		if err := json.Unmarshal(data, &ev); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if ev.PathParameters["realm"] == realm {
			return ev
		}
		if fallback == nil {
			fallback = &ev
		}
	}
	return *fallback
}

// forRealm points ev at realm and gives it these headers (replacing any
// Cookie or X-CSRF-Token it had) and body.
func forRealm(ev events.APIGatewayProxyRequest, realm string, headers map[string]string, body string) events.APIGatewayProxyRequest {
	other := "admin"
	if realm == "admin" {
		other = "resident"
	}
	swap := func(s string) string { return strings.Replace(s, "/"+other+"/", "/"+realm+"/", 1) }
	ev.Path = swap(ev.Path)
	ev.RequestContext.Path = swap(ev.RequestContext.Path)
	ev.PathParameters = map[string]string{"realm": realm}
	h := map[string]string{}
	mv := map[string][]string{}
	for k, v := range ev.Headers {
		if strings.EqualFold(k, "Cookie") || strings.EqualFold(k, "X-CSRF-Token") {
			continue
		}
		h[k] = v
	}
	for k, v := range ev.MultiValueHeaders {
		if strings.EqualFold(k, "Cookie") || strings.EqualFold(k, "X-CSRF-Token") {
			continue
		}
		mv[k] = v
	}
	for k, v := range headers {
		h[k] = v
		mv[k] = []string{v}
	}
	ev.Headers, ev.MultiValueHeaders = h, mv
	ev.Body = body
	ev.RequestContext.RequestID = fmt.Sprintf("rie-test-%d", time.Now().UnixNano())
	return ev
}

// jar is one browser's cookies.
type jar map[string]string

// update applies a response's Set-Cookie headers.
func (j jar) update(t *testing.T, resp events.APIGatewayProxyResponse) {
	t.Helper()
	for _, line := range headerValues(resp, "Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", line, err)
		}
		if c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Now())) {
			delete(j, c.Name)
			continue
		}
		j[c.Name] = c.Value
	}
}

func (j jar) header() string {
	var parts []string
	for k, v := range j {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

func errorCode(t *testing.T, resp events.APIGatewayProxyResponse) string {
	t.Helper()
	var body struct {
		Error struct{ Code string } `json:"error"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatalf("error body %q: %v", resp.Body, err)
	}
	return body.Error.Code
}

func wantStatus(t *testing.T, what string, resp events.APIGatewayProxyResponse, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s: %d %s, want %d", what, resp.StatusCode, resp.Body, status)
	}
	if code != "" {
		if got := errorCode(t, resp); got != code {
			t.Fatalf("%s: error %q, want %q", what, got, code)
		}
	}
}

// A session check without a cookie is 401 unauthenticated, in both realms.
func TestSessionWithoutCookieIs401(t *testing.T) {
	client, dynamoURL, motoURL := backends(t)
	table := dynamotest.NewTable(t, client)
	em := start(t, "session", functionEnv(t, table, dynamoURL, motoURL))
	for _, realm := range []string{"resident", "admin"} {
		ev := forRealm(template(t, "session", realm), realm, nil, "")
		resp, _ := invoke(t, em, realm+" session without a cookie", ev)
		wantStatus(t, realm+" session without a cookie", resp, http.StatusUnauthorized, "unauthenticated")
	}
}

// One browser logs in to both realms through the login bootstrap, checks
// each session through the session bootstrap and logs out of the admin realm
// through the logout bootstrap, carrying the cookies each response set: three
// processes, one DynamoDB table, one signing key. Logging out of one realm
// leaves the other logged in; the old admin cookie no longer works.
func TestLoginSessionLogoutAcrossFunctions(t *testing.T) {
	client, dynamoURL, motoURL := backends(t)
	table := dynamotest.NewTable(t, client)
	adminSecret := seed(t, client, table)
	// As deployed: no key in the environment; each function reads the
	// stack's secret at cold start (here from moto's Secrets Manager).
	env := withSigningKeySecret(functionEnv(t, table, dynamoURL, motoURL), signingKeySecret(t, motoURL), motoURL)
	login, session, logout := start(t, "login", env), start(t, "session", env), start(t, "logout", env)
	sessionCookie := map[string]string{"resident": "ekolek_session", "admin": "ekolek_admin_session"}
	browser := jar{}

	accountIDs := map[string]string{}
	for _, c := range []struct{ realm, identifier, password string }{
		{"admin", adminUser, adminPassword},
		{"resident", residentEmail, residentPassword},
	} {
		body, _ := json.Marshal(map[string]string{"identifier": c.identifier, "password": c.password})
		ev := forRealm(template(t, "login", c.realm), c.realm, map[string]string{"Content-Type": "application/json"}, string(body))
		resp, res := invoke(t, login, c.realm+" login", ev)
		logStep(t, c.realm+" login", resp, res)
		wantStatus(t, c.realm+" login", resp, http.StatusOK, "")
		if c.realm == "admin" {
			// The admin has a second factor: the password step sets no
			// cookie, and the second step (the same function) ends the login.
			var due struct {
				Token string `json:"mfa_token"`
			}
			if err := json.Unmarshal([]byte(resp.Body), &due); err != nil || due.Token == "" || len(headerValues(resp, "Set-Cookie")) > 0 {
				t.Fatalf("admin login with a factor: %s, cookies %v", resp.Body, headerValues(resp, "Set-Cookie"))
			}
			code, _ := totp.Code(adminSecret, time.Now().Add(totp.Period*time.Second)) // the step after the seed's
			body, _ := json.Marshal(map[string]string{"mfa_token": due.Token, "method": "totp", "code": code})
			ev := forRealm(template(t, "login", c.realm), c.realm, map[string]string{"Content-Type": "application/json"}, string(body))
			ev.Resource, ev.Path = "/v1/{realm}/login/mfa", "/v1/admin/login/mfa"
			ev.RequestContext.ResourcePath, ev.RequestContext.Path = ev.Resource, "/"+ev.RequestContext.Stage+ev.Path
			resp, res = invoke(t, login, "admin second step", ev)
			logStep(t, "admin second step", resp, res)
			wantStatus(t, "admin second step", resp, http.StatusOK, "")
		}
		var out struct {
			Account   struct{ ID string } `json:"account"`
			CSRFToken string              `json:"csrf_token"`
		}
		if err := json.Unmarshal([]byte(resp.Body), &out); err != nil || out.Account.ID == "" {
			t.Fatalf("%s login body %s: %v", c.realm, resp.Body, err)
		}
		accountIDs[c.realm] = out.Account.ID
		browser.update(t, resp)
		if browser[sessionCookie[c.realm]] == "" {
			t.Fatalf("%s login set no %s cookie: %v", c.realm, sessionCookie[c.realm], headerValues(resp, "Set-Cookie"))
		}
		if browser["ekolek_csrftoken"] != out.CSRFToken || out.CSRFToken == "" {
			t.Fatalf("%s login: CSRF cookie %q, body csrf_token %q", c.realm, browser["ekolek_csrftoken"], out.CSRFToken)
		}
	}

	checkSession := func(realm string, want int) {
		t.Helper()
		ev := forRealm(template(t, "session", realm), realm, map[string]string{"Cookie": browser.header()}, "")
		resp, res := invoke(t, session, realm+" session", ev)
		logStep(t, realm+" session", resp, res)
		if want != http.StatusOK {
			wantStatus(t, realm+" session", resp, want, "")
			return
		}
		wantStatus(t, realm+" session", resp, http.StatusOK, "")
		var out struct {
			Account struct{ ID string } `json:"account"`
		}
		if err := json.Unmarshal([]byte(resp.Body), &out); err != nil || out.Account.ID != accountIDs[realm] {
			t.Fatalf("%s session is of %q, want %q (%v)", realm, out.Account.ID, accountIDs[realm], err)
		}
	}
	checkSession("admin", http.StatusOK)
	checkSession("resident", http.StatusOK)

	oldAdminCookie := browser["ekolek_admin_session"]
	logoutEv := func(csrf string) events.APIGatewayProxyRequest {
		h := map[string]string{"Cookie": browser.header(), "Content-Type": "application/json"}
		if csrf != "" {
			h["X-CSRF-Token"] = csrf
		}
		return forRealm(template(t, "logout", "admin"), "admin", h, "")
	}
	resp, _ := invoke(t, logout, "admin logout without X-CSRF-Token", logoutEv(""))
	wantStatus(t, "admin logout without X-CSRF-Token", resp, http.StatusForbidden, "csrf_failed")
	checkSession("admin", http.StatusOK)

	resp, res := invoke(t, logout, "admin logout", logoutEv(browser["ekolek_csrftoken"]))
	logStep(t, "admin logout", resp, res)
	wantStatus(t, "admin logout", resp, http.StatusNoContent, "")
	browser.update(t, resp)
	if _, still := browser["ekolek_admin_session"]; still {
		t.Fatalf("logout did not clear ekolek_admin_session: %v", headerValues(resp, "Set-Cookie"))
	}
	if browser["ekolek_session"] == "" {
		t.Fatalf("admin logout cleared the resident cookie: %v", headerValues(resp, "Set-Cookie"))
	}
	checkSession("admin", http.StatusUnauthorized)
	checkSession("resident", http.StatusOK)

	// The cookie from before the logout is dead: the session item is gone.
	browser["ekolek_admin_session"] = oldAdminCookie
	checkSession("admin", http.StatusUnauthorized)

	for _, p := range []struct {
		name string
		em   *rie.Emulator
	}{{"login", login}, {"session", session}, {"logout", logout}} {
		t.Logf("%-8s peak RSS %.1f MiB", p.name, float64(peakRSS(t, p.em))/(1<<20))
	}
}

// logStep logs one step's status and the emulator's timings for it.
func logStep(t *testing.T, name string, resp events.APIGatewayProxyResponse, res rie.Result) {
	t.Helper()
	if res.Report.Init > 0 {
		t.Logf("%-26s %d  init %.1f ms, duration %.1f ms", name, resp.StatusCode, msf(res.Report.Init), msf(res.Report.Duration))
		return
	}
	t.Logf("%-26s %d  duration %.1f ms", name, resp.StatusCode, msf(res.Report.Duration))
}

var reCode = regexp.MustCompile(`>(\d{6})</p>`)

// A resident registers through the register bootstrap, which writes the
// verification codes' messages into the table; the table's stream
// (DynamoDB Local's) hands them to the sender bootstrap, which delivers
// them through SES and SNS (moto); the emailed code verifies the email
// through the register-verify bootstrap: the outbox as deployed.
func TestRegisterAndVerifyThroughTheSender(t *testing.T) {
	client, dynamoURL, motoURL := backends(t)
	table := dynamotest.NewStreamTable(t, client)
	stream := dynamotest.NewStream(t, client, table)
	env := functionEnv(t, table, dynamoURL, motoURL)
	register, verify := start(t, "register", env), start(t, "register-verify", env)
	snd := start(t, "sender", senderEnv(t, env))

	email := fmt.Sprintf("rie-%d@example.com", time.Now().UnixNano())
	body, _ := json.Marshal(map[string]string{
		"first_name": "Rosa", "last_name": "Lim", "email": email, "phone": "0917 555 0188",
		"barangay": "San Roque", "password": "sampaguita bangka ulan 88",
	})
	ev := forRealm(template(t, "register", "resident"), "resident", map[string]string{"Content-Type": "application/json"}, string(body))
	resp, _ := invoke(t, register, "register", ev)
	wantStatus(t, "register", resp, http.StatusCreated, "")
	if emails, _ := mototest.Sent(t); slices.ContainsFunc(emails, func(m mototest.SentEmail) bool { return slices.Contains(m.To, email) }) {
		t.Fatal("the register function sent the email itself")
	}
	// The stream's new message items, as the event source mapping's filter
	// passes them (infra/samcheck holds the template's filter to this).
	var batch events.DynamoDBEvent
	for _, r := range stream.Read(t) {
		_, message := dynamo.MessageID(r.Change.Keys["PK"].String(), r.Change.Keys["SK"].String())
		if message && r.EventName == "INSERT" && r.Change.NewImage["msg_state"].String() == "pending" {
			batch.Records = append(batch.Records, r)
		}
	}
	if len(batch.Records) != 2 {
		t.Fatalf("%d new messages in the stream, want the email's and the SMS's", len(batch.Records))
	}
	checkStreamResponse(t, "sender", invokeRaw(t, snd, "sender", batch))

	var code string
	deadline := time.Now().Add(10 * time.Second)
	for code == "" && time.Now().Before(deadline) {
		emails, _ := mototest.Sent(t)
		for _, m := range emails {
			if slices.Contains(m.To, email) && m.Source == sender {
				if c := reCode.FindStringSubmatch(m.Body); c != nil {
					code = c[1]
				}
			}
		}
		if code == "" {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if code == "" {
		t.Fatalf("no verification email to %s from %s at moto", email, sender)
	}
	body, _ = json.Marshal(map[string]string{"identifier": email, "code": code})
	ev = forRealm(template(t, "register-verify", "resident"), "resident", map[string]string{"Content-Type": "application/json"}, string(body))
	ev.Path, ev.Resource, ev.RequestContext.ResourcePath = "/v1/resident/register/verify", "/v1/resident/register/verify", "/v1/resident/register/verify"
	ev.RequestContext.Path = "/prod/v1/resident/register/verify"
	ev.HTTPMethod, ev.RequestContext.HTTPMethod = http.MethodPost, http.MethodPost
	resp, _ = invoke(t, verify, "register/verify", ev)
	wantStatus(t, "register/verify", resp, http.StatusNoContent, "")
}
