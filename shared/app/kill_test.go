package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/awsenv"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/emulator"
	"github.com/ekolek/identity/shared/httpapi"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/password"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/throttle"
)

// steppedClock is the system clock moved forward by what the test adds:
// the failure log's interval passes without waiting it out.
type steppedClock struct{ offset atomic.Int64 }

func (c *steppedClock) Now() time.Time { return time.Now().UTC().Add(time.Duration(c.offset.Load())) }

func (c *steppedClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// killOp is one request of the traffic and what came of it.
type killOp struct {
	worker int
	kind   string // login, session, register, reset
	// key is the login's and registration's email, the reset's username.
	key        string
	body       map[string]string
	start, end time.Time
	status     int
	code       string
	retryAfter string
	requestID  string
	accountID  string
	sessionKey string // a login's session, by its public id
	cookie     string // a login's session cookie
	transport  error
}

func (op *killOp) took() time.Duration { return op.end.Sub(op.start) }

func (op *killOp) String() string {
	return fmt.Sprintf("%s %s (worker %d): %d %s in %v", op.kind, op.key, op.worker, op.status, op.code, op.took().Round(time.Millisecond))
}

// killTraffic sends requests to the app at url as people would, and keeps
// every answer.
type killTraffic struct {
	url  string
	http *http.Client
	mu   sync.Mutex
	ops  []*killOp
}

var killPaths = map[string][2]string{
	"login":    {http.MethodPost, "/v1/resident/login"},
	"session":  {http.MethodGet, "/v1/resident/session"},
	"register": {http.MethodPost, "/v1/resident/register"},
	"reset":    {http.MethodPost, "/v1/admin/password-reset"},
}

// do sends op (its kind's route, its body, cookie as the session cookie)
// and records the answer in it.
func (k *killTraffic) do(op *killOp, cookie string) *killOp {
	route := killPaths[op.kind]
	var body io.Reader
	if op.body != nil {
		b, _ := json.Marshal(op.body)
		body = bytes.NewReader(b)
	}
	op.start = time.Now()
	req, err := http.NewRequest(route[0], k.url+route[1], body)
	if err == nil {
		if op.body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "ekolek_session", Value: cookie})
		}
		var res *http.Response
		if res, err = k.http.Do(req); err == nil {
			k.answer(op, res)
		}
	}
	if err != nil {
		op.end, op.transport = time.Now(), err
	}
	k.mu.Lock()
	k.ops = append(k.ops, op)
	k.mu.Unlock()
	return op
}

// answer reads res into op.
func (k *killTraffic) answer(op *killOp, res *http.Response) {
	defer res.Body.Close()
	var answer struct {
		Error   struct{ Code string } `json:"error"`
		Account struct{ ID string }   `json:"account"`
		Session struct{ ID string }   `json:"session"`
	}
	_ = json.NewDecoder(res.Body).Decode(&answer)
	op.end = time.Now()
	op.status, op.code, op.retryAfter = res.StatusCode, answer.Error.Code, res.Header.Get("Retry-After")
	op.requestID, op.accountID, op.sessionKey = res.Header.Get("X-Request-Id"), answer.Account.ID, answer.Session.ID
	for _, c := range res.Cookies() {
		if c.Name == "ekolek_session" {
			op.cookie = c.Value
		}
	}
}

func (k *killTraffic) all() []*killOp {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.ops)
}

const (
	killWorkers    = 8
	killResets     = 6 // reset targets of each worker
	killResidentPW = "mango tricycle umbrella 42"
)

// registration is worker w's n-th registration: an email and phone of its own.
func registration(w, n int) map[string]string {
	return map[string]string{
		"first_name": "Maria", "last_name": "Santos", "email": fmt.Sprintf("reg%d.%d@kill.example", w, n),
		"phone": fmt.Sprintf("0918%03d%04d", w, n), "barangay": "Landayan", "password": killResidentPW,
	}
}

