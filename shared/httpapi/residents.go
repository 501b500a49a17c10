package httpapi

import (
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
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
	if err := a.Guard.Allow(r.Context(), "register_ip", info(r).ip); err != nil {
		return a.refused(r, account.Resident, in.Email, err)
	}
	acct, err := a.Accounts.Register(r.Context(), account.Registration(in))
	if err != nil {
		return err
	}
	a.event(r, audit.AccountRegistered, account.Resident, acct.ID, acct.Email, nil)
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
		a.Log.Info("forbidden", "request_id", info(r).id, "account_id", c.account.ID, "role", c.account.Role, "route", info(r).route)
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
	a.event(r, audit.AccountStatusChanged, account.Resident, acct.ID, "", map[string]string{
		"actor_id": c.account.ID, "action": string(act), "from": string(prev), "to": string(acct.Status), "reason": in.Reason,
	})
	if ended > 0 {
		a.event(r, audit.SessionRevoked, account.Resident, acct.ID, "", map[string]string{
			"actor_id": c.account.ID, "reason": "account_" + string(acct.Status), "count": strconv.Itoa(ended),
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"account": accountView(acct), "sessions_ended": ended})
	return nil
}
