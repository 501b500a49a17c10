package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/ekolek/identity/shared/account"
)

// Route is one row of the route table: the single source of truth for which
// Lambda function serves which method and path. template.yaml and events/ are
// checked against it.
type Route struct {
	// Function is the Lambda function (functions/<Function>) that serves the route.
	Function string
	// Method is the HTTP method.
	Method string
	// Path is the API Gateway resource path; {name} segments are parameters.
	// A last segment {name+} is API Gateway's greedy parameter: one or more
	// segments, here never those of the API's own paths (/v1/..., /dev/...),
	// which answer 404 JSON when no route has them.
	Path string
	// Realms lists the values the {realm} parameter may take; nil when Path has none.
	Realms []account.Realm
	// LocalOnly routes are served by the local API in local mode only; no
	// Lambda function or template resource has them.
	LocalOnly bool
	// Needs are the optional parts of the system the route uses; its
	// function links them, and its handler has no others (app.PartTable).
	Needs Needs

	handle func(a *API, w http.ResponseWriter, r *http.Request, p params) error
}

// Methods are the HTTP methods the route answers: its Method, and HEAD
// beside a GET (answered as the GET, without the body). API Gateway routes
// each of them to the function (template.yaml has an event for each).
func (r Route) Methods() []string {
	if r.Method == http.MethodGet {
		return []string{http.MethodGet, http.MethodHead}
	}
	return []string{r.Method}
}

// Needs is a set of the optional parts of the system: each is large or slow
// to start (docs/deploy.md has the numbers), so only the functions whose
// routes declare it link it. app.PartTable says what provides each.
type Needs uint8

// The parts.
const (
	// NeedsPhone: reads phone numbers (libphonenumber).
	NeedsPhone Needs = 1 << iota
	// NeedsPasswordPolicy: judges new passwords (zxcvbn).
	NeedsPasswordPolicy
	// NeedsDelivery: delivers email and SMS through AWS (SES, SNS). No
	// route declares it: routes only queue messages in the outbox, which
	// needs no part; function sender, which serves no route, delivers them
	// (app.Background).
	NeedsDelivery
	// NeedsPages: serves the pages (package web). Routes that need only
	// this use no store, no signing key and no notifier (PagesOnly).
	NeedsPages
	// NeedsTOTP: makes or checks TOTP codes (package totp: pquerna/otp and
	// a QR code library).
	NeedsTOTP
	// NeedsDeadLetters: keeps the messages delivery gave up on in the SQS
	// dead-letter queue. Function sender's alone, like NeedsDelivery.
	NeedsDeadLetters
	// NeedsPasskey: runs WebAuthn ceremonies (package passkey:
	// go-webauthn, 4.6 MB).
	NeedsPasskey
)

// NeedsOf is what the routes of the named functions need together (every
// route's needs when none is named: the local API).
func NeedsOf(functions ...string) Needs {
	var n Needs
	for _, r := range Table {
		if len(functions) == 0 || slices.Contains(functions, r.Function) {
			n |= r.Needs
		}
	}
	return n
}

var bothRealms = []account.Realm{account.Resident, account.Admin}

