// Package httpapi is the HTTP face of the identity platform: one route table,
// one http.Handler that every Lambda function and the local API serve.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/auth"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/contact"
	"github.com/ekolek/identity/shared/logging"
	"github.com/ekolek/identity/shared/mfa"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/reset"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/throttle"
)

// MaxBodyBytes is the largest request body accepted.
const MaxBodyBytes = 16 << 10

// Deps is what the handler needs.
type Deps struct {
	Accounts *account.Service
	// Auth runs the login and password-change use cases.
	Auth *auth.Service
	// Checks read phone numbers and judge new passwords; a function's
	// handler has only those its routes declare (Route.Needs).
	Checks   account.Checks
	Sessions *session.Manager
	Contact  *contact.Service
	Reset    *reset.Service
	Guard    *throttle.Guard
	Audit    *audit.Recorder
	// MFA is the second factor's service.
	MFA *mfa.Service
	// Passkeys are the WebAuthn ceremonies (the optional part; nil in a
	// function whose routes do not declare NeedsPasskey).
	Passkeys mfa.Passkeys
	// Events is where GET /v1/admin/security-events reads.
	Events audit.Store
	// Pages serves the pages (package web) for GET / and GET /{proxy+};
	// nil in a function without them.
	Pages http.Handler
	// Outbox is the outbox GET /dev/outbox shows (local mode only).
	Outbox     *outbox.Reader
	Clock      clock.Clock
	Log        *slog.Logger
	Production bool
	// CodeRouteFloor overrides the package's CodeRouteFloor (tests).
	CodeRouteFloor time.Duration
	// RequestTimeout bounds a request whose context has no deadline of its
	// own (the local API); 0 is config.DefaultRequestTimeout.
	RequestTimeout time.Duration
}

// API serves the routes of the table it was built with.
type API struct {
	Deps
	routes  []mounted
	cookies cookieNames
	// fixed are the headers of every answer whose values never change
	// (securityHeaders), dates the Date header's text (date).
	fixed []fixedHeader
	dates atomic.Pointer[dateText]
	// failures holds back repeated failure lines (logFailure).
	failures *logging.Repeats
}

// New returns the handler for the routes of the named functions, or of every
// route when none is named (the local API).
func New(d Deps, functions ...string) (*API, error) {
	a := &API{Deps: d, cookies: namesFor(d.Production), failures: logging.NewRepeats(FailureLogInterval)}
	for _, r := range Table {
		if r.LocalOnly && (len(functions) > 0 || d.Production) {
			continue
		}
		if len(functions) == 0 || slices.Contains(functions, r.Function) {
			a.routes = append(a.routes, mount(r))
		}
	}
	a.fixed = fixedHeaders(d.Production)
	for _, f := range functions {
		if !slices.Contains(Functions(), f) {
			return nil, fmt.Errorf("httpapi: unknown function %q", f)
		}
	}
	return a, nil
}

// params are a matched route's path parameters.
type params map[string]string

// realm is the {realm} parameter or the realm the path names outright.
func (p params) realm() account.Realm { return account.Realm(p["realm"]) }

type ctxKey struct{}

// reqInfo is what every handler and log line knows about the request.
type reqInfo struct {
	id    string
	ip    string
	ua    string
	route string
	// caller is the account id of the session authenticate accepted, "" for
	// a caller without one.
	caller string
}

// requester is who is asking, as the domain's security events record it.
func (ri *reqInfo) requester() auth.Requester {
	return auth.Requester{RequestID: ri.id, IP: ri.ip, UserAgent: ri.ua}
}

