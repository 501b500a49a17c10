package httpapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/password"
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

// changePassword is POST /v1/{realm}/password: the current session stays,
// the account's other sessions end, a notice goes to verified contacts. A
// wrong current password counts toward the login lock of the account's
// identifiers; the new password is judged only once the current one is
// proven.
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
	// The lock comes before any expensive work: a locked caller is refused
	// before the current password is hashed or the new one judged.
	ip := info(r).ip
	ids := lockIdentifiers(c.account)
	if err := a.Guard.BeginPasswordChange(r.Context(), string(realm), ip, ids); err != nil {
		return a.refused(r, realm, c.account.Email, err)
	}
	acct, ended, err := a.Accounts.ChangePassword(r.Context(), c.account, *in.CurrentPassword, *in.NewPassword, []string{c.session.Key})
	var weak *password.WeakError
	if errors.As(err, &weak) {
		// The current password was right (it is checked first), so, like a
		// login refused for the account's status, this is no failure: the
		// attempt the guard admitted is cleared, and weak new passwords
		// never add up to a lock.
		if gerr := a.Guard.PasswordChangeSucceeded(r.Context(), string(realm), ip, ids); gerr != nil {
			return gerr
		}
		return err
	}
	if errors.Is(err, account.ErrInvalidCredentials) {
		for _, id := range ids {
			locked, gerr := a.Guard.LoginFailed(r.Context(), string(realm), id, ip)
			if gerr != nil {
				return gerr
			}
			if locked {
				a.event(r, audit.LoginLocked, realm, c.account.ID, "", map[string]string{"via": "password_change"})
			}
		}
		a.event(r, audit.LoginFailed, realm, c.account.ID, "", map[string]string{"reason": "wrong_current_password"})
		return &apiError{Status: http.StatusBadRequest, Code: "invalid_credentials", Message: "The current password is wrong.",
			Fields: map[string]string{"current_password": "wrong"}}
	}
	if err != nil {
		return err
	}
	// The change has committed: from here nothing may turn the answer into
	// a failure. Clearing the counters is best effort.
	if err := a.Guard.PasswordChangeSucceeded(r.Context(), string(realm), ip, ids); err != nil {
		a.Log.Warn("login counters not cleared after a password change", "request_id", info(r).id, "account_id", acct.ID, "error", err.Error())
	}
	a.event(r, audit.PasswordChanged, realm, acct.ID, "", map[string]string{"sessions_ended": strconv.Itoa(ended)})
	if ended > 0 {
		a.event(r, audit.SessionRevoked, realm, acct.ID, "", map[string]string{"reason": "password_changed", "count": strconv.Itoa(ended)})
	}
	a.Reset.NotifyPasswordChanged(r.Context(), acct)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// lockIdentifiers are the login identifiers of an account, as the login
// lock counts them: a wrong current password counts against each.
func lockIdentifiers(a account.Account) []string {
	var out []string
	for _, id := range a.Identifiers() {
		out = append(out, string(id.Kind)+":"+id.Value)
	}
	return out
}
