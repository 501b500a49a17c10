package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/throttle"
)

// The DynamoDB scenario's requests, the workers that send them, and what
// each answer tells the worker the table must now hold. A worker owns its
// residents (no other worker logs in as them), so the order of its
// requests is the order the API saw for each of them, and its record of
// the answers predicts every session, counter and event exactly.

// kind is one kind of request of the scenario.
type kind int

const (
	kindSession       kind = iota // GET /v1/resident/session with a live session
	kindLogin                     // POST /v1/resident/login, the right password
	kindWrongPassword             // the same with a wrong one, for a real resident
	kindUnknownLogin              // the same for an email no account has
	kindLogout                    // POST /v1/resident/logout of a live session
	kindReset                     // POST /v1/resident/password-reset for a real resident's (verified) email
	kindUnknownReset              // the same for an email no account has
	kindRegister                  // POST /v1/resident/register, a new resident
	numKinds
)

var kindNames = [numKinds]string{
	kindSession:       "session check",
	kindLogin:         "login",
	kindWrongPassword: "login, wrong password",
	kindUnknownLogin:  "login, unknown email",
	kindLogout:        "logout",
	kindReset:         "reset request, known email",
	kindUnknownReset:  "reset request, unknown email",
	kindRegister:      "registration",
}

func (k kind) String() string { return kindNames[k] }

// mixWeights is each kind's share of the mixed phase, in percent: mostly
// session checks, as traffic is, and every write path often enough to
// leave many items of each kind to account for.
var mixWeights = [numKinds]int{
	kindSession: 45, kindLogin: 12, kindWrongPassword: 8, kindUnknownLogin: 5,
	kindLogout: 5, kindReset: 9, kindUnknownReset: 6, kindRegister: 10,
}

// registrationPassword is every new resident's: strong enough for the
// policy with the registration's own names and contacts as inputs.
const registrationPassword = "violet quartz umbrellas migrate over seven hills"

// outcome is one request and its answer.
type outcome struct {
	kind      kind
	status    int    // 0: no answer
	err       string // no answer, or not the answer the worker's record predicted
	start     time.Time
	latency   time.Duration
	requestID string // X-Request-Id: the API's security events name it
	ip        string // the client address the API saw
	// account is the resident the request concerns (a login's, a
	// logout's, a known reset's, a new registration's); "" for an
	// unknown email and a session check.
	account string
	// events are the security events the answer implies, in any order.
	events []audit.Type
	// calls are the DynamoDB calls the request made (the calls phase
	// only, where one request is in flight at a time).
	calls calls
}

// resident is a seeded, approved resident and what the worker that owns
// it has been told about it.
type resident struct {
	id, email string
	// attempts are the failed logins counted against the email since the
	// last right password (the identifier lock's counter).
	attempts int
	locked   bool
	resetOne bool // had its reset request (one each: the second within the cooldown would queue nothing)
	sessions int  // live sessions: logins less logouts
}

// liveSession is a session a login answered: its cookie ("name=value")
// and CSRF token.
type liveSession struct {
	owner        *resident
	cookie, csrf string
}

// source is a client address and what the API's per-IP limits counted
// against it. A worker moves to a new address (newSource) once its
// budget is spent, so no request of the scenario meets an IP limit, as
// many clients would not: the limits the scenario meets are the ones it
// means to (the identifier lock).
type source struct {
	ip        string
	counted   int
	budget    int
	client    *http.Client
	transport *http.Transport
}

// addresses hands out loopback addresses (127.0.0.0/8 is all the local
// host's) to be the load's clients, each once.
type addresses struct{ next atomic.Int64 }

func (a *addresses) newSource(budget int) *source {
	n := a.next.Add(1) - 1
	ip := fmt.Sprintf("127.%d.%d.%d", 10+n/62500, n/250%250, n%250+1)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	t := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 1, DisableCompression: true}
	c := &http.Client{Transport: t, Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &source{ip: ip, budget: budget, client: c, transport: t}
}

