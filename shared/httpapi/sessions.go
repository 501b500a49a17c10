package httpapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/auth"
)

// listMySessions is GET /v1/{realm}/sessions: the caller's live sessions,
// by their public handles.
func (a *API) listMySessions(w http.ResponseWriter, r *http.Request, p params) error {
	c, err := a.authenticate(w, r, p.realm())
	if err != nil {
		return err
	}
	live, err := a.Sessions.Active(r.Context(), p.realm(), c.account.ID)
	if err != nil {
		return err
	}
	out := make([]sessionJSON, 0, len(live))
	for _, s := range live {
		out = append(out, sessionView(s, s.Key == c.session.Key))
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
	return nil
}

// endMySession is DELETE /v1/{realm}/sessions/{id}: one of mine (204); any
// other id, someone else's included, is 404. Ending the current one is a
// logout.
func (a *API) endMySession(w http.ResponseWriter, r *http.Request, p params) error {
	realm := p.realm()
	c, err := a.authenticate(w, r, realm)
	if err != nil {
		return err
	}
	if len(p["id"]) != 64 {
		return errNotFound
	}
	if err := a.Sessions.EndOne(r.Context(), realm, c.account.ID, p["id"]); err != nil {
		return err
	}
	if p["id"] == c.session.Key {
		a.clearSession(w, realm)
	}
	a.event(r, audit.SessionRevoked, realm, c.account.ID, "", map[string]string{"reason": "ended_by_owner", "count": "1"})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// endMyOtherSessions is DELETE /v1/{realm}/sessions: all mine but this one.
func (a *API) endMyOtherSessions(w http.ResponseWriter, r *http.Request, p params) error {
	realm := p.realm()
	c, err := a.authenticate(w, r, realm)
	if err != nil {
		return err
	}
	n, err := a.Sessions.EndOthers(r.Context(), realm, c.account.ID, c.session.Key)
	if err != nil {
		return err
	}
	if n > 0 {
		a.event(r, audit.SessionRevoked, realm, c.account.ID, "", map[string]string{"reason": "ended_by_owner", "count": strconv.Itoa(n)})
	}
	writeJSON(w, http.StatusOK, map[string]int{"revoked": n})
	return nil
}

type passwordChangeRequest struct {
	CurrentPassword *string `json:"current_password" text:"verbatim"`
	NewPassword     *string `json:"new_password" text:"verbatim"`
}

// changePassword is POST /v1/{realm}/password (auth.Service.ChangePassword):
// the current session stays, the account's other sessions end. A wrong
// current password is 400, not 401, which would read as "logged out".
func (a *API) changePassword(w http.ResponseWriter, r *http.Request, p params) error {
	realm := p.realm()
	c, err := a.authenticate(w, r, realm)
	if err != nil {
		return err
	}
	var in passwordChangeRequest
	if err := decode(r, &in, false); err != nil {
		return err
	}
	fields := map[string]string{}
	if in.CurrentPassword == nil || *in.CurrentPassword == "" {
		fields["current_password"] = "required"
	}
	if in.NewPassword == nil || *in.NewPassword == "" {
		fields["new_password"] = "required"
	}
	if len(fields) > 0 {
		return errInvalid("Give the current and the new password.", fields)
	}
	err = a.Auth.ChangePassword(r.Context(), info(r).requester(), auth.PasswordChange{
		Account: c.account, Keep: c.session.Key, Current: *in.CurrentPassword, New: *in.NewPassword,
	})
	if errors.Is(err, account.ErrInvalidCredentials) {
		return &apiError{Status: http.StatusBadRequest, Code: "invalid_credentials", Message: "The current password is wrong.",
			Fields: map[string]string{"current_password": "wrong"}}
	}
	if err != nil {
		return a.refused(r, realm, c.account.Email, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
