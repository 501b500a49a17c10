// Package httpapi is the HTTP face of the identity platform: one route table,
// one http.Handler that every Lambda function and the local API serve.
package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/contact"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/reset"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/text"
	"github.com/ekolek/identity/shared/throttle"
)

// MaxBodyBytes is the largest request body accepted.
const MaxBodyBytes = 16 << 10

// Deps is what the handler needs.
type Deps struct {
	Accounts *account.Service
	// Checks read phone numbers and judge new passwords; a function has
	// those its routes need (Route.Needs).
	Checks   account.Checks
	Sessions *session.Manager
	Contact  *contact.Service
	Reset    *reset.Service
	Guard    *throttle.Guard
	Audit    *audit.Recorder
	// Events is where GET /v1/admin/security-events reads.
	Events audit.Store
	// Outbox is the local outbox GET /dev/outbox shows; nil when messages
	// really go out.
	Outbox     outbox.Store
	Clock      clock.Clock
	Log        *slog.Logger
	Production bool
	// ResetFloor overrides ResetRequestFloor (tests).
	ResetFloor time.Duration
}

// API serves the routes of the table it was built with.
type API struct {
	Deps
	routes  []Route
	cookies cookieNames
}

// New returns the handler for the routes of the named functions, or of every
// route when none is named (the local API).
func New(d Deps, functions ...string) (*API, error) {
	a := &API{Deps: d, cookies: namesFor(d.Production)}
	for _, r := range Table {
		if r.LocalOnly && (len(functions) > 0 || d.Production) {
			continue
		}
		if len(functions) == 0 || slices.Contains(functions, r.Function) {
			a.routes = append(a.routes, r)
		}
	}
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
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri))
	if r.Method == http.MethodHead {
		// The GET's answer without its body. The Lambda proxy adapter would
		// send a body written to it, so it is held back here, for both.
		hw := &headWriter{ResponseWriter: w}
		defer hw.finish()
		w = hw
	}
	sw := &statusWriter{ResponseWriter: w}
	a.securityHeaders(sw.Header(), ri.id)

	defer func() {
		if v := recover(); v != nil {
			a.Log.Error("panic", "request_id", ri.id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !sw.wrote {
				writeError(sw, errInternal)
			}
		}
		a.Log.Info("request", "request_id", ri.id, "method", r.Method, "route", ri.route,
			"status", sw.status, "duration_ms", float64(time.Since(start).Microseconds())/1000, "ip", ri.ip)
	}()

	route, p, allowed := a.match(r.Method, r.URL.Path)
	if route == nil {
		if len(allowed) > 0 {
			sw.Header().Set("Allow", strings.Join(allowed, ", "))
			writeError(sw, &apiError{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "Allowed: " + strings.Join(allowed, ", ") + "."})
			return
		}
		writeError(sw, errNotFound)
		return
	}
	ri.route = route.Method + " " + route.Path
	if changesState(r.Method) {
		switch {
		case !hasBody(r):
			// Nothing to read, so no type to check: a browser's fetch of a
			// DELETE or a bodyless logout sends no Content-Type.
			r.Body = http.NoBody
		case !isJSON(r.Header.Get("Content-Type")):
			writeError(sw, errUnsupportedMedia)
			return
		case r.ContentLength > MaxBodyBytes:
			writeError(sw, errTooLarge)
			return
		default:
			r.Body = http.MaxBytesReader(sw, r.Body, MaxBodyBytes)
		}
	}
	if err := route.handle(a, sw, r, p); err != nil {
		e := errorFor(err)
		if e == errInternal || e == errUnavailable {
			a.Log.Error("request failed", "request_id", ri.id, "route", ri.route, "error", err.Error())
		}
		writeError(sw, e)
	}
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

func (a *API) securityHeaders(h http.Header, id string) {
	h.Set("X-Request-Id", id)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if a.Production {
		h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
}

// match finds the route for method and path. When the path exists with other
// methods only, it returns those in allowed.
func (a *API) match(method, path string) (*Route, params, []string) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var allowed []string
	for i := range a.routes {
		rt := &a.routes[i]
		p, ok := rt.matchPath(segs)
		if !ok {
			continue
		}
		if slices.Contains(rt.Methods(), method) {
			return rt, p, nil
		}
		for _, m := range rt.Methods() {
			if !slices.Contains(allowed, m) {
				allowed = append(allowed, m)
			}
		}
	}
	return nil, nil, allowed
}

func (rt *Route) matchPath(segs []string) (params, bool) {
	pat := strings.Split(strings.TrimPrefix(rt.Path, "/"), "/")
	if len(pat) != len(segs) {
		return nil, false
	}
	var p params
	for i, s := range pat {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			if segs[i] == "" {
				return nil, false
			}
			if p == nil {
				p = params{}
			}
			p[s[1:len(s)-1]] = segs[i]
			continue
		}
		if s != segs[i] {
			return nil, false
		}
	}
	if rt.Realms != nil && !slices.Contains(rt.Realms, p.realm()) {
		return nil, false
	}
	if rt.Realms == nil {
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
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
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

// decode reads a JSON object body into dst: unknown fields, trailing data,
// wrong types and oversized bodies are client errors naming what is wrong.
// An empty body is allowed only when optional.
//
// JSON that two readers could read two ways is refused: a key given twice
// (encoding/json keeps the last, a WAF or a log reader may keep the first)
// and a key that names a field only case-insensitively (encoding/json would
// take "EMAIL" for "email"). Every string that reaches dst is in NFC and
// free of invisible characters (package text), except the fields tagged
// text:"verbatim" (passwords: compared byte for byte as typed, so that the
// hashes stored before stay good).
func decode(r *http.Request, dst any, optional bool) error {
	data, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errTooLarge
	}
	if err != nil {
		return errInvalid("The request body could not be read.", nil)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 && optional {
		return nil
	}
	if len(data) == 0 || data[0] != '{' {
		return errInvalid("The request body must be a JSON object.", nil)
	}
	keys := json.NewDecoder(bytes.NewReader(data))
	keys.UseNumber()
	if err := checkKeys(keys, reflect.TypeOf(dst), ""); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err = dec.Decode(dst)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			return errInvalid("The request body has data after the JSON object.", nil)
		}
		return normalizeText(reflect.ValueOf(dst), "")
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return errInvalid("A field has the wrong type.", map[string]string{typeErr.Field: "must be " + jsonType(typeErr.Type.Kind().String())})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return errInvalid("The request has a field this route does not take.", map[string]string{fieldName(name): "unknown field"})
	}
	return errInvalid("The request body is not valid JSON.", nil)
}