func info(r *http.Request) *reqInfo {
	if ri, ok := r.Context().Value(ctxKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

// ServeHTTP runs the fixed pipeline: request id and security headers, panic
// recovery, routing, media type and size checks, then the route's handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ri := &reqInfo{id: requestID(r), ip: clientIP(r), ua: r.UserAgent()}
	client := r.Context() // the caller's own: it ends when the client goes away
	ctx, cancel := context.WithDeadline(client, a.deadline(client, start))
	defer cancel()
	r = r.WithContext(context.WithValue(ctx, ctxKey{}, ri))
	// sw is next to the connection: it sees what is really written.
	sw := &statusWriter{ResponseWriter: w}
	out := http.ResponseWriter(sw)
	var hw *headWriter
	if r.Method == http.MethodHead {
		// The GET's answer without its body. The Lambda proxy adapter would
		// send a body written to it, so it is held back here, for both.
		hw = &headWriter{ResponseWriter: sw}
		out = hw
	}
	a.securityHeaders(out.Header(), ri.id)

	defer func() {
		if v := recover(); v != nil {
			a.Log.Error("panic", "request_id", ri.id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !sw.wrote && (hw == nil || hw.status == 0) {
				writeError(out, errInternal)
			}
		}
		if hw != nil {
			hw.finish()
		}
		// What went out: the status and body bytes written, and whether
		// the answer reached the client (written false, and why not).
		// Typed attributes: key-value pairs would box each value, on
		// every request.
		lost := sw.deliver(client)
		var line [9]slog.Attr
		attrs := append(line[:0], slog.String("request_id", ri.id), slog.String("method", r.Method), slog.String("route", ri.route),
			slog.Int("status", sw.status), slog.Int("bytes", sw.bytes), slog.Bool("written", lost == ""))
		if lost != "" {
			attrs = append(attrs, slog.String("write_error", lost))
		}
		attrs = append(attrs, slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000), slog.String("ip", ri.ip))
		a.Log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	}()
	route, p, allowed := a.match(r.Method, r.URL.Path)
	if route == nil {
		if len(allowed) > 0 {
			out.Header().Set("Allow", strings.Join(allowed, ", "))
			writeError(out, &apiError{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "Allowed: " + strings.Join(allowed, ", ") + "."})
			return
		}
		writeError(out, errNotFound)
		return
	}
	ri.route = route.name
	if changesState(r.Method) {
		switch {
		case !hasBody(r):
			// Nothing to read, so no type to check: a browser's fetch of a
			// DELETE or a bodyless logout sends no Content-Type.
			r.Body = http.NoBody
		case !isJSON(r.Header.Get("Content-Type")):
			writeError(out, errUnsupportedMedia)
			return
		case r.ContentLength > MaxBodyBytes:
			writeError(out, errTooLarge)
			return
		default:
			r.Body = http.MaxBytesReader(out, r.Body, MaxBodyBytes)
		}
	}
	if err := route.handle(a, out, r, p); err != nil {
		e := errorFor(err)
		if e == errInternal || e == errUnavailable || e == errOutcomeUnknown {
			a.logFailure(ri, e, err)
		}
		writeError(out, e)
	}
}

// FailureLogInterval is how often each kind of failed request is logged
// in detail (logFailure).
const FailureLogInterval = 10 * time.Second

// logFailure logs why a request failed (a 500 or a 503). Of each kind
// (the answer's code, the class of its cause, the route) the first is
// logged at once, and the rest within FailureLogInterval are only counted,
// their count going out with the first line of that kind after it
// (`suppressed`): an outage fails every request alike, and its cause
// needs a line, not thousands. Every request's access line still has its
// status and request id.
func (a *API) logFailure(ri *reqInfo, e *apiError, err error) {
	kind := e.Code + " " + causeOf(err) + " " + ri.route
	write, held := a.failures.Take(kind, a.Clock.Now())
	if !write {
		return
	}
	a.Log.Error("request failed", "request_id", ri.id, "route", ri.route, "kind", kind, "suppressed", held, "error", err.Error())
}

// causeOf is the class of what failed a request, for grouping its log
// lines: the deadline passed, the client went away, the store failed
// otherwise (refused, unreachable), or anything else.
func causeOf(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, store.ErrOutcomeUnknown):
		return "store"
	}
	return "other"
}

// AnswerMargin is the time a request keeps, before its invocation's
// deadline, to write its answer: past deadline − AnswerMargin the store
// and message calls are cancelled and the answer is 503 `unavailable`,
// sent while Lambda still waits for it instead of a timeout.
const AnswerMargin = 500 * time.Millisecond

// deadline is when the request's calls stop: the invocation's deadline
// less AnswerMargin when ctx has one (Lambda), else RequestTimeout from
// start (the local API), so every route has one.
func (a *API) deadline(ctx context.Context, start time.Time) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d.Add(-AnswerMargin)
	}
	if a.RequestTimeout > 0 {
		return start.Add(a.RequestTimeout)
	}
	return start.Add(config.DefaultRequestTimeout)
}

// event records a security event about this request.
func (a *API) event(r *http.Request, t audit.Type, realm account.Realm, accountID, identifier string, details map[string]string) {
	a.Audit.Record(r.Context(), a.eventOf(r, t, realm, accountID, identifier, details))
}

func (a *API) eventOf(r *http.Request, t audit.Type, realm account.Realm, accountID, identifier string, details map[string]string) audit.Event {
	ri := info(r)
	return audit.Event{
		Type: t, Realm: realm, AccountID: accountID, Identifier: identifier,
		IP: ri.ip, UserAgent: ri.ua, RequestID: ri.id, Details: details,
	}
}

