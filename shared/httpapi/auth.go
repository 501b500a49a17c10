package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/auth"
	"github.com/ekolek/identity/shared/mfa"
	"github.com/ekolek/identity/shared/session"
)

// caller is the authenticated account of a request.
type caller struct {
	session session.Session
	account account.Account
}

// authenticate checks the realm's session cookie and, for unsafe methods,
// the CSRF header. A dead session clears that realm's cookie only. An account
// that is no longer allowed in (suspended, say) is treated as logged out.
func (a *API) authenticate(w http.ResponseWriter, r *http.Request, realm account.Realm) (caller, error) {
	return a.authenticateWith(w, r, realm, a.Sessions.Check)
}

// sessionCheck is session.Manager's Check, or its Peek, which never
// refreshes the idle deadline.
type sessionCheck func(ctx context.Context, realm account.Realm, token string) (session.Session, account.Account, error)

func (a *API) authenticateWith(w http.ResponseWriter, r *http.Request, realm account.Realm, check sessionCheck) (caller, error) {
	token := a.sessionToken(r, realm)
	if token == "" {
		return caller{}, errUnauthenticated
	}
	if changesState(r.Method) {
		if err := a.requireCSRF(r, realm, token); err != nil {
			return caller{}, err
		}
	}
	s, acct, err := check(r.Context(), realm, token)
	if errors.Is(err, session.ErrExpired) {
		accountID, _, _ := a.Sessions.Identify(r.Context(), realm, token)
		a.event(r, audit.SessionExpired, realm, accountID, "", nil)
	}
	if errors.Is(err, session.ErrUnauthenticated) || errors.Is(err, session.ErrExpired) {
		a.clearSession(w, realm)
		return caller{}, err
	}
	if err != nil {
		return caller{}, err
	}
	if !activeStatus(acct.Status) {
		if _, err := a.Sessions.End(r.Context(), realm, token); err != nil {
			return caller{}, err
		}
		a.event(r, audit.SessionRevoked, realm, acct.ID, "", map[string]string{"reason": "account_" + string(acct.Status)})
		a.clearSession(w, realm)
		return caller{}, errUnauthenticated
	}
	info(r).caller = acct.ID
	return caller{session: s, account: acct}, nil
}

func activeStatus(s account.Status) bool {
	return s == account.StatusApproved || s == account.StatusActive
}

type loginRequest struct {
	Identifier *string `json:"identifier"`
	Password   *string `json:"password" text:"verbatim"`
	// Remember asks for a session cookie that outlives the browser
	// (residents only: setSession).
	Remember *bool `json:"remember"`
}

// login is POST /v1/{realm}/login: the login itself is auth.Service's; a
// limit's refusal is recorded here, as on every route. A right password
// for an account that needs a second step (or must enroll a first factor)
// answers 200 with the mfa_token for it and sets no cookie at all.
func (a *API) login(w http.ResponseWriter, r *http.Request, p params) error {
	realm := p.realm()
	var in loginRequest
	if err := decode(r, &in, false); err != nil {
		return err
	}
	fields := map[string]string{}
	if in.Identifier == nil || *in.Identifier == "" {
		fields["identifier"] = "required"
	} else if len(*in.Identifier) > 254 {
		fields["identifier"] = "at most 254 characters"
	}
	if in.Password == nil || *in.Password == "" {
		fields["password"] = "required"
	}
	if len(fields) > 0 {
		return errInvalid("Identifier and password are required.", fields)
	}
	login := auth.Login{Realm: realm, Identifier: *in.Identifier, Password: *in.Password, Presented: a.sessionToken(r, realm),
		Remember: in.Remember != nil && *in.Remember}
	out, err := a.Auth.Login(r.Context(), info(r).requester(), login)
	if err != nil {
		return a.refused(r, realm, login.Identifier, err)
	}
	if out.Pending() {
		writeMFADue(w, out)
		return nil
	}
	a.signedIn(w, realm, out.SignedIn, nil)
	return nil
}