// The per-IP budgets are the API's default limits (the scenario runs the
// API with them): a source is retired when the next counted request would
// be refused.
var (
	loginBudget    = throttle.DefaultLimits.LoginIP.Max
	resetBudget    = throttle.DefaultLimits.ResetIP.Max
	registerBudget = throttle.DefaultLimits.RegisterIP.Max
)

// uniques numbers the emails and phone numbers workers invent, so none
// repeats in a run.
var uniques atomic.Int64

// worker sends one request at a time (a closed loop) and keeps the record.
type worker struct {
	api       string
	rng       *rand.Rand
	residents []*resident
	// victim takes victimShare of the wrong passwords: it is locked after
	// the fifth, and every later attempt is refused before any password
	// work. It never logs in with the right password.
	victim      *resident
	victimShare float64
	live        []liveSession
	addrs       *addresses
	login       *source // session checks, logins and logouts; budget: failed logins
	reset       *source // reset requests
	register    *source // registrations
	retired     []*source
	counter     *callCounter // the calls phase: each outcome gets the calls it made
	outcomes    []outcome
	// exhausted counts known-email reset requests the mix picked after
	// every resident of the worker had had its one: another kind went
	// instead.
	exhausted int
	// stuck: every resident is locked, so no login can succeed; the
	// worker stops (an error outcome says why).
	stuck bool
}

func newWorker(api string, seed uint64, rs []*resident, addrs *addresses, victimShare float64) *worker {
	return &worker{
		api: api, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		residents: rs[1:], victim: rs[0], victimShare: victimShare, addrs: addrs,
		login: addrs.newSource(loginBudget), reset: addrs.newSource(resetBudget), register: addrs.newSource(registerBudget),
	}
}

// close drops the worker's idle connections.
func (w *worker) close() {
	for _, s := range append(w.retired, w.login, w.reset, w.register) {
		s.transport.CloseIdleConnections()
	}
}

// runMixed sends requests of kinds drawn by mixWeights until deadline.
func (w *worker) runMixed(deadline time.Time) {
	total := 0
	for _, p := range mixWeights {
		total += p
	}
	for !w.stuck && time.Now().Before(deadline) {
		n, k := w.rng.IntN(total), kind(0)
		for n >= mixWeights[k] {
			n -= mixWeights[k]
			k++
		}
		if k == kindReset && w.unreset() == nil {
			w.exhausted++
			continue
		}
		w.do(k)
	}
}

// do sends one request of kind k (and the login first that a session
// check or a logout needs when the worker has no live session).
func (w *worker) do(k kind) {
	switch k {
	case kindSession:
		w.sessionCheck()
	case kindLogin:
		w.logIn()
	case kindWrongPassword:
		w.wrongPassword()
	case kindUnknownLogin:
		w.unknownLogin()
	case kindLogout:
		w.logOut()
	case kindReset:
		w.resetKnown()
	case kindUnknownReset:
		w.resetUnknown()
	case kindRegister:
		w.registerNew()
	}
}

// answer is a response with its body read.
type answer struct {
	res  *http.Response
	body []byte
}

// send sends one request from src and records it: status, latency, the
// request id, and in the calls phase the DynamoDB calls it made (all of
// them are made before the answer is written, and only this request is
// in flight).
func (w *worker) send(k kind, src *source, method, path string, body any, header http.Header) (*outcome, answer) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	w.outcomes = append(w.outcomes, outcome{kind: k, ip: src.ip, start: time.Now()})
	o := &w.outcomes[len(w.outcomes)-1]
	req, err := http.NewRequest(method, w.api+path, rd)
	if err != nil {
		o.err = err.Error()
		return o, answer{}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for key, v := range header {
		req.Header[key] = v
	}
	var before calls
	if w.counter != nil {
		before = w.counter.requestCalls()
	}
	o.start = time.Now()
	res, err := src.client.Do(req)
	var a answer
	if err == nil {
		a.res = res
		a.body, err = io.ReadAll(res.Body)
		_ = res.Body.Close()
	}
	o.latency = time.Since(o.start)
	if w.counter != nil {
		o.calls = w.counter.requestCalls().minus(before)
	}
	if err != nil {
		o.err = err.Error()
		return o, a
	}
	o.status, o.requestID = res.StatusCode, res.Header.Get("X-Request-Id")
	return o, a
}