// errNotJSON is any syntax error checkKeys meets (Decode reports the same).
var errNotJSON = errInvalid("The request body is not valid JSON.", nil)

// checkKeys reads one JSON value from dec, which is to be decoded into a
// value of type t (nil: not known), and refuses keys given twice in one
// object and keys that match a field of t only case-insensitively. path
// names where the value is, for the error's fields.
func checkKeys(dec *json.Decoder, t reflect.Type, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return errNotJSON
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch tok {
	case json.Delim('{'):
		fields := jsonFields(t)
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return errNotJSON
			}
			key, _ := tok.(string)
			name := key
			if path != "" {
				name = path + "." + key
			}
			if seen[key] {
				return errInvalid("The request gives a field twice.", map[string]string{fieldName(name): "given twice"})
			}
			seen[key] = true
			ft, ok := fields[key]
			if !ok {
				for f := range fields {
					if strings.EqualFold(f, key) {
						return errInvalid("The request has a field this route does not take; field names are case-sensitive.",
							map[string]string{fieldName(name): "unknown field; did you mean " + f + "?"})
					}
				}
			}
			if err := checkKeys(dec, ft, name); err != nil {
				return err
			}
		}
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for dec.More() {
			if err := checkKeys(dec, elem, path); err != nil {
				return err
			}
		}
	default:
		return nil
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return errNotJSON
	}
	return nil
}

// jsonFields maps the JSON names of struct type t's fields to their types
// (nil when t is not a struct).
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		if name := jsonName(f); name != "" {
			out[name] = f.Type
		}
	}
	return out
}

// jsonName is the name encoding/json reads field f under, or "" when it
// reads none.
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return f.Name
	}
	return name
}

// normalizeText puts every string reachable from v into NFC, or refuses the
// first that holds an invisible character, naming its field. Fields tagged
// text:"verbatim" are left as they came.
func normalizeText(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			return normalizeText(v.Elem(), path)
		}
	case reflect.String:
		s, err := text.Normalize(v.String())
		if err != nil {
			return errInvalid("A field holds invisible characters.", map[string]string{fieldName(path): err.Error()})
		}
		v.SetString(s)
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := normalizeText(v.Index(i), path); err != nil {
				return err
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			name := jsonName(f)
			if name == "" || f.Tag.Get("text") == "verbatim" {
				continue
			}
			if path != "" {
				name = path + "." + name
			}
			if err := normalizeText(v.Field(i), name); err != nil {
				return err
			}
		}
	}
	return nil
}

// fieldName is a field name as the error's fields show it: at most 64 bytes.
func fieldName(name string) string {
	if len(name) > 64 {
		return strings.ToValidUTF8(name[:64], "") + "…"
	}
	return name
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "bool":
		return "true or false"
	case "struct", "map":
		return "an object"
	}
	return "a number"
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

// statusWriter remembers the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
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
	return w.ResponseWriter.Write(b)
}