// strangerEvent records an event that a caller without a session can cause
// on every request at no cost (a CSRF failure with a made-up cookie, a
// refusal by a limit). Of those from one client IP, at most one per type and
// minute is stored (Recorder.RecordRepeated); every one is logged. The
// count is kept on the store, so it holds across Lambda instances. A
// failure to count is logged and the event recorded as any other: the event
// is best effort and never changes the answer.
func (a *API) strangerEvent(r *http.Request, t audit.Type, realm account.Realm, identifier string, details map[string]string) {
	ri := info(r)
	n, err := a.Guard.Occurrence(r.Context(), "event:"+string(t), ri.ip)
	if err != nil {
		a.Log.Warn("security event not folded", "request_id", ri.id, "type", string(t), "error", err.Error())
	}
	a.Audit.RecordRepeated(r.Context(), a.eventOf(r, t, realm, "", identifier, details), n)
}

// refused records a request a limit turned away, and returns the error to
// answer with. Only an authenticated caller's refusals are each stored.
func (a *API) refused(r *http.Request, realm account.Realm, identifier string, err error) error {
	var ref *throttle.Refused
	if errors.As(err, &ref) {
		details := map[string]string{"limit": string(ref.Limit), "route": info(r).route}
		if caller := info(r).caller; caller != "" {
			a.event(r, audit.RateLimited, realm, caller, identifier, details)
		} else {
			a.strangerEvent(r, audit.RateLimited, realm, identifier, details)
		}
	}
	return err
}

// fixedHeader is a header of every answer with a value that never changes;
// name is in canonical form.
type fixedHeader struct{ name, value string }

func fixedHeaders(production bool) []fixedHeader {
	h := []fixedHeader{
		{"Cache-Control", "no-store"},
		{"X-Content-Type-Options", "nosniff"},
		{"Referrer-Policy", "no-referrer"},
		{"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"},
		{"X-Frame-Options", "DENY"},
		{"Cross-Origin-Resource-Policy", "same-origin"},
	}
	if production {
		h = append(h, fixedHeader{"Strict-Transport-Security", "max-age=31536000; includeSubDomains"})
	}
	return h
}

// securityHeaders sets the headers every answer has: the request id, the
// Date, and the fixed ones. Every value shares one new backing array (a
// Header.Set each would cost an allocation each, on every request); each
// is its own slice of capacity one, so an Add never writes into another.
func (a *API) securityHeaders(h http.Header, id string) {
	vals := make([]string, 2, 2+len(a.fixed))
	vals[0], vals[1] = id, a.date()
	h["X-Request-Id"] = vals[0:1:1]
	h["Date"] = vals[1:2:2]
	for _, f := range a.fixed {
		i := len(vals)
		vals = append(vals, f.value)
		h[f.name] = vals[i : i+1 : i+1]
	}
}

// dateText is the Date header's text for one second.
type dateText struct {
	sec  int64
	text string
}

// date is the Date header: the API's own clock, so the times in an answer
// (a session's deadlines) and its Date agree and a page can correct its
// own clock by it. It is formatted once a second, not once a request.
func (a *API) date() string {
	now := a.Clock.Now()
	if d := a.dates.Load(); d != nil && d.sec == now.Unix() {
		return d.text
	}
	d := &dateText{sec: now.Unix(), text: now.UTC().Format(http.TimeFormat)}
	a.dates.Store(d)
	return d.text
}

// match finds the route for method and path. When the path exists with other
// methods only, it returns those in allowed.
func (a *API) match(method, path string) (*mounted, params, []string) {
	if !strings.HasPrefix(path, "/") {
		// "OPTIONS *" and the like: no route has them.
		return nil, nil, nil
	}
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var allowed []string
	for i := range a.routes {
		m := &a.routes[i]
		p, ok := m.matchPath(segs)
		if !ok {
			continue
		}
		if slices.Contains(m.methods, method) {
			return m, p, nil
		}
		for _, m := range m.methods {
			if !slices.Contains(allowed, m) {
				allowed = append(allowed, m)
			}
		}
	}
	return nil, nil, allowed
}

