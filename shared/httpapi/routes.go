package httpapi

import (
	"net/http"

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
	Path string
	// Realms lists the values the {realm} parameter may take; nil when Path has none.
	Realms []account.Realm
	// LocalOnly routes are served by the local API in local mode only; no
	// Lambda function or template resource has them.
	LocalOnly bool

	handle func(a *API, w http.ResponseWriter, r *http.Request, p params) error
}

var bothRealms = []account.Realm{account.Resident, account.Admin}

// Table is every route of the v1 API.
var Table = []Route{
	{Function: "login", Method: http.MethodPost, Path: "/v1/{realm}/login", Realms: bothRealms, handle: (*API).login},
	{Function: "logout", Method: http.MethodPost, Path: "/v1/{realm}/logout", Realms: bothRealms, handle: (*API).logout},
	{Function: "session", Method: http.MethodGet, Path: "/v1/{realm}/session", Realms: bothRealms, handle: (*API).getSession},
	{Function: "register", Method: http.MethodPost, Path: "/v1/resident/register", handle: (*API).register},
	{Function: "admin-residents", Method: http.MethodGet, Path: "/v1/admin/residents", handle: (*API).listResidents},
	{Function: "admin-residents", Method: http.MethodGet, Path: "/v1/admin/residents/{id}", handle: (*API).getResident},
	{Function: "admin-residents", Method: http.MethodPost, Path: "/v1/admin/residents/{id}/{action}", handle: (*API).changeResidentStatus},
	{Function: "register-verify", Method: http.MethodPost, Path: "/v1/resident/register/verify", handle: (*API).verifyContact},
	{Function: "register-verify", Method: http.MethodPost, Path: "/v1/resident/register/resend", handle: (*API).resendContactCode},
	{Function: "reset-request", Method: http.MethodPost, Path: "/v1/{realm}/password-reset", Realms: bothRealms, handle: (*API).requestReset},
	{Function: "reset-verify", Method: http.MethodPost, Path: "/v1/{realm}/password-reset/verify", Realms: bothRealms, handle: (*API).verifyReset},
	{Function: "reset-confirm", Method: http.MethodPost, Path: "/v1/{realm}/password-reset/confirm", Realms: bothRealms, handle: (*API).confirmReset},
	{Function: "security-events", Method: http.MethodGet, Path: "/v1/admin/security-events", handle: (*API).listEvents},
	{Function: "admin-admins", Method: http.MethodGet, Path: "/v1/admin/admins", handle: (*API).listAdmins},
	{Function: "admin-admins", Method: http.MethodPost, Path: "/v1/admin/admins", handle: (*API).createAdmin},
	{Function: "admin-admins", Method: http.MethodPatch, Path: "/v1/admin/admins/{id}", handle: (*API).updateAdmin},
	{Function: "sessions", Method: http.MethodGet, Path: "/v1/{realm}/sessions", Realms: bothRealms, handle: (*API).listMySessions},
	{Function: "sessions", Method: http.MethodDelete, Path: "/v1/{realm}/sessions", Realms: bothRealms, handle: (*API).endMyOtherSessions},
	{Function: "sessions", Method: http.MethodDelete, Path: "/v1/{realm}/sessions/{id}", Realms: bothRealms, handle: (*API).endMySession},
	{Function: "password-change", Method: http.MethodPost, Path: "/v1/{realm}/password", Realms: bothRealms, handle: (*API).changePassword},
	{Function: "admin-sessions", Method: http.MethodDelete, Path: "/v1/admin/accounts/{accountRealm}/{id}/sessions", handle: (*API).revokeAccountSessions},
	{LocalOnly: true, Method: http.MethodGet, Path: "/dev/outbox", handle: (*API).devOutbox},
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