// DynamoDB Local killed (SIGKILL) while eight clients send logins,
// session checks, registrations and reset requests through the handler
// the functions run, then started again on the same port with its data
// (on disk). While it is down every request answers 503 unavailable at
// once (a refused connection: nothing was sent), never 200 nor 500;
// those in flight when it died answer within the deadline, 2xx or 503
// (unavailable or outcome_unknown). Once it is back requests succeed
// (every kind; one may still wait out the clients' response timeout of
// a cold DynamoDB Local on a loaded machine, and answer 503, as it
// should). Then the table says the answers were true: each 2xx did its
// write (the registration's account, the login's session, the reset's
// code and its message), each 503 unavailable did none, each
// outcome_unknown either (as a success answered just before DynamoDB
// Local stopped: lastingWindow), and retried it lands once; the in-process
// sender delivers every message; the log stayed JSON lines, and the
// failures were logged once per kind and interval, with the count held
// back.
func TestKilledDynamoDBUnderConcurrentRequests(t *testing.T) {
	begun := time.Now()
	logs := &emulator.Output{}
	clk := &steppedClock{}
	// A hash of some 20 ms (unloaded): requests spend time between their
	// limits and their writes.
	hash := password.Params{Memory: 19 << 10, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	s := newStallable(t, faultOptions{hash: hash, log: logs, clock: clk, env: map[string]string{
		// One address sends everything here.
		"EKOLEK_REGISTER_IP_MAX": "1000000", "EKOLEK_RESET_IP_MAX": "1000000",
	}})
	a, ctx := s.app, t.Context()
	t.Logf("DynamoDB Local and the app up in %v", time.Since(begun).Round(time.Millisecond))
	delivering, stopDelivery := context.WithCancel(context.Background())
	delivered := make(chan error, 1)
	go func() { delivered <- a.Deliver(delivering, time.Second) }()
	t.Cleanup(func() {
		stopDelivery()
		if err := <-delivered; err != nil {
			t.Error(err)
		}
	})

	// Each worker logs in as its own approved resident, registers
	// residents of its own and asks for resets of admins of its own: the
	// answers of each can be checked alone.
	boss, err := a.Accounts.CreateAdmin(ctx, account.NewAdmin{Username: "boss", Email: "boss@kill.example", FullName: "Boss", Role: "super_admin", Password: "correct horse battery staple"})
	if err != nil {
		t.Fatal(err)
	}
	residents := make([]account.Account, killWorkers)
	targets := make([][]account.Account, killWorkers)
	for w := range killWorkers {
		r, _, err := a.Accounts.Register(ctx, account.Registration{FirstName: "Juan", LastName: "Cruz", Email: fmt.Sprintf("worker%d@kill.example", w),
			Phone: fmt.Sprintf("0917%03d0000", w), Barangay: "Landayan", Password: killResidentPW, Language: "en"})
		if err != nil {
			t.Fatal(err)
		}
		if residents[w], _, _, err = a.Accounts.ChangeResidentStatus(ctx, boss, r.ID, account.ActionApprove, ""); err != nil {
			t.Fatal(err)
		}
		for i := range killResets {
			// Invited, without a password (no hash to compute): a reset
			// request sends the invitation again.
			admin, err := a.Accounts.CreateAdmin(ctx, account.NewAdmin{Username: fmt.Sprintf("target%d-%d", w, i), Email: fmt.Sprintf("target%d.%d@kill.example", w, i),
				FullName: "Target", Role: "security_analyst"})
			if err != nil {
				t.Fatal(err)
			}
			targets[w] = append(targets[w], admin)
		}
	}

	t.Logf("set up in %v", time.Since(begun).Round(time.Millisecond))
	traffic := &killTraffic{url: s.url, http: &http.Client{Timeout: time.Minute}}
	var stop atomic.Bool
	var workers sync.WaitGroup
	for w := range killWorkers {
		workers.Go(func() {
			var cookie string
			registered, resets := 0, 0
			for i := 0; !stop.Load(); i++ {
				switch i % 4 {
				case 0:
					email := residents[w].Email
					op := traffic.do(&killOp{worker: w, kind: "login", key: email, body: map[string]string{"identifier": email, "password": killResidentPW}}, "")
					if op.status == http.StatusOK {
						cookie = op.cookie
					}
				case 1:
					if cookie != "" {
						traffic.do(&killOp{worker: w, kind: "session", key: residents[w].Email}, cookie)
					}
				// A registration or reset that failed is sent again, as a
				// person would, until it succeeds; then the next one.
				case 2:
					in := registration(w, registered)
					if op := traffic.do(&killOp{worker: w, kind: "register", key: in["email"], body: in}, ""); op.status/100 == 2 {
						registered++
					}
				case 3:
					// Past its own admins, an identifier nobody has.
					who := fmt.Sprintf("nobody%d-%d", w, resets)
					if resets < killResets {
						who = targets[w][resets].Username
					}
					if op := traffic.do(&killOp{worker: w, kind: "reset", key: who, body: map[string]string{"identifier": who, "channel": "email"}}, ""); op.status/100 == 2 {
						resets++
					}
				}
				time.Sleep(25 * time.Millisecond)
			}
		})
	}
	t.Cleanup(func() { stop.Store(true); workers.Wait() })
	// Traffic that succeeds first: every worker through its first rounds.
	if !eventuallyWithin(30*time.Second, func() bool { return len(traffic.all()) >= killWorkers*2 }) {
		t.Fatal("the traffic did not start")
	}

	// DynamoDB Local hangs a moment (SIGSTOP), then dies (SIGKILL), so
	// that requests are surely in flight when it dies: their connections
	// break, some with a write sent. It hangs as a registration has passed
	// its limit and hashes the password, so that one (at least) sends its
	// account's transaction into the hang.
	registrations := string(throttle.RegisterIP) + ":"
	n, _ := s.counter(registrations)
	s.pauseOnceCounted(registrations, n)
	k := killTimes{hung: time.Now()}
	time.Sleep(300 * time.Millisecond)
	s.kill()
	k.dead = time.Now()
	time.Sleep(time.Second)
	// The failure log's interval passes (the app's clock), so that each
	// kind of failure is logged once more, with the count held back.
	step := clockStep{before: time.Now()}
	clk.Advance(httpapi.FailureLogInterval)
	step.after = time.Now()
	time.Sleep(time.Second)
	k.restarted = time.Now()
	if err := s.db.Restart(); err != nil {
		t.Fatal(err)
	}
	s.warm()
	k.up = time.Now()
	t.Logf("DynamoDB Local killed, down for %v, started again in %v", k.restarted.Sub(k.dead).Round(time.Millisecond), k.up.Sub(k.restarted).Round(time.Millisecond))
	// Traffic that succeeds again: every kind of request.
	if !eventuallyWithin(30*time.Second, func() bool {
		n, succeeded := 0, map[string]bool{}
		for _, op := range traffic.all() {
			if op.start.After(k.up) {
				n++
				succeeded[op.kind] = succeeded[op.kind] || op.status/100 == 2
			}
		}
		return n >= killWorkers && len(succeeded) == len(killPaths)
	}) {
		t.Fatal("the traffic did not go on")
	}
	stop.Store(true)
	workers.Wait()
	ops := traffic.all()

	checkKillAnswers(t, s, ops, k)
	registered := checkKillRegistrations(t, s, traffic, ops, k)
	checkKillLogins(t, s, ops, residents, k)
	checkKillResets(t, s, ops, targets, logs.String(), k)
	checkKillOutbox(t, s, registered)
	checkKillLogs(t, logs.String(), ops, step, time.Since(k.hung))
}

// killStatuses are the successful answers of each kind of request (a
// registration sent again after outcome_unknown may get the account it
// made: 200).
var killStatuses = map[string][]int{"login": {http.StatusOK}, "session": {http.StatusOK}, "register": {http.StatusCreated, http.StatusOK}, "reset": {http.StatusAccepted}}

// refusedLimit is how soon a request answers when DynamoDB refuses
// connections: its first call's attempts (awsenv.MaxAttempts, backoffs of
// at most awsenv.MaxBackoff) fail as fast as they dial, far from the deadline.
const refusedLimit = 1500 * time.Millisecond

// killTimes are the moments of the outage, by the clients' clock.
type killTimes struct {
	hung      time.Time // DynamoDB Local stopped (SIGSTOP)
	dead      time.Time // then killed (SIGKILL), and gone
	restarted time.Time // its start again began
	up        time.Time // back: it reads the table quickly
}

// lastingWindow: DynamoDB Local answers a transaction a moment before
// its commit lasts. Killed at once after the answer, the transaction was
// missing once it started again (a PutItem was not; after 5 ms neither,
// on an idle machine). A request that succeeded while DynamoDB Local
// stopped, or this soon before, may have had a write answered that did
// not last, which DynamoDB itself never does. (Such a request may answer
// well after the stop: a registration whose account was written answers
// 201 even when its codes then fail.)
const lastingWindow = 500 * time.Millisecond

// unsure is whether op's outcome may be either way: outcome_unknown, or
// a success whose writes DynamoDB Local answered just before it stopped.
// Such an answer is held to being safe to send again, not to its write.
func (k killTimes) unsure(op *killOp) bool {
	return op.code == "outcome_unknown" ||
		op.status/100 == 2 && op.start.Before(k.hung) && op.end.After(k.hung.Add(-lastingWindow))
}

// checkKillAnswers holds each answer to what its time allows: while
// DynamoDB was down (from dead to restarted), 503 unavailable at once;
// after it was up, success (or a 503 that waited out the clients'
// response timeout); across either moment, success or a 503 within the
// deadline; never anything else.
func checkKillAnswers(t *testing.T, s *stallable, ops []*killOp, k killTimes) {
	t.Helper()
	limit := s.cfg.RequestTimeout + time.Second
	var down []time.Duration
	count, slow := map[string]int{}, 0
	for _, op := range ops {
		if op.transport != nil {
			t.Errorf("%s: no answer: %v", op, op.transport)
			continue
		}
		count[fmt.Sprintf("%s %d %s", op.kind, op.status, op.code)]++
		succeeded := slices.Contains(killStatuses[op.kind], op.status)
		ok := succeeded ||
			op.status == http.StatusServiceUnavailable && (op.code == "unavailable" || op.code == "outcome_unknown") && op.retryAfter != ""
		if !ok {
			t.Errorf("%s: want %v or 503 unavailable/outcome_unknown with Retry-After", op, killStatuses[op.kind])
		}
		if op.took() > limit {
			t.Errorf("%s: over the deadline's %v", op, limit)
		}
		switch {
		case op.start.After(k.dead) && op.end.Before(k.restarted):
			down = append(down, op.took())
			if op.status != http.StatusServiceUnavailable || op.code != "unavailable" {
				t.Errorf("%s with DynamoDB down: want 503 unavailable", op)
			}
			if op.took() > refusedLimit {
				t.Errorf("%s with DynamoDB down: want an answer within %v (connections refused)", op, refusedLimit)
			}
		case op.start.After(k.up) && !succeeded:
			// Back, it answers: a failure now is only one that waited
			// for it, a cold DynamoDB Local on a loaded machine past
			// the clients' response timeout, never a refusal or a
			// broken connection.
			slow++
			if op.took() < awsenv.ResponseHeaderTimeout {
				t.Errorf("%s after DynamoDB was back: want %v, or a 503 after its response timeout", op, killStatuses[op.kind])
			}
		}
	}
	if slow > 0 {
		t.Logf("%d requests after DynamoDB Local was back timed out waiting for it", slow)
	}
	if len(down) == 0 {
		t.Fatal("no request was sent while DynamoDB was down")
	}
	slices.Sort(down)
	t.Logf("%d requests, %d while DynamoDB was down: answered in median %v, at most %v; answers %v", len(ops), len(down),
		down[len(down)/2].Round(time.Millisecond), down[len(down)-1].Round(time.Millisecond), count)
}

// attemptsOf are the requests of kind, by key, in the order each was
// sent (a worker sends one at a time).
func attemptsOf(ops []*killOp, kind string) (map[string][]*killOp, []string) {
	by, keys := map[string][]*killOp{}, []string(nil)
	for _, op := range ops {
		if op.kind != kind || op.transport != nil {
			continue
		}
		if by[op.key] == nil {
			keys = append(keys, op.key)
		}
		by[op.key] = append(by[op.key], op)
	}
	return by, keys
}

// checkKillRegistrations goes through the attempts of each registration
// (a failed one was sent again until it succeeded). A 503 unavailable
// attempt saved nothing, so the next one registers (201), unless an
// unsure one before it did (the next then gets that account, 200); the
// account registered holds the email. A registration whose last attempt
// failed or was unsure is sent once more here. It returns the accounts
// registered.
func checkKillRegistrations(t *testing.T, s *stallable, traffic *killTraffic, ops []*killOp, k killTimes) []string {
	t.Helper()
	var registered []string
	by, emails := attemptsOf(ops, "register")
	for _, email := range emails {
		attempts := by[email]
		if last := attempts[len(attempts)-1]; last.status/100 != 2 || k.unsure(last) {
			attempts = append(attempts, traffic.do(&killOp{worker: last.worker, kind: "register", key: email, body: last.body}, ""))
		}
		unknown, id := false, ""
		for _, op := range attempts {
			switch {
			case op.status == http.StatusCreated && id != "":
				t.Errorf("%s: registered again after %s", op, id)
			case op.status == http.StatusOK && !unknown:
				t.Errorf("%s: the registration was saved by an attempt answered 503 unavailable: %s", op, k.describe(attempts))
			case op.status == http.StatusOK && id != "" && op.accountID != id:
				t.Errorf("%s: account %s, registered as %s", op, op.accountID, id)
			}
			switch {
			case k.unsure(op):
				unknown = true
			case op.status/100 == 2:
				id = op.accountID
			}
		}
		held, err := s.app.Store.LookupIdentifier(t.Context(), account.Resident, account.Identifier{Kind: account.KindEmail, Value: email})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		if id == "" || held != id {
			t.Errorf("%s: held by %q (%v): %s", email, held, err, k.describe(attempts))
			continue
		}
		registered = append(registered, id)
	}
	return registered
}

// describe lists ops' answers, each with when it came, from the moment
// DynamoDB Local stopped.
func (k killTimes) describe(ops []*killOp) string {
	var s []string
	for _, op := range ops {
		s = append(s, fmt.Sprintf("%d %s at %+v", op.status, op.code, op.end.Sub(k.hung).Round(time.Millisecond)))
	}
	return "attempts " + strings.Join(s, ", ")
}

// checkKillLogins: every 200 login's session is stored, and no other
// login left one, except perhaps the unsure ones.
func checkKillLogins(t *testing.T, s *stallable, ops []*killOp, residents []account.Account, k killTimes) {
	t.Helper()
	for w, r := range residents {
		sessions, err := s.app.Store.ListSessions(t.Context(), account.Resident, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		stored := map[string]bool{}
		for _, s := range sessions {
			stored[s.Key] = true
		}
		ok, unknown := 0, 0
		for _, op := range ops {
			switch {
			case op.worker != w || op.kind != "login":
			case k.unsure(op):
				unknown++
			case op.status == http.StatusOK:
				ok++
				if !stored[op.sessionKey] {
					t.Errorf("%s: its session %s is not stored", op, op.sessionKey)
				}
			}
		}
		if len(sessions) < ok || len(sessions) > ok+unknown {
			t.Errorf("worker %d: %d sessions stored for %d logins answered 200 and %d unsure", w, len(sessions), ok, unknown)
		}
	}
}

// checkKillResets goes through the reset requests of each admin (sent
// again until answered 202): its code and message (an invitation: these
// admins have no password yet) are stored both or neither (one
// transaction); one answered 202 stored them, unless unsure or the log
// says the code was not sent (the answer is 202 either way, so as not to
// tell who has an account); if every one was answered 503 unavailable,
// none did.
func checkKillResets(t *testing.T, s *stallable, ops []*killOp, targets [][]account.Account, logs string, k killTimes) {
	t.Helper()
	ctx := t.Context()
	now := s.app.Clock.Now()
	messages, err := s.app.Store.ListMessages(ctx, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, ts := range targets {
		for _, a := range ts {
			ids[a.Username] = a.ID
		}
	}
	by, usernames := attemptsOf(ops, "reset")
	for _, username := range usernames {
		id, attempts := ids[username], by[username]
		if id == "" {
			continue // nobody's
		}
		_, err := s.app.Store.GetCode(ctx, account.Admin, id, code.PasswordReset)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		hasCode, sent := err == nil, 0
		for _, m := range messages {
			if m.AccountID == id && m.Kind == notify.AdminInvitation {
				sent++
			}
		}
		accepted, unavailable := false, true
		for _, op := range attempts {
			accepted = accepted || op.status == http.StatusAccepted && !k.unsure(op)
			unavailable = unavailable && op.code == "unavailable"
		}
		notSent := strings.Contains(logs, `"msg":"reset code not sent","realm":"admin","account_id":"`+id+`"`)
		switch {
		case sent > 1 || hasCode != (sent == 1):
			t.Errorf("reset of %s: code stored %v, %d messages, want both or neither: %s", username, hasCode, sent, k.describe(attempts))
		case accepted && !hasCode && !notSent:
			t.Errorf("reset of %s: no code stored, and no log line says it was not sent: %s", username, k.describe(attempts))
		case unavailable && hasCode:
			t.Errorf("reset of %s: a code stored: %s", username, k.describe(attempts))
		}
	}
}

// checkKillOutbox: every message belongs to an account that exists and
// has its code, a registered account's code of each contact has its one
// message (they are one write), and the in-process sender delivers every
// message once DynamoDB is back.
func checkKillOutbox(t *testing.T, s *stallable, registered []string) {
	t.Helper()
	ctx := t.Context()
	list := func() []outbox.Message {
		now := s.app.Clock.Now()
		ms, err := s.app.Store.ListMessages(ctx, now.Add(-time.Hour), now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	purposes := map[notify.Kind]code.Purpose{notify.VerifyEmail: code.VerifyEmail, notify.VerifyPhone: code.VerifyPhone, notify.AdminInvitation: code.PasswordReset}
	ms := list()
	sent := map[string]int{}
	for _, m := range ms {
		sent[m.AccountID+" "+string(purposes[m.Kind])]++
		if _, err := s.app.Store.GetAccount(ctx, m.Realm, m.AccountID); err != nil {
			t.Errorf("message %s (%s) of %s %s: the account: %v", m.ID, m.Kind, m.Realm, m.AccountID, err)
		}
		if _, err := s.app.Store.GetCode(ctx, m.Realm, m.AccountID, purposes[m.Kind]); err != nil {
			t.Errorf("message %s (%s) of %s: its code: %v", m.ID, m.Kind, m.AccountID, err)
		}
	}
	for _, id := range registered {
		for _, p := range []code.Purpose{code.VerifyEmail, code.VerifyPhone} {
			_, err := s.app.Store.GetCode(ctx, account.Resident, id, p)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Fatal(err)
			}
			if n := sent[id+" "+string(p)]; n > 1 || (err == nil) != (n == 1) {
				t.Errorf("registered %s: %s code stored %v, %d messages: want both or neither", id, p, err == nil, n)
			}
		}
	}
	if !eventually(func() bool {
		for _, m := range list() {
			if m.State != outbox.Sent {
				return false
			}
		}
		return true
	}) {
		t.Error("the sender did not deliver every message")
	}
	t.Logf("%d messages in the outbox, all delivered", len(ms))
}

// checkKillLogs: every line of the log is JSON; nothing panicked; every
// request has its access line, written; and each kind of failure (code,
// cause, route) was logged at once, then at most once per interval, with
// the failures held back in between counted.
func checkKillLogs(t *testing.T, logs string, ops []*killOp, step clockStep, span time.Duration) {
	t.Helper()
	type line struct {
		Msg        string
		RequestID  string `json:"request_id"`
		Route      string
		Status     int
		Written    *bool
		Kind       string
		Suppressed int
	}
	var failures []line
	access := map[string]line{}
	for i, raw := range strings.Split(strings.TrimSuffix(logs, "\n"), "\n") {
		var l line
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Errorf("log line %d is not JSON (%v): %s", i+1, err, raw)
			continue
		}
		switch l.Msg {
		case "panic":
			t.Errorf("a panic: %s", raw)
		case "request failed":
			failures = append(failures, l)
		case "request":
			access[l.RequestID] = l
		}
	}
	byID := map[string]*killOp{}
	for _, op := range ops {
		byID[op.requestID] = op
		l, ok := access[op.requestID]
		if !ok || l.Status != op.status || l.Written == nil || !*l.Written {
			t.Errorf("%s: access line %+v", op, l)
		}
	}
	// A group is the failures of one answer code on one route; its kinds
	// differ by cause.
	type group struct{ code, route string }
	failed, before, after := map[group]int{}, map[group]int{}, map[group]int{}
	for _, op := range ops {
		if op.status == http.StatusServiceUnavailable {
			g := group{op.code, access[op.requestID].Route}
			failed[g]++
			switch {
			case op.end.Before(step.before):
				before[g]++
			case op.start.After(step.after):
				after[g]++
			}
		}
	}
	lines := map[string][]line{}
	logged, firsts, later, count := map[group]int{}, map[group]int{}, map[group]int{}, map[group]int{}
	for _, l := range failures {
		op := byID[l.RequestID]
		if op == nil {
			t.Errorf("failure line of a request the test did not send: %+v", l)
			continue
		}
		g := group{op.code, l.Route}
		if !strings.HasPrefix(l.Kind, op.code+" ") || !strings.HasSuffix(l.Kind, " "+l.Route) {
			t.Errorf("failure line %+v for %s", l, op)
		}
		if len(lines[l.Kind]) == 0 {
			firsts[g]++
			if l.Suppressed != 0 {
				t.Errorf("the first line of %q counts %d held back", l.Kind, l.Suppressed)
			}
		} else {
			later[g] += l.Suppressed
		}
		lines[l.Kind] = append(lines[l.Kind], l)
		logged[g] += 1 + l.Suppressed
		count[g]++
	}
	// The app's clock: the time the failures took, and the one step.
	intervals := 2 + int(span/httpapi.FailureLogInterval)
	for kind, ls := range lines {
		if len(ls) > intervals {
			t.Errorf("%d lines of %q over %d intervals of the failure log", len(ls), kind, intervals)
		}
	}
	for g, n := range failed {
		// What was counted is at most what failed. What failed before the
		// clock stepped, past each kind's first line, was held back, and
		// is counted on the kind's next line, written by its first failure
		// after the step.
		if logged[g] > n || firsts[g] == 0 {
			t.Errorf("%v: %d failures, %d logged or counted in %d first lines", g, n, logged[g], firsts[g])
		}
		if held := before[g] - firsts[g]; after[g] > 0 && held > 0 && later[g] < held {
			t.Errorf("%v: %d failures held back before the interval passed, %d counted after it", g, held, later[g])
		}
		t.Logf("%v: %d failures, %d lines, %d counted in them", g, n, count[g], logged[g])
	}
}

// clockStep is when the test moved the app's clock: between before and after.
type clockStep struct{ before, after time.Time }
