package httpapi

import (
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/ekolek/identity/shared/account"
)

type registerRequest struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
	Barangay  string `json:"barangay"`
	Password  string `json:"password"`
	Language  string `json:"language"`
}

// register is POST /v1/resident/register.
func (a *API) register(w http.ResponseWriter, r *http.Request, _ params) error {
	var in registerRequest
	if err := decode(r, &in, false); err != nil {
		return err
	}
	acct, err := a.Accounts.Register(r.Context(), account.Registration(in))
	if err != nil {
		return err
	}
	a.Log.Info("account registered", "request_id", info(r).id, "realm", account.Resident, "account_id", acct.ID, "ip", info(r).ip)
	a.Contact.SendAll(r.Context(), acct)
	writeJSON(w, http.StatusCreated, map[string]any{"account": accountView(acct)})
	return nil
}

// canManageResidents is who may list residents and change their status.
var canManageResidents = []account.Role{account.RoleSuperAdmin, account.RoleOperationsManager}

func (a *API) requireRole(w http.ResponseWriter, r *http.Request, roles []account.Role) (caller, error) {
	c, err := a.authenticate(w, r, account.Admin)
	if err != nil {
		return caller{}, err
	}
	if !slices.Contains(roles, c.account.Role) {
		a.Log.Warn("forbidden", "request_id", info(r).id, "account_id", c.account.ID, "role", c.account.Role, "route", info(r).route)
		return caller{}, errForbidden
	}
	return c, nil
}

// listResidents is GET /v1/admin/residents?status=&limit=&cursor=.
func (a *API) listResidents(w http.ResponseWriter, r *http.Request, _ params) error {
	if _, err := a.requireRole(w, r, canManageResidents); err != nil {
		return err
	}
	q := account.ListQuery{Realm: account.Resident, Limit: 50}
	query := r.URL.Query()
	fields := map[string]string{}
	if s := query.Get("status"); s != "" {
		if !slices.Contains(account.ResidentStatuses, account.Status(s)) {
			fields["status"] = "must be pending, approved, rejected or suspended"
		}
		q.Status = account.Status(s)
	}
	if s := query.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			fields["limit"] = "must be a whole number from 1 to 200"
		}
		q.Limit = n
	}
	q.Cursor = query.Get("cursor")
	if len(q.Cursor) > 2048 {
		fields["cursor"] = "not a cursor from this listing"
	}
	if len(fields) > 0 {
		return errInvalid("Some query parameters are not valid.", fields)
	}
	page, next, err := a.Accounts.List(r.Context(), q)
	if err != nil {
		return err
	}
	out := make([]any, 0, len(page))
	for _, acct := range page {
		out = append(out, accountView(acct))
	}
	resp := map[string]any{"residents": out, "next_cursor": nil}
	if next != "" {
		resp["next_cursor"] = next
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

type statusChangeRequest struct {
	Reason string `json:"reason"`
}

// changeResidentStatus is POST /v1/admin/residents/{id}/{approve|reject|suspend|reactivate}.
func (a *API) changeResidentStatus(w http.ResponseWriter, r *http.Request, p params) error {
	c, err := a.requireRole(w, r, canManageResidents)
	if err != nil {
		return err
	}
	act, ok := account.ParseAction(p["action"])
	if !ok || !account.ValidID(p["id"]) {
		return errNotFound
	}
	var in statusChangeRequest
	if err := decode(r, &in, true); err != nil {
		return err
	}
	if utf8.RuneCountInString(in.Reason) > 500 {
		return errInvalid("The reason is too long.", map[string]string{"reason": "at most 500 characters"})
	}
	acct, prev, ended, err := a.Accounts.ChangeResidentStatus(r.Context(), p["id"], act)
	if err != nil {
		return err
	}
	a.Log.Info("account status changed", "request_id", info(r).id, "realm", account.Resident, "account_id", acct.ID,
		"actor_id", c.account.ID, "from", prev, "to", acct.Status, "sessions_ended", ended)
	writeJSON(w, http.StatusOK, map[string]any{"account": accountView(acct), "sessions_ended": ended})
	return nil
}
