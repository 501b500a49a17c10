package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/mfa"
	"github.com/ekolek/identity/shared/throttle"
)

// The routes after a login's password: its second step by a code, and the
// passkey routes (function passkey, the only one that links go-webauthn):
// registering a passkey, and a passkey as a second step or alone.

// maxMFAToken bounds the mfa_token a client sends back (one of ours is
// about 250 bytes).
const maxMFAToken = 1024

// checkMFAToken names what is wrong with a given mfa_token, in fields.
func checkMFAToken(tok *string, fields map[string]string) {
	switch {
	case tok == nil || *tok == "":
		fields["mfa_token"] = "required: the token the login answered with"
	case len(*tok) > maxMFAToken:
		fields["mfa_token"] = "not a token this service gave"
	}
}

type loginMFARequest struct {
	MFAToken *string `json:"mfa_token"`
	Method   *string `json:"method"`
	Code     *string `json:"code"`
}

// loginMFA is POST /v1/{realm}/login/mfa {mfa_token, method, code}: the
// second step of a login by a TOTP code or a recovery code. It ends like a
// login: 200, the session and its cookies.
func (a *API) loginMFA(w http.ResponseWriter, r *http.Request, p params) error {
	realm := p.realm()
	var in loginMFARequest
	if err := decode(r, &in, false); err != nil {
		return err
	}
	fields := map[string]string{}
	checkMFAToken(in.MFAToken, fields)
	if in.Method == nil || (*in.Method != string(mfa.MethodTOTP) && *in.Method != string(mfa.MethodRecovery)) {
		fields["method"] = "must be totp or recovery (a passkey has routes of its own)"
	}
	if in.Code == nil || *in.Code == "" {
		fields["code"] = "required"
	} else if len(*in.Code) > 64 {
		fields["code"] = "at most 64 characters"
	}
	if len(fields) > 0 {
		return errInvalid("Give the sign-in's mfa_token, the method and the code.", fields)
	}
	done, err := a.Auth.SecondStep(r.Context(), info(r).requester(), realm, *in.MFAToken, mfa.Method(*in.Method), *in.Code, a.sessionToken(r, realm))
	if err != nil {
		return a.refused(r, realm, "", err)
	}
	a.signedIn(w, realm, done, nil)
	return nil
}

// errInvalidCredential answers a passkey's answer that is refused, as a
// second step (its try counted) or alone.
var errInvalidCredential = &apiError{Status: http.StatusBadRequest, Code: "invalid_credential",
	Message: "The passkey's answer was not accepted. Try again, or use another way to sign in."}

// passkeyErr maps a passkey route's error: a refused answer is
// invalid_credential whether or not it counted as a wrong second step.
func passkeyErr(err error) error {
	if errors.Is(err, mfa.ErrInvalidCredential) || errors.Is(err, mfa.ErrInvalidCode) {
		return errInvalidCredential
	}
	return err
}

type passkeyOptionsRequest struct {
	MFAToken *string `json:"mfa_token"`
}

// passkeyRegistrationOptions is POST /v1/{realm}/mfa/webauthn/options
// {mfa_token?}: the options for navigator.credentials.create, for the
// signed-in caller or the account of an enrollment mfa_token (a first
// factor). The challenge is stored for 5 minutes and answered once.
func (a *API) passkeyRegistrationOptions(w http.ResponseWriter, r *http.Request, p params) error {
	var in passkeyOptionsRequest
	if err := decode(r, &in, true); err != nil {
		return err
	}
	acct, err := a.enrolling(w, r, p.realm(), in.MFAToken)
	if err != nil {
		return err
	}
	opts, err := a.Passkeys.RegistrationOptions(r.Context(), acct)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, opts)
	return nil
}

type registerPasskeyRequest struct {
	Credential json.RawMessage `json:"credential" text:"verbatim"`
	Name       *string         `json:"name"`
	MFAToken   *string         `json:"mfa_token"`
}

// registerPasskey is POST /v1/{realm}/mfa/webauthn {credential, name,
// mfa_token?}: the browser's answer to the registration options makes a
// passkey factor (active at once: the ceremony proved the authenticator
// holds it); the account's first factor comes with its recovery codes.
// Under an enrollment mfa_token it ends the login that asked for it, as
// POST mfa/totp/confirm does.
func (a *API) registerPasskey(w http.ResponseWriter, r *http.Request, p params) error {
	realm := p.realm()
	var in registerPasskeyRequest
	if err := decode(r, &in, false); err != nil {
		return err
	}
	c, err := a.signedInUnless(w, r, realm, in.MFAToken)
	if err != nil {
		return err
	}
	if len(in.Credential) == 0 || in.Credential[0] != '{' {
		return errInvalid("Give the browser's credential.", map[string]string{"credential": "required: the PublicKeyCredential, as JSON"})
	}
	name, err := factorName(in.Name)
	if err != nil {
		return err
	}
	if in.MFAToken != nil {
		done, err := a.Auth.RegisterFirstPasskey(r.Context(), info(r).requester(), realm, *in.MFAToken, name, in.Credential, a.sessionToken(r, realm))
		if err != nil {
			return passkeyErr(err)
		}
		a.signedIn(w, realm, done, new(factorView(done.Enrolled)))
		return nil
	}
	done, err := a.Passkeys.Register(r.Context(), c.account, name, in.Credential, nil)
	if err != nil {
		return passkeyErr(err)
	}
	a.event(r, audit.MFAEnrolled, realm, c.account.ID, "", map[string]string{"type": string(mfa.WebAuthn), "factor_id": done.Factor.ID})
	writeEnrolled(w, done)
	return nil
}