// expect marks o an error unless it was answered with status.
func expect(o *outcome, a answer, status int) bool {
	if o.err != "" {
		return false
	}
	if o.status != status {
		o.err = fmt.Sprintf("answered %d %s, expected %d", o.status, errorCode(a.body), status)
		return false
	}
	return true
}

// errorCode is the code of an API error body, or the body's start.
func errorCode(body []byte) string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Code != "" {
		return e.Error.Code
	}
	return strings.TrimSpace(string(body[:min(len(body), 80)]))
}

// spend counts one request against src's budget, moving the worker to a
// new address when it is spent.
func (w *worker) spend(src **source) {
	s := *src
	if s.counted++; s.counted < s.budget {
		return
	}
	s.transport.CloseIdleConnections()
	w.retired = append(w.retired, s)
	*src = w.addrs.newSource(s.budget)
}

// nobody is an email no account has.
func nobody() string { return fmt.Sprintf("nobody-%d@example.com", uniques.Add(1)) }

func (w *worker) sessionCheck() {
	s, ok := w.liveSession()
	if !ok {
		return
	}
	o, a := w.send(kindSession, w.login, http.MethodGet, "/v1/resident/session", nil, http.Header{"Cookie": {s.cookie}})
	o.account = s.owner.id
	expect(o, a, http.StatusOK)
}

// liveSession is one of the worker's live sessions, after a login when it
// has none (false: that login failed).
func (w *worker) liveSession() (liveSession, bool) {
	if len(w.live) == 0 && !w.logIn() {
		return liveSession{}, false
	}
	return w.live[w.rng.IntN(len(w.live))], true
}

// logIn logs in as one of the worker's residents that is not locked, and
// reports whether a live session came of it.
func (w *worker) logIn() bool {
	var open []*resident
	for _, r := range w.residents {
		if !r.locked {
			open = append(open, r)
		}
	}
	if len(open) == 0 {
		// Every resident locked: the run cannot go on as designed.
		w.stuck = true
		w.outcomes = append(w.outcomes, outcome{kind: kindLogin, start: time.Now(), err: "every resident of the worker is locked: give it more (-accounts)"})
		return false
	}
	r := open[w.rng.IntN(len(open))]
	o, a := w.send(kindLogin, w.login, http.MethodPost, "/v1/resident/login", map[string]string{"identifier": r.email, "password": residentPassword}, nil)
	o.account = r.id
	if !w.judgeLogin(o, a, r, true) {
		return false
	}
	s := liveSession{owner: r}
	for _, c := range a.res.Cookies() {
		switch c.Name {
		case "ekolek_session":
			s.cookie = c.Name + "=" + c.Value
		case "ekolek_csrftoken":
			s.csrf = c.Value
		}
	}
	if s.cookie == "" || s.csrf == "" {
		o.err = "a login answered 200 without the session and CSRF cookies"
		return false
	}
	w.live = append(w.live, s)
	return true
}

func (w *worker) wrongPassword() {
	r := w.victim
	if w.rng.Float64() >= w.victimShare {
		r = w.residents[w.rng.IntN(len(w.residents))]
	}
	o, a := w.send(kindWrongPassword, w.login, http.MethodPost, "/v1/resident/login", map[string]string{"identifier": r.email, "password": "not the password of " + r.email}, nil)
	o.account = r.id
	w.judgeLogin(o, a, r, false)
}