// Table is every route of the v1 API.
var Table = []Route{
	{Function: "login", Method: http.MethodPost, Path: "/v1/{realm}/login", Realms: bothRealms, Needs: NeedsPhone, handle: (*API).login},
	// A login's second step is one person's few seconds after its
	// password: the same warm function.
	{Function: "login", Method: http.MethodPost, Path: "/v1/{realm}/login/mfa", Realms: bothRealms, Needs: NeedsTOTP, handle: (*API).loginMFA},
	{Function: "logout", Method: http.MethodPost, Path: "/v1/{realm}/logout", Realms: bothRealms, handle: (*API).logout},
	{Function: "session", Method: http.MethodGet, Path: "/v1/{realm}/session", Realms: bothRealms, handle: (*API).getSession},
	// The directory is a constant of the configuration: served by the
	// smallest function, which every page already keeps warm
	// (docs/decisions.md).
	{Function: "session", Method: http.MethodGet, Path: "/v1/barangays", handle: (*API).listBarangays},
	{Function: "register", Method: http.MethodPost, Path: "/v1/resident/register", Needs: NeedsPhone | NeedsPasswordPolicy, handle: (*API).register},
	{Function: "admin-residents", Method: http.MethodGet, Path: "/v1/admin/residents", handle: (*API).listResidents},
	{Function: "admin-residents", Method: http.MethodGet, Path: "/v1/admin/residents/{id}", handle: (*API).getResident},
	{Function: "admin-residents", Method: http.MethodPost, Path: "/v1/admin/residents/{id}/{action}", handle: (*API).changeResidentStatus},
	{Function: "register-verify", Method: http.MethodPost, Path: "/v1/resident/register/verify", Needs: NeedsPhone, handle: (*API).verifyContact},
	{Function: "register-verify", Method: http.MethodPost, Path: "/v1/resident/register/resend", Needs: NeedsPhone, handle: (*API).resendContactCode},
	{Function: "reset-request", Method: http.MethodPost, Path: "/v1/{realm}/password-reset", Realms: bothRealms, Needs: NeedsPhone, handle: (*API).requestReset},
	{Function: "reset-verify", Method: http.MethodPost, Path: "/v1/{realm}/password-reset/verify", Realms: bothRealms, Needs: NeedsPhone, handle: (*API).verifyReset},
	{Function: "reset-confirm", Method: http.MethodPost, Path: "/v1/{realm}/password-reset/confirm", Realms: bothRealms, Needs: NeedsPasswordPolicy, handle: (*API).confirmReset},
	{Function: "security-events", Method: http.MethodGet, Path: "/v1/admin/security-events", handle: (*API).listEvents},
	{Function: "admin-admins", Method: http.MethodGet, Path: "/v1/admin/admins", handle: (*API).listAdmins},
	{Function: "admin-admins", Method: http.MethodPost, Path: "/v1/admin/admins", handle: (*API).createAdmin},
	{Function: "admin-admins", Method: http.MethodPatch, Path: "/v1/admin/admins/{id}", handle: (*API).updateAdmin},
	{Function: "sessions", Method: http.MethodGet, Path: "/v1/{realm}/sessions", Realms: bothRealms, handle: (*API).listMySessions},
	{Function: "sessions", Method: http.MethodDelete, Path: "/v1/{realm}/sessions", Realms: bothRealms, handle: (*API).endMyOtherSessions},
	{Function: "sessions", Method: http.MethodDelete, Path: "/v1/{realm}/sessions/{id}", Realms: bothRealms, handle: (*API).endMySession},
	{Function: "password-change", Method: http.MethodPost, Path: "/v1/{realm}/password", Realms: bothRealms, Needs: NeedsPasswordPolicy, handle: (*API).changePassword},
	{Function: "admin-sessions", Method: http.MethodDelete, Path: "/v1/admin/accounts/{accountRealm}/{id}/sessions", handle: (*API).revokeAccountSessions},
	{Function: "admin-sessions", Method: http.MethodDelete, Path: "/v1/admin/accounts/{accountRealm}/{id}/mfa", handle: (*API).clearFactors},
	// The second factor: enrollment and management (the login's second
	// step by a code is the login function's; passkeys are a function of
	// their own, so that no other links go-webauthn).
	{Function: "mfa", Method: http.MethodGet, Path: "/v1/{realm}/mfa", Realms: bothRealms, handle: (*API).getMFA},
	{Function: "mfa", Method: http.MethodPost, Path: "/v1/{realm}/mfa/totp", Realms: bothRealms, Needs: NeedsTOTP, handle: (*API).enrollTOTP},
	{Function: "mfa", Method: http.MethodPost, Path: "/v1/{realm}/mfa/totp/confirm", Realms: bothRealms, Needs: NeedsTOTP, handle: (*API).confirmTOTP},
	{Function: "mfa", Method: http.MethodDelete, Path: "/v1/{realm}/mfa/{id}", Realms: bothRealms, handle: (*API).removeFactor},
	{Function: "mfa", Method: http.MethodPatch, Path: "/v1/{realm}/mfa/{id}", Realms: bothRealms, handle: (*API).renameFactor},
	{Function: "mfa", Method: http.MethodPost, Path: "/v1/{realm}/mfa/recovery-codes", Realms: bothRealms, handle: (*API).newRecoveryCodes},
	{Function: "mfa", Method: http.MethodPost, Path: "/v1/{realm}/reauth", Realms: bothRealms, handle: (*API).reauth},
	{Function: "passkey", Method: http.MethodPost, Path: "/v1/{realm}/mfa/webauthn/options", Realms: bothRealms, Needs: NeedsPasskey, handle: (*API).passkeyRegistrationOptions},
	{Function: "passkey", Method: http.MethodPost, Path: "/v1/{realm}/mfa/webauthn", Realms: bothRealms, Needs: NeedsPasskey, handle: (*API).registerPasskey},
	{Function: "passkey", Method: http.MethodPost, Path: "/v1/{realm}/login/webauthn/options", Realms: bothRealms, Needs: NeedsPasskey, handle: (*API).passkeyLoginOptions},
	{Function: "passkey", Method: http.MethodPost, Path: "/v1/{realm}/login/webauthn", Realms: bothRealms, Needs: NeedsPasskey, handle: (*API).passkeyLogin},
	// Pages: everything API Gateway does not route to the API (its most
	// specific resources win over the greedy {proxy+}).
	{Function: "web", Method: http.MethodGet, Path: "/", Needs: NeedsPages, handle: (*API).page},
	{Function: "web", Method: http.MethodGet, Path: "/{proxy+}", Needs: NeedsPages, handle: (*API).page},
	{LocalOnly: true, Method: http.MethodGet, Path: "/dev/outbox", handle: (*API).devOutbox},
}

// PagesOnly reports whether every route of function serves pages: such a
// function is built without a store, a signing key or a notifier.
func PagesOnly(function string) bool {
	found := false
	for _, r := range Table {
		if r.Function == function {
			if r.Needs != NeedsPages {
				return false
			}
			found = true
		}
	}
	return found
}

// apiSpace reports whether a path's first segment is one of the API's own
// (a route that is not a page has it): a greedy parameter never takes such
// a path.
func apiSpace(first string) bool {
	for _, r := range Table {
		if r.Needs&NeedsPages == 0 && strings.SplitN(strings.TrimPrefix(r.Path, "/"), "/", 2)[0] == first {
			return true
		}
	}
	return false
}

// Functions returns the names of the Lambda functions in the table, in table order.
func Functions() []string {
	var names []string
	seen := map[string]bool{}
	for _, r := range Table {
		if !r.LocalOnly && !seen[r.Function] {
			seen[r.Function] = true
			names = append(names, r.Function)
		}
	}
	return names
}