// writeMFADue answers a login that waits for its second step (with the
// methods the account has) or for a first factor: the mfa_token, and no
// cookie.
func writeMFADue(w http.ResponseWriter, out auth.Outcome) {
	expires := out.MFAToken.ExpiresAt.Format(time.RFC3339)
	if out.Due.Enroll {
		writeJSON(w, http.StatusOK, struct {
			Required  bool   `json:"mfa_enrollment_required"`
			Token     string `json:"mfa_token"`
			ExpiresAt string `json:"expires_at"`
		}{true, out.MFAToken.Value, expires})
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Required  bool         `json:"mfa_required"`
		Token     string       `json:"mfa_token"`
		Methods   []mfa.Method `json:"methods"`
		ExpiresAt string       `json:"expires_at"`
	}{true, out.MFAToken.Value, out.Due.Methods, expires})
}

// signedInJSON is the answer of every route that ends a login: the
// account, its new session and the new CSRF token, and what the second
// factor has to say (a first factor's recovery codes, how many are left
// after one was used, the factor just enrolled).
type signedInJSON struct {
	Account           any         `json:"account"`
	Session           sessionJSON `json:"session"`
	CSRFToken         string      `json:"csrf_token"`
	Factor            *factorJSON `json:"factor,omitempty"`
	RecoveryCodes     []string    `json:"recovery_codes,omitempty"`
	RecoveryCodesLeft *int        `json:"recovery_codes_left,omitempty"`
}

// signedIn sets the cookies of a login that ended with a session (the
// session's and a fresh CSRF token) and answers it; factor is the factor
// the login enrolled, if any.
func (a *API) signedIn(w http.ResponseWriter, realm account.Realm, done auth.SignedIn, factor *factorJSON) {
	csrf := newCSRFToken()
	a.setSession(w, realm, done.Token, done.Session.ExpiresAt, done.Remember)
	a.setCookie(w, a.cookies.csrf, csrf, a.Clock.Now().Add(a.csrfLifetime()), false)
	out := signedInJSON{Account: accountView(done.Account), Session: sessionView(done.Session, true), CSRFToken: csrf,
		Factor: factor, RecoveryCodes: done.RecoveryCodes}
	if done.Session.SecondFactor == string(mfa.MethodRecovery) {
		out.RecoveryCodesLeft = &done.RecoveryLeft
	}
	writeJSON(w, http.StatusOK, out)
}

// csrfLifetime outlives any session: the cookie is shared by both realms.
func (a *API) csrfLifetime() time.Duration {
	return max(a.Sessions.Lifetimes(account.Resident).Absolute, a.Sessions.Lifetimes(account.Admin).Absolute)
}

// logout is POST /v1/{realm}/logout: idempotent, and only this realm's cookie goes.
func (a *API) logout(w http.ResponseWriter, r *http.Request, p params) error {
	realm := p.realm()
	token := a.sessionToken(r, realm)
	if token != "" {
		if err := a.requireCSRF(r, realm, token); err != nil {
			return err
		}
		accountID, err := a.Sessions.End(r.Context(), realm, token)
		if err != nil {
			return err
		}
		if accountID != "" {
			a.event(r, audit.Logout, realm, accountID, "", nil)
		}
		a.clearSession(w, realm)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// getSession is GET /v1/{realm}/session. With ?peek=1 it looks at the
// session without refreshing its idle deadline: pages check in the
// background that way, so that only what a person does keeps a session
// alive.
func (a *API) getSession(w http.ResponseWriter, r *http.Request, p params) error {
	check := a.Sessions.Check
	var q url.Values
	if r.URL.RawQuery != "" {
		// Most checks have no query; parsing none still makes a map.
		q = r.URL.Query()
	}
	switch v, ok := q["peek"]; {
	case !ok:
	case len(v) == 1 && v[0] == "1":
		check = a.Sessions.Peek
	default:
		return errInvalid("peek, when given, must be 1.", map[string]string{"peek": `must be "1"`})
	}
	c, err := a.authenticateWith(w, r, p.realm(), check)
	if err != nil {
		return err
	}
	// An admin's answer says what the role may do, so the console shows
	// only that (account.Role.Permissions, the one matrix).
	var perms []account.Permission
	if c.account.Realm == account.Admin {
		perms = c.account.Role.Permissions()
	}
	// {account: accountView, session: sessionView, permissions}, written
	// without reflection (answer.go).
	writeSessionAnswer(w, c.account, c.session, perms)
	return nil
}