// judgeLogin checks a login's answer against the record of r and updates
// the record from it: a refusal while r is locked, else the right
// password's 200 (r's attempts cleared, one session more) or the wrong
// one's 401 (one attempt more, and at the limit the lock). It reports
// whether the login succeeded.
func (w *worker) judgeLogin(o *outcome, a answer, r *resident, right bool) bool {
	want := http.StatusUnauthorized
	switch {
	case r.locked:
		want = http.StatusTooManyRequests
	case right:
		want = http.StatusOK
	}
	if !expect(o, a, want) {
		return false
	}
	switch want {
	case http.StatusTooManyRequests:
		o.events = []audit.Type{audit.RateLimited}
	case http.StatusOK:
		r.attempts = 0
		r.sessions++
		o.events = []audit.Type{audit.LoginSucceeded}
		return true
	default:
		w.spend(&w.login)
		r.attempts++
		o.events = []audit.Type{audit.LoginFailed}
		if r.attempts == throttle.DefaultLimits.LoginFailures.Max {
			r.locked = true
			o.events = append(o.events, audit.LoginLocked)
		}
	}
	return false
}

func (w *worker) unknownLogin() {
	o, a := w.send(kindUnknownLogin, w.login, http.MethodPost, "/v1/resident/login", map[string]string{"identifier": nobody(), "password": residentPassword}, nil)
	if expect(o, a, http.StatusUnauthorized) {
		w.spend(&w.login)
		o.events = []audit.Type{audit.LoginFailed}
	}
}

func (w *worker) logOut() {
	s, ok := w.liveSession()
	if !ok {
		return
	}
	o, a := w.send(kindLogout, w.login, http.MethodPost, "/v1/resident/logout", nil,
		http.Header{"Cookie": {s.cookie + "; ekolek_csrftoken=" + s.csrf}, "X-Csrf-Token": {s.csrf}})
	o.account = s.owner.id
	if !expect(o, a, http.StatusNoContent) {
		return
	}
	o.events = []audit.Type{audit.Logout}
	s.owner.sessions--
	w.live = slices.DeleteFunc(w.live, func(l liveSession) bool { return l.cookie == s.cookie })
}

// unreset is a resident of the worker that has not had its reset request.
func (w *worker) unreset() *resident {
	if !w.victim.resetOne {
		return w.victim
	}
	for _, r := range w.residents {
		if !r.resetOne {
			return r
		}
	}
	return nil
}

func (w *worker) resetKnown() {
	r := w.unreset()
	r.resetOne = true
	o, a := w.send(kindReset, w.reset, http.MethodPost, "/v1/resident/password-reset", map[string]string{"identifier": r.email, "channel": "email"}, nil)
	o.account = r.id
	if expect(o, a, http.StatusAccepted) {
		w.spend(&w.reset)
		o.events = []audit.Type{audit.PasswordResetRequested}
	}
}

func (w *worker) resetUnknown() {
	o, a := w.send(kindUnknownReset, w.reset, http.MethodPost, "/v1/resident/password-reset", map[string]string{"identifier": nobody(), "channel": "email"}, nil)
	if expect(o, a, http.StatusAccepted) {
		w.spend(&w.reset)
		o.events = []audit.Type{audit.PasswordResetRequested}
	}
}

func (w *worker) registerNew() {
	n := uniques.Add(1)
	o, a := w.send(kindRegister, w.register, http.MethodPost, "/v1/resident/register", map[string]string{
		"first_name": "Bagong", "last_name": "Residente", "email": fmt.Sprintf("new-%d@example.com", n),
		"phone": fmt.Sprintf("0918%07d", n), "barangay": "Landayan", "password": registrationPassword,
	}, nil)
	if !expect(o, a, http.StatusCreated) {
		return
	}
	w.spend(&w.register)
	var v struct {
		Account struct{ ID string } `json:"account"`
	}
	if err := json.Unmarshal(a.body, &v); err != nil || v.Account.ID == "" {
		o.err = fmt.Sprintf("a registration answered 201 without the account's id: %.80s", a.body)
		return
	}
	o.account = v.Account.ID
	o.events = []audit.Type{audit.AccountRegistered}
}