// passkeyLoginOptions is POST /v1/{realm}/login/webauthn/options
// {mfa_token?}: the options for navigator.credentials.get, for the second
// step of the login whose mfa_token is given (offering the account's
// passkeys), or without one for a login by a passkey alone (the browser
// offers the discoverable credentials it holds for this site; user
// verification required). Anyone may ask, and each answer stores a
// challenge: it is limited per IP (throttle.PasskeyIP).
func (a *API) passkeyLoginOptions(w http.ResponseWriter, r *http.Request, p params) error {
	realm := p.realm()
	var in passkeyOptionsRequest
	if err := decode(r, &in, true); err != nil {
		return err
	}
	tok := ""
	if in.MFAToken != nil {
		fields := map[string]string{}
		if checkMFAToken(in.MFAToken, fields); len(fields) > 0 {
			return errInvalid("The mfa_token is not valid.", fields)
		}
		tok = *in.MFAToken
	}
	if err := a.Guard.Allow(r.Context(), throttle.PasskeyIP, info(r).ip); err != nil {
		return a.refused(r, realm, "", err)
	}
	opts, err := a.Passkeys.LoginOptions(r.Context(), realm, tok)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, opts)
	return nil
}

type passkeyLoginRequest struct {
	Credential json.RawMessage `json:"credential" text:"verbatim"`
	MFAToken   *string         `json:"mfa_token"`
	// Remember is "keep me signed in" for a passkey-only login (a second
	// step keeps its login's).
	Remember *bool `json:"remember"`
}

// passkeyLogin is POST /v1/{realm}/login/webauthn {credential, mfa_token?,
// remember?}: the browser's answer to the login options. With the login's
// mfa_token it is that login's second step (a refused answer counts as a
// wrong code); without one, a login by the passkey alone, marked as having
// passed a second factor (docs/decisions.md). Either ends like a login.
func (a *API) passkeyLogin(w http.ResponseWriter, r *http.Request, p params) error {
	realm := p.realm()
	var in passkeyLoginRequest
	if err := decode(r, &in, false); err != nil {
		return err
	}
	fields := map[string]string{}
	if len(in.Credential) == 0 || in.Credential[0] != '{' {
		fields["credential"] = "required: the PublicKeyCredential, as JSON"
	}
	tok := ""
	if in.MFAToken != nil {
		checkMFAToken(in.MFAToken, fields)
		tok = *in.MFAToken
	}
	if len(fields) > 0 {
		return errInvalid("Give the browser's credential.", fields)
	}
	done, err := a.Auth.PasskeyLogin(r.Context(), info(r).requester(), realm, tok, in.Credential, a.sessionToken(r, realm), in.Remember != nil && *in.Remember)
	if tok == "" && errors.Is(err, mfa.ErrInvalidCredential) {
		// Nobody's lock to count it toward, and anyone can send one: a
		// stranger's event, folded.
		a.strangerEvent(r, audit.MFAFailed, realm, "", map[string]string{"method": string(mfa.MethodWebAuthn), "passkey_only": "true"})
	}
	if err != nil {
		return a.refused(r, realm, "", passkeyErr(err))
	}
	a.signedIn(w, realm, done, nil)
	return nil
}

// clearFactors is DELETE /v1/admin/accounts/{accountRealm}/{id}/mfa (super
// admins): every factor and recovery code of the account goes and its
// sessions end, as one change; an admin who must have a factor enrolls one
// again at the next login. Nobody clears their own (409
// cannot_change_self): that would be a way around the step-up that removal
// needs.
func (a *API) clearFactors(w http.ResponseWriter, r *http.Request, p params) error {
	c, err := a.requirePermission(w, r, account.ClearFactors)
	if err != nil {
		return err
	}
	realm := account.Realm(p["accountRealm"])
	if realm != account.Resident && realm != account.Admin || !account.ValidID(p["id"]) {
		return errNotFound
	}
	if realm == account.Admin && p["id"] == c.account.ID {
		return account.ErrChangeSelf
	}
	done, err := a.MFA.ClearFactors(r.Context(), realm, p["id"])
	if err != nil {
		return err
	}
	a.event(r, audit.MFACleared, realm, p["id"], "", map[string]string{
		"actor_id": c.account.ID, "factors": strconv.Itoa(len(done.Factors)), "sessions_ended": strconv.Itoa(done.SessionsEnded),
	})
	writeJSON(w, http.StatusOK, map[string]int{"factors_removed": len(done.Factors), "sessions_ended": done.SessionsEnded})
	return nil
}
