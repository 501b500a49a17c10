package httpapi

import (
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
)

// listAdmins is GET /v1/admin/admins?status=&limit=&cursor= (super_admin).
func (a *API) listAdmins(w http.ResponseWriter, r *http.Request, _ params) error {
	if _, err := a.requirePermission(w, r, account.ManageAdmins); err != nil {
		return err
	}
	query := r.URL.Query()
	q := account.ListQuery{Realm: account.Admin}
	fields := map[string]string{}
	q.Limit, q.Cursor = pageParams(query, fields, 50)
	if s := query.Get("status"); s != "" {
		if s != string(account.StatusActive) && s != string(account.StatusSuspended) {
			fields["status"] = "must be active or suspended"
		}
		q.Status = account.Status(s)
	}
	if len(fields) > 0 {
		return errInvalid("Some query parameters are not valid.", fields)
	}
	return a.listAccounts(w, r, q, "admins")
}

type newAdminRequest struct {
	Username  string   `json:"username"`
	Email     string   `json:"email"`
	FullName  string   `json:"full_name"`
	Role      string   `json:"role"`
	Barangays []string `json:"barangays"`
}

// createAdmin is POST /v1/admin/admins (super_admin). The new admin has no
// password: an invitation code goes to their email and they set one through
// the reset flow. The response never holds a secret.
func (a *API) createAdmin(w http.ResponseWriter, r *http.Request, _ params) error {
	c, err := a.requirePermission(w, r, account.ManageAdmins)
	if err != nil {
		return err
	}
	var in newAdminRequest
	if err := decode(r, &in, false); err != nil {
		return err
	}
	if len(in.Barangays) > 100 {
		return errInvalid("Too many barangays.", map[string]string{"barangays": "at most 100"})
	}
	acct, err := a.Accounts.CreateAdmin(r.Context(), account.NewAdmin{
		Username: in.Username, Email: in.Email, FullName: in.FullName, Role: in.Role, Barangays: in.Barangays,
	})
	if err != nil {
		return err
	}
	a.event(r, audit.AdminCreated, account.Admin, acct.ID, acct.Email, map[string]string{
		"actor_id": c.account.ID, "role": string(acct.Role),
	})
	invited := true
	if err := a.Reset.Invite(r.Context(), acct); err != nil {
		// The admin exists; a super admin can send a new code with a reset request.
		a.Log.Warn("invitation not sent", "request_id", info(r).id, "account_id", acct.ID, "error", err.Error())
		invited = false
	}
	writeJSON(w, http.StatusCreated, map[string]any{"account": accountView(acct), "invitation_sent": invited})
	return nil
}

type adminChangeRequest struct {
	Role      *string   `json:"role"`
	Status    *string   `json:"status"`
	Barangays *[]string `json:"barangays"`
	FullName  *string   `json:"full_name"`
	Reason    string    `json:"reason"`
}

// updateAdmin is PATCH /v1/admin/admins/{id} (super_admin): role, status,
// barangays, full name. Suspending ends the admin's sessions at once; the
// last active super admin cannot be demoted or suspended.
func (a *API) updateAdmin(w http.ResponseWriter, r *http.Request, p params) error {
	c, err := a.requirePermission(w, r, account.ManageAdmins)
	if err != nil {
		return err
	}
	if !account.ValidID(p["id"]) {
		return errNotFound
	}
	var in adminChangeRequest
	if err := decode(r, &in, false); err != nil {
		return err
	}
	if in.Role == nil && in.Status == nil && in.Barangays == nil && in.FullName == nil {
		return errInvalid("Nothing to change.", map[string]string{"role": "give role, status, barangays or full_name"})
	}
	if utf8.RuneCountInString(in.Reason) > 500 || in.Barangays != nil && len(*in.Barangays) > 100 {
		return errInvalid("Some fields are too long.", map[string]string{"reason": "at most 500 characters; at most 100 barangays"})
	}
	acct, prev, ended, err := a.Accounts.UpdateAdmin(r.Context(), c.account, p["id"], account.AdminChange{
		Role: in.Role, Status: in.Status, Barangays: in.Barangays, FullName: in.FullName, Reason: in.Reason,
	})
	if err != nil {
		return err
	}
	a.event(r, audit.AdminUpdated, account.Admin, acct.ID, "", map[string]string{
		"actor_id": c.account.ID, "from_role": string(prev.Role), "to_role": string(acct.Role),
		"from_status": string(prev.Status), "to_status": string(acct.Status), "reason": in.Reason,
	})
	if ended > 0 {
		a.event(r, audit.SessionRevoked, account.Admin, acct.ID, "", map[string]string{
			"actor_id": c.account.ID, "reason": "account_suspended", "count": strconv.Itoa(ended),
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"account": accountView(acct), "sessions_ended": ended})
	return nil
}

// revokeAccountSessions is DELETE /v1/admin/accounts/{accountRealm}/{id}/sessions
// (super_admin, security_analyst): every session of that account ends at
// once. An admin whose role is above the caller's is 403.
func (a *API) revokeAccountSessions(w http.ResponseWriter, r *http.Request, p params) error {
	c, err := a.requirePermission(w, r, account.RevokeSessions)
	if err != nil {
		return err
	}
	realm := account.Realm(p["accountRealm"])
	if realm != account.Resident && realm != account.Admin || !account.ValidID(p["id"]) {
		return errNotFound
	}
	target, err := a.Accounts.Get(r.Context(), realm, p["id"])
	if err != nil {
		return err
	}
	if !c.account.MayEndSessionsOf(target) {
		return errForbidden
	}
	n, err := a.Sessions.EndAll(r.Context(), realm, p["id"])
	if err != nil {
		return err
	}
	a.event(r, audit.SessionRevoked, realm, p["id"], "", map[string]string{
		"actor_id": c.account.ID, "reason": "revoked_by_admin", "count": strconv.Itoa(n),
	})
	writeJSON(w, http.StatusOK, map[string]int{"revoked": n})
	return nil
}