func isParam(seg string) bool { return strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") }

// mounted is a route as the API serves it: its path split into segments
// and its methods, worked out once in New rather than on every request.
type mounted struct {
	*Route
	// name is the route as the access log names it: "GET /v1/{realm}/session".
	name    string
	methods []string
	// pat are the path's segments; a greedy last one ({name+}) is
	// written {name}, with greedy set.
	pat    []string
	greedy bool
}

func mount(r Route) mounted {
	m := mounted{Route: &r, name: r.Method + " " + r.Path, methods: r.Methods(), pat: strings.Split(strings.TrimPrefix(r.Path, "/"), "/")}
	if last := m.pat[len(m.pat)-1]; strings.HasSuffix(last, "+}") {
		m.greedy = true
		m.pat[len(m.pat)-1] = strings.TrimSuffix(last, "+}") + "}"
	}
	return m
}

func (m *mounted) matchPath(segs []string) (params, bool) {
	pat := m.pat
	if m.greedy {
		// Greedy: the rest of the path, one segment or more.
		n := len(pat) - 1
		if len(segs) <= n || segs[n] == "" || apiSpace(segs[0]) {
			return nil, false
		}
		segs = append(segs[:n:n], strings.Join(segs[n:], "/"))
	}
	if len(pat) != len(segs) {
		return nil, false
	}
	// Every route is tried until one matches: the parameters are
	// collected only for the one that does.
	var realm account.Realm
	for i, s := range pat {
		switch {
		case !isParam(s):
			if s != segs[i] {
				return nil, false
			}
		case segs[i] == "":
			return nil, false
		case s == "{realm}":
			realm = account.Realm(segs[i])
		}
	}
	if m.Realms != nil && !slices.Contains(m.Realms, realm) {
		return nil, false
	}
	var p params
	for i, s := range pat {
		if isParam(s) {
			if p == nil {
				p = make(params, len(pat))
			}
			p[s[1:len(s)-1]] = segs[i]
		}
	}
	if m.Realms == nil && len(pat) > 1 {
		// Realm-specific paths name their realm as the second segment.
		if p == nil {
			p = params{}
		}
		p["realm"] = pat[1]
	}
	return p, true
}

// hasBody reports whether r comes with a body. A server request without
// one has ContentLength 0 and no Transfer-Encoding (net/http gives it
// http.NoBody); the Lambda proxy adapter builds the request from the
// event's body string, so an empty string is ContentLength 0 too. A chunked
// body has ContentLength -1: it counts as a body, however short.
func hasBody(r *http.Request) bool {
	return r.ContentLength != 0 || len(r.TransferEncoding) > 0
}

// changesState reports whether method is unsafe in the HTTP sense: its body,
// if it has one, must be JSON, and with a session it needs the CSRF header.
func changesState(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// requestID is API Gateway's request id when there is one, else a new random id.
func requestID(r *http.Request) string {
	if gw, ok := core.GetAPIGatewayContextFromContext(r.Context()); ok && gw.RequestID != "" {
		return gw.RequestID
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	var h [32]byte
	hex.Encode(h[:], b[:])
	return string(h[:]) // one allocation; hex.EncodeToString makes two
}

// clientIP is the source IP API Gateway saw (the proxy adapter puts it in
// RemoteAddr), or the TCP peer locally. X-Forwarded-For is never read: any
// client can write it.
func clientIP(r *http.Request) string {
	if gw, ok := core.GetAPIGatewayContextFromContext(r.Context()); ok && gw.Identity.SourceIP != "" {
		return gw.Identity.SourceIP
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// headWriter answers a HEAD request as the GET would be answered: the same
// status and headers, and the length of the body it holds back.
type headWriter struct {
	http.ResponseWriter
	status, length int
}

func (w *headWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *headWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.length += len(b)
	return len(b), nil
}

// finish sends the status and headers, once the handler is done.
func (w *headWriter) finish() {
	w.WriteHeader(http.StatusOK)
	if w.status != http.StatusNoContent && w.status != http.StatusNotModified {
		w.Header().Set("Content-Length", strconv.Itoa(w.length))
	}
	w.ResponseWriter.WriteHeader(w.status)
}

// statusWriter remembers, for the access log, the status and the body
// bytes written to the connection, and the first write that failed.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
	bytes  int
	err    error
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// deliver sends what is buffered and says why the answer did not reach
// the client, or "" when nothing says it did not: a write or the flush
// failed (the connection broke, its write deadline passed), or client,
// the request's own context, ended before the answer was complete (the
// client went away; on Lambda, the invocation's deadline passed). On
// Lambda the proxy adapter's Flush does nothing: the answer goes out
// after the handler returns.
func (w *statusWriter) deliver(client context.Context) string {
	// Looked at before sending: a client that hangs up once it has the
	// answer was answered.
	gone := client.Err()
	if err := http.NewResponseController(w).Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) && w.err == nil {
		w.err = err
	}
	switch {
	case w.err != nil:
		return w.err.Error()
	case errors.Is(gone, context.Canceled):
		return "client went away"
	case gone != nil:
		return context.Cause(client).Error()
	}
	return ""
}
